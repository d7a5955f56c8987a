"""Use case of a field officer: hand a benefit over. The NIK shown is
checked with the registry and kept nowhere; a request retried with the same
key delivers once; a delivery recorded offline keeps its own time."""
import uuid
from datetime import datetime, timezone
from decimal import Decimal

import psycopg2.errors

from setiakawan_contract import distribution as contract
from setiakawan_kit.errors import Conflict, OutOfScope, RuleBroken

from . import lookup, snapshots, stock
from .rules import access, delivery as rules
from .storage import deliveries as storage

KEY_USED = "This idempotency key was used for another entitlement's delivery."


def deliver(uow, identity, entitlement_id, body, nik_belongs_to):
    """Record the handover of an entitlement; ``nik_belongs_to(nik,
    person_ref)`` asks the registry. Returns (delivery, entitlement, created)."""
    row = storage.before_handover(uow, entitlement_id, identity.agency, body["idempotency_key"],
                                  body["recipient_ref"])
    if row["done_id"] is not None:
        return _retried(uow, identity, entitlement_id, body["idempotency_key"])
    lookup.visible_entitlement(identity, row if row["id"] is not None else None, entitlement_id)
    _check(identity, row, body)
    if not nik_belongs_to(body["nik"], str(body["recipient_ref"])):
        raise RuleBroken("The NIK shown is not the recipient's.", field="nik")
    # no lock was held while asking: the statement that records marks the entitlement only if it is still
    # issued (not if it was revoked meanwhile, or delivered by a request racing this one)
    point_id = body.get("point_id") or row.get("point_id")
    now, delivery = storage.record(uow, {
        "id": str(uuid.uuid4()), "entitlement_id": str(entitlement_id), "idempotency_key": body["idempotency_key"],
        "officer_agency": identity.agency, "recipient_ref": str(body["recipient_ref"]),
        "delivered_at": body["delivered_at"], "village_code": body["village_code"],
        "latitude": body.get("latitude"), "longitude": body.get("longitude"),
        "photo_sha256": body.get("photo_sha256"), "point_id": point_id and str(point_id)})
    if delivery is None:
        if now is not None:  # marked, but the agency's key is another entitlement's delivery: raising undoes it
            raise Conflict(KEY_USED)
        if storage.by_key(uow, identity.agency, body["idempotency_key"]) is not None:
            # the same request, retried while this one asked the registry
            return _retried(uow, identity, entitlement_id, body["idempotency_key"])
        status = lookup.entitlement(uow, identity, entitlement_id)["status"]
        raise Conflict(f"The entitlement is {status}; only an issued one is delivered.", entitlement_status=status)
    row = dict(row, **now)
    _take_items(uow, identity, row, point_id)
    uow.publish(contract.AID_DELIVERED, str(row["beneficiary_id"]),
                {"entitlement": snapshots.entitlement(row), "delivery": delivery_snapshot(delivery)})
    return delivery, row, True


def _retried(uow, identity, entitlement_id, idempotency_key):
    """The delivery the caller's agency recorded under the key, answered again."""
    done = storage.by_key(uow, identity.agency, idempotency_key)
    if str(done["entitlement_id"]) != str(entitlement_id):
        raise Conflict(KEY_USED)
    return done, lookup.entitlement(uow, identity, entitlement_id), False


def _check(identity, row, body):
    if not access.delivers(identity, row, row["village_code"]):
        raise OutOfScope("Only field staff of the programme's agency or partners, or of an agency covering the "
                         "beneficiary's village, hand its aid over.")
    if row["status"] != "issued":
        raise Conflict(f"The entitlement is {row['status']}; only an issued one is delivered.",
                       entitlement_status=row["status"])
    late = rules.check_time(body["delivered_at"], datetime.now(timezone.utc), row["starts_on"])
    if late:
        raise RuleBroken(late, field="delivered_at")
    if row["beneficiary_kind"] == "household":
        allowed, why = rules.may_collect(row["member"])
    else:
        allowed, why = row["in_group"], "The recipient is not a member of the group."
    if not allowed:
        raise RuleBroken(why, field="recipient_ref")
    if row["items"] and not (body.get("point_id") or row.get("point_id")):
        raise RuleBroken("Items are handed over from a distribution point: name it (point_id).", field="point_id")


def _take_items(uow, identity, row, point_id):
    """The programme's items leave the point's stock (never below zero)."""
    if not row["items"]:
        return
    point = lookup.point(uow, identity, point_id) if point_id else None
    for item in row["items"]:
        try:
            stock.deliver_item(uow, identity, point, item["item"], Decimal(str(item["quantity"])), row["id"])
        except psycopg2.errors.CheckViolation:
            raise Conflict(f"{point['name']} does not hold {item['quantity']} {item['unit']} of {item['item']}.",
                           item=item["item"]) from None


def delivery_snapshot(row):
    return {"delivery_id": str(row["id"]), "delivered_at": row["delivered_at"], "village_code": row["village_code"],
            "latitude": row["latitude"], "longitude": row["longitude"], "photo_sha256": row["photo_sha256"],
            "point_id": row["point_id"] and str(row["point_id"]), "recipient_ref": str(row["recipient_ref"]),
            "officer_agency": row["officer_agency"]}
