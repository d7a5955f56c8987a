"""Likely duplicates under review: an officer merges or dismisses them."""
from setiakawan_contract import registry as contract
from setiakawan_kit.problems import conflict, not_found

from . import households, personal_data, storage
from .rules import disclosure

CANDIDATE_FIELDS = ("id", "member_id", "other_id", "similarity", "reason", "status", "resolved_by", "resolved_at",
                    "resolution_note", "created_at", "household_id", "other_household_id", "village_code",
                    "other_village_code")


def list_open(uow, identity, audit, query):
    """Likely duplicates either of whose members lies in the caller's
    regions, each with its two members (``member``, the newer, and
    ``other``) as the caller may see them; a member outside the caller's
    regions shows its reference, household and village only. One access
    log row per member shown."""
    page = households.paged(query, lambda limit, offset: storage.candidates(
        uow, identity.regions, query["status"], limit, offset))
    shown = personal_data.level(identity)
    items, seen = [], []
    for row in page["items"]:
        item = {k: row[k] for k in CANDIDATE_FIELDS}
        for key, household in (("member", "household_id"), ("other", "other_household_id")):
            person = {"person_ref": row[f"{key}_id"], "household_id": row[household],
                      "village_code": row[f"{key}_village"],
                      **{f: row[f"{key}_{f}"] for f in ("name", "nik", "birth_date", "sex")}}
            if identity.covers(person["village_code"]):
                seen.append(personal_data.entry(person["household_id"], person["village_code"], person["person_ref"]))
                item[key] = disclosure.person(person, shown)
            else:
                item[key] = {k: person[k] for k in ("person_ref", "household_id", "village_code")}
        items.append(item)
    personal_data.record(uow, identity, audit, personal_data.DUPLICATES, shown, seen)
    return dict(page, items=items, disclosure=shown)


def _load(uow, identity, candidate_id):
    row = storage.candidate(uow, candidate_id, lock=True)
    if row is None or not (identity.covers(row["village_code"]) or identity.covers(row["other_village_code"])):
        raise not_found(f"No duplicate candidate {candidate_id} in your regions.")
    if row["status"] != "open":
        raise conflict(f"This candidate was already {row['status']}.")
    return row


def dismiss(uow, identity, candidate_id, note):
    row = _load(uow, identity, candidate_id)
    storage.resolve_candidate(uow, candidate_id, "dismissed", identity.agency, note)
    member = storage.member(uow, row["member_id"])
    storage.record(uow, "member", row["member_id"], member["household_id"], "duplicate_dismissed", identity,
                   {"other": str(row["other_id"]), "note": note})
    return storage.candidate(uow, candidate_id)


def merge(uow, settings, identity, candidate_id, note):
    """The newer record (``member_id``) is the duplicate: it leaves its
    household; a household left empty is merged into the other's."""
    row = _load(uow, identity, candidate_id)
    duplicate = storage.member(uow, row["member_id"])
    keeper = storage.member(uow, row["other_id"])
    if duplicate["removed_at"] is not None or keeper["removed_at"] is not None:
        raise conflict("One of the two records was removed meanwhile; dismiss this candidate.")
    household_id = duplicate["household_id"]
    source = storage.household(uow, household_id, lock=True)
    if not identity.covers(source["village_code"]):
        raise conflict("Only an agency covering the newer record's village can merge it.")
    remaining = [m for m in storage.members_of(uow, household_id) if m["id"] != duplicate["id"]]
    storage.resolve_candidate(uow, candidate_id, "merged", identity.agency, note)
    if remaining:
        households.drop_member(uow, settings, identity, household_id, duplicate["id"], "duplicate")
    else:
        storage.remove_member(uow, duplicate["id"], "duplicate")
        after = storage.update_household(uow, household_id, status="inactive", merged_into=keeper["household_id"])
        storage.record(uow, "household", household_id, household_id, "merged", identity,
                       {"into": str(keeper["household_id"]), "note": note})
        if source["status"] != "inactive":
            households.publish_household(uow, contract.HOUSEHOLD_STATUS_CHANGED, after, [],
                                          previous_status=source["status"], reason="merged as a duplicate")
        target = storage.update_household(uow, keeper["household_id"])
        households.publish_household(uow, contract.HOUSEHOLD_MERGED, target,
                                      merged_household_id=str(household_id), moved_person_refs=[])
    return storage.candidate(uow, candidate_id)
