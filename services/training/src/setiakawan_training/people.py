"""The read model of people and groups, kept from the registry's events.
Each event carries the household's (or group's) whole snapshot with a
version: a newer one replaces what is held, an older or repeated one
changes nothing, so redelivery and reordering leave it right. After a
change, enrolments that the people no longer qualify for are ended."""
from . import enrolments
from .storage import enrolments as enrolment_storage, people as storage


def apply_household(uow, event):
    snapshot = event.data["household"]
    before = set(storage.household_people(uow, snapshot["household_id"]))
    after = {str(m["person_ref"]) for m in snapshot["members"]}
    gone = _removed_for_good(uow, event, before)
    concerned = sorted(before | after | gone)
    enrolment_storage.lock_people(uow, concerned)  # before any course: see enrolments.py
    storage.mark_removed(uow, gone, event.data.get("reason") or "duplicate")
    if not storage.replace_household(uow, snapshot, event.time) and not gone:
        return []
    return enrolments.remove_ineligible(uow, concerned)


def _removed_for_good(uow, event, before):
    """The people an event removes for good: the member removed (died, moved
    out: someone who joins another household gets a new reference), or the
    members of a household merged away that did not move with the merge
    (each a duplicate of someone in the household kept)."""
    if event.type == "member.removed":
        return {str(event.data["person_ref"])}
    if event.type == "household.merged":
        moved = {str(r) for r in event.data["moved_person_refs"]}
        merged_away = set(storage.household_people(uow, event.data["merged_household_id"]))
        return merged_away - moved
    return set()


def apply_group(uow, event):
    snapshot = event.data["group"]
    before = storage.group_member_refs(uow, snapshot["group_id"])
    concerned = sorted(before | {str(r) for r in snapshot["member_refs"]})
    enrolment_storage.lock_people(uow, concerned)
    if not storage.replace_group(uow, snapshot):
        return []
    return enrolments.remove_ineligible(uow, concerned)
