"""What the NGO's staff and its event handlers do: one function each,
taking plain values and the caller's identity."""
import calendar
from datetime import date

from setiakawan_kit import errors

from . import storage

MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
          "November", "Desember")
#: the package the NGO adds to a poor household's month (in kind, food)
PACKAGE = [{"item": "beras", "quantity": "5", "unit": "kg"},
           {"item": "telur ayam", "quantity": "10", "unit": "butir"},
           {"item": "minyak goreng", "quantity": "1", "unit": "l"}]


def remember_household(uow, household, district):
    """A household of the registry, kept if it lives in the NGO's district."""
    if household["regency_code"] != district and not household["village_code"].startswith(district + "."):
        return False
    head = next((m["person_ref"] for m in household["members"] if m["relationship"] == "head"), None)
    storage.remember_household(uow, household, head)
    return True


def remember_entitlement(uow, entitlement, blocked_by=None):
    """The distribution service's word on an entitlement of one of our
    top-ups; ``blocked_by``: the benefit that holds the household's month."""
    if storage.is_our_programme(uow, entitlement["programme_id"]):
        storage.remember_entitlement(uow, entitlement, blocked_by)


def start_top_up(db, distribution, identity, month, packages, decile_at_most, district, warehouse_village):
    """Create the top-up (a draft), receive its packages into the NGO's warehouse (a distribution
    point in Setiakawan, made the first time) and activate it (a refusal frees the month again):
    every verified household of the district at or under the decile
    is owed a package, unless another agency already gives it food that
    month (the ledger blocks it, and tells both)."""
    if identity.role != "admin":
        raise errors.OutOfScope("Only the NGO's admin starts a top-up")
    first = date.fromisoformat(month + "-01")
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    with db.transaction() as uow:
        if storage.top_up_for(uow, month):
            raise errors.Conflict(f"The top-up of {month} is already running")
        store = storage.warehouse(uow)
    if store is None:
        point = distribution.create_point({"name": "Gudang Yayasan Wahana Peduli", "kind": "warehouse",
                                           "village_code": warehouse_village})
        with db.transaction() as uow:
            storage.add_warehouse(uow, point["id"], warehouse_village)
        store = {"point_id": point["id"]}
    name = f"Tambahan Pangan Wahana Peduli {MONTHS[first.month - 1]} {first.year}"
    programme = distribution.create_programme({
        "name": name, "funding_source": "ngo", "kind": "in_kind", "category": "food", "items": PACKAGE,
        "period": {"starts_on": first.isoformat(), "ends_on": last.isoformat()}, "region_codes": [district],
        "rule": f"household.verified && household.decile <= {int(decile_at_most)}", "stacks": False,
        "quota": packages, "point_id": str(store["point_id"])})
    with db.transaction() as uow:  # known before its entitlements' events can arrive
        storage.add_top_up(uow, programme["id"], month, name, packages)
    try:
        for item in PACKAGE:
            distribution.move_stock(store["point_id"], {
                "move": "received", "item": item["item"], "unit": item["unit"],
                "quantity": str(int(item["quantity"]) * packages), "reference": name})
        active = distribution.activate(programme["id"])
    except errors.Conflict:
        # refused: the month is free again (the draft stays a draft in Setiakawan, owed to nobody)
        with db.transaction() as uow:
            storage.forget_top_up(uow, programme["id"])
        raise
    with db.transaction() as uow:
        storage.record_activation(uow, programme["id"], active["issued"], active["blocked"])
    return {"programme_id": programme["id"], "month": month, "name": name, "packages": packages,
            "issued": active["issued"], "blocked": active["blocked"]}


def households(db, identity, village_code=None):
    with db.transaction() as uow:
        return storage.households(uow, village_code)


def record_delivery(db, distribution, identity, household_id, month, nik, delivered_at, idempotency_key):
    """A package handed over: recorded in Setiakawan (which checks the NIK
    on the collector's KTP with the registry and keeps it nowhere) and here.
    A request sent again with its key records once."""
    with db.transaction() as uow:
        done = storage.delivery(uow, idempotency_key)
        if done:
            return {"entitlement_id": str(done["entitlement_id"]), "status": "delivered", "repeated": True}
        owed = storage.entitlement_to_deliver(uow, str(household_id), month)
    if owed is None:
        raise errors.NotFound(f"No top-up of {month} for this household")
    if owed["status"] == "blocked":
        raise errors.Conflict("Another agency gives this household its food this month; nothing to hand over")
    handed = distribution.deliver(owed["entitlement_id"], {
        "idempotency_key": idempotency_key, "recipient_ref": str(owed["head_ref"]), "nik": nik,
        "delivered_at": delivered_at.isoformat(), "village_code": owed["village_code"]})
    with db.transaction() as uow:
        storage.add_delivery(uow, idempotency_key, owed["entitlement_id"], delivered_at)
    return {"entitlement_id": str(owed["entitlement_id"]), "status": handed["entitlement"]["status"],
            "repeated": False}
