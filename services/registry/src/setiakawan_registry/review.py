"""Likely duplicates under review: an officer merges or dismisses them."""
from setiakawan_kit.contract import registry as contract
from setiakawan_kit.problems import conflict, not_found

from . import households, storage


def list_open(uow, identity, query):
    return households.paged(query, lambda limit, offset: storage.candidates(
        uow, identity.regions, query["status"], limit, offset))


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
        households.remove_member(uow, settings, identity, household_id, duplicate["id"], "duplicate")
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
