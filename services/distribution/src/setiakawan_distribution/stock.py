"""Use cases of distribution points and their stock: a point is its
agency's; its staff record stock received, allocated and returned;
deliveries take items out. Stock never goes below zero (the table's checks,
under any concurrency); a point that falls under an item's threshold is
told once, by ``stock.low``."""
import uuid
from decimal import Decimal

import psycopg2.errors

from setiakawan_contract import distribution as contract
from setiakawan_kit.auth import region_patterns
from setiakawan_kit.errors import Conflict, OutOfScope, RuleBroken

from . import lookup, snapshots
from .rules import access, stock as rules
from .storage import stock as storage

VERBS = {"received": "receive", "allocated": "allocate", "returned": "take back"}


def create_point(uow, identity, body):
    if not identity.covers(body["village_code"]):
        raise OutOfScope(f"{body['village_code']} is outside the regions of {identity.agency}.")
    if identity.role not in access.MANAGE_ROLES:
        raise OutOfScope("An admin or operator sets up distribution points.")
    return storage.insert_point(uow, {"id": str(uuid.uuid4()), "agency": identity.agency, "name": body["name"].strip(),
                                      "kind": body["kind"], "village_code": body["village_code"]})


def points(uow, identity):
    return storage.points(uow, identity.agency, region_patterns(identity.regions))


def read_point(uow, identity, point_id):
    point = lookup.point(uow, identity, point_id)
    return dict(point, stock=storage.levels(uow, point_id))


def record_move(uow, identity, point_id, body):
    """Stock received, allocated or returned at the caller's point."""
    point = lookup.managed_point(uow, identity, point_id)
    quantity = Decimal(str(body["quantity"]))
    line = storage.ensure_item(uow, point_id, body["item"], body["unit"], body.get("low_threshold"))
    if line["unit"] != body["unit"]:
        raise RuleBroken(f"{body['item']} is counted in {line['unit']} at this point, not {body['unit']}.",
                         field="unit")
    on_hand, allocated = rules.EFFECTS[body["move"]]
    try:
        after = _move(uow, identity, point, body["item"], on_hand * quantity, allocated * quantity, body["move"],
                      quantity, reference=body.get("reference"))
    except psycopg2.errors.CheckViolation:
        raise Conflict(f"{point['name']} cannot {VERBS[body['move']]} {rules.decimal_text(quantity)} {line['unit']} of "
                       f"{body['item']}: it holds {rules.decimal_text(line['on_hand'])}, "
                       f"{rules.decimal_text(line['allocated'])} of it allocated.", item=body["item"]) from None
    if body["move"] == "received":
        uow.publish(contract.STOCK_RECEIVED, str(point_id),
                    dict(snapshots.stock_level(point, after), quantity=rules.decimal_text(quantity),
                         reference=body.get("reference")))
    return dict(point, stock=storage.levels(uow, point_id))


def deliver_item(uow, identity, point, item, quantity, entitlement_id):
    """A delivery's item leaves the point: from what was allocated first.
    Raises CheckViolation (or Conflict) when the point does not hold it."""
    line = storage.level(uow, point["id"], item, lock=True) if point else None
    if line is None:
        raise Conflict(f"{point['name'] if point else 'No point'} holds no {item}.", item=item)
    taken = rules.delivered_allocation(line["allocated"], quantity)
    _move(uow, identity, point, item, -quantity, -taken, "delivered", quantity, entitlement_id=entitlement_id)


def _move(uow, identity, point, item, on_hand_change, allocated_change, kind, quantity, entitlement_id=None,
          reference=None):
    after = storage.move(uow, point["id"], item, on_hand_change, allocated_change, kind, quantity, identity.agency,
                         entitlement_id=entitlement_id, reference=reference)
    before = (after["on_hand_before"], after["allocated_before"])
    if rules.became_low(before, (after["on_hand"], after["allocated"]), after["low_threshold"]):
        uow.publish(contract.STOCK_LOW, str(point["id"]),
                    dict(snapshots.stock_level(point, after), threshold=rules.decimal_text(after["low_threshold"])))
    return after
