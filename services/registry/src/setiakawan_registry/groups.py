"""Community groups (KUBE business groups, Karang Taruna youth groups,
LKS social welfare institutions) that receive grants or training as a whole."""
import uuid

from setiakawan_kit.auth import require_region
from setiakawan_contract import registry as contract
from setiakawan_kit.problems import not_found

from . import personal_data, storage
from .households import paged, rule_problem
from .rules import disclosure, households as hh


def _snapshot(row, member_refs):
    village = row["village_code"]
    return {"group_id": str(row["id"]), "version": row["version"], "name": row["name"], "kind": row["kind"],
            "village_code": village, "district_code": village[:8], "regency_code": village[:5],
            "status": row["status"], "member_refs": [str(r) for r in member_refs],
            "registering_agency": row["registering_agency"]}


def _check_members(uow, identity, person_refs):
    found = {str(r["id"]): r for r in storage.current_members(uow, person_refs)}
    missing = [str(p) for p in person_refs if str(p) not in found or not identity.covers(found[str(p)]["village_code"])]
    if missing:
        raise rule_problem(hh.RuleViolation(
            f"Unknown or out-of-scope person references: {', '.join(missing[:5])}.", field="member_refs"))
    return sorted({str(p) for p in person_refs})


def detail(uow, row):
    return dict(row, member_refs=storage.group_member_refs(uow, row["id"]))


def load(uow, identity, group_id, lock=False):
    row = storage.group(uow, group_id, lock=lock)
    if row is None or not identity.covers(row["village_code"]):
        raise not_found(f"No group {group_id} in your regions.")
    return row


def history(uow, identity, group_id, query):
    """Who changed a group, what and when: oldest first, a page at a time.
    Its entries hold no member's details; free text in them is shown as
    the disclosure policy allows all the same."""
    load(uow, identity, group_id)
    page = paged(query, lambda limit, offset: storage.history(uow, group_id, limit, offset))
    shown = personal_data.level(identity)
    return dict(page, items=[disclosure.history_entry(e, shown) for e in page["items"]], disclosure=shown)


def register(uow, identity, body):
    require_region(identity, body["village_code"])
    refs = _check_members(uow, identity, body["member_refs"])
    row = {"id": str(uuid.uuid4()), "name": body["name"].strip(), "kind": body["kind"],
           "village_code": body["village_code"], "registering_agency": identity.agency}
    storage.insert_group(uow, row)
    storage.set_group_members(uow, row["id"], refs)
    storage.record(uow, "group", row["id"], None, "registered", identity,
                   {"name": row["name"], "kind": row["kind"], "members": len(refs)})
    stored = storage.group(uow, row["id"])
    uow.publish(contract.GROUP_REGISTERED, row["id"], {"group": _snapshot(stored, refs)})
    return detail(uow, stored)


def update(uow, identity, group_id, body):
    before = load(uow, identity, group_id, lock=True)
    fields = {k: body[k] for k in ("name", "status") if k in body}
    refs = storage.group_member_refs(uow, group_id)
    if "member_refs" in body:
        refs = _check_members(uow, identity, body["member_refs"])
        storage.set_group_members(uow, group_id, refs)
    after = storage.update_group(uow, group_id, **fields)
    storage.record(uow, "group", group_id, None, "updated", identity,
                   dict(hh.changes(before, after, ("name", "status")), members=len(refs)))
    uow.publish(contract.GROUP_UPDATED, str(group_id), {"group": _snapshot(after, refs)})
    return detail(uow, after)
