"""The read model of people and groups, kept from the registry's events.
Each event carries the household's (or group's) whole snapshot with a
version: a newer one replaces what is held, an older or repeated one
changes nothing, so redelivery and reordering leave it right. After a
change, enrolments that the people no longer qualify for are ended."""
from . import enrolments
from .storage import people as storage


def apply_household(uow, event):
    snapshot = event.data["household"]
    before = set(storage.household_people(uow, snapshot["household_id"]))
    if not storage.replace_household(uow, snapshot, event.time):
        return []
    after = {str(m["person_ref"]) for m in snapshot["members"]}
    return enrolments.remove_ineligible(uow, sorted(before | after))


def apply_group(uow, event):
    snapshot = event.data["group"]
    before = storage.group_member_refs(uow, snapshot["group_id"])
    if not storage.replace_group(uow, snapshot):
        return []
    return enrolments.remove_ineligible(uow, sorted(before | {str(r) for r in snapshot["member_refs"]}))
