"""Finding a programme, an entitlement or a point as the caller may see it:
one answer, 404, for what does not exist and what the caller may not see."""
from setiakawan_kit.errors import NotFound, OutOfScope

from .rules import access
from .storage import entitlements as entitlement_storage, programmes as programme_storage, stock as stock_storage


def programme(uow, identity, programme_id, lock=False):
    row = programme_storage.programme(uow, programme_id, lock=lock)
    if row is None or not access.sees_programme(identity, row):
        raise NotFound(f"No programme {programme_id} you may see.")
    return row


def managed_programme(uow, identity, programme_id):
    """The programme, locked, if the caller's agency owns it."""
    row = programme(uow, identity, programme_id, lock=True)
    if not access.manages(identity, row):
        raise OutOfScope(f"Only the owner, {row['agency']}, may change this programme (its admin or operator).")
    return row


def entitlement(uow, identity, entitlement_id, lock=False):
    return visible_entitlement(identity, entitlement_storage.entitlement(uow, entitlement_id, lock=lock),
                               entitlement_id)


def visible_entitlement(identity, row, entitlement_id):
    """``row`` (an entitlement read already, or None) if the caller may see it."""
    if row is None or not access.sees_beneficiary(identity, row, row["village_code"]):
        raise NotFound(f"No entitlement {entitlement_id} you may see.")
    return row


def point(uow, identity, point_id):
    row = stock_storage.point(uow, point_id)
    if row is None or not (row["agency"] == identity.agency or identity.covers(row["village_code"])):
        raise NotFound(f"No distribution point {point_id} you may see.")
    return row


def managed_point(uow, identity, point_id):
    row = point(uow, identity, point_id)
    if row["agency"] != identity.agency or identity.role not in access.WRITE_ROLES:
        raise OutOfScope(f"Only {row['agency']}'s staff move stock at this point.")
    return row
