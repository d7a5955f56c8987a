"""The read models, kept from other services' events: households and
groups from the registry (a newer snapshot version replaces what is held,
an older or repeated one changes nothing), course completions from
training. After a change, the entitlements of those concerned are
reconsidered: issued if a rule now grants them, revoked if it no longer does."""
from . import entitlements
from .storage import readmodel as storage


def apply_household(uow, event):
    snapshot = event.data["household"]
    household_id = str(snapshot["household_id"])
    if event.type == "household.merged":
        storage.mark_merged(uow, event.data["merged_household_id"], household_id)
        entitlements.reconsider_household(uow, str(event.data["merged_household_id"]))
    replaced = storage.replace_household(uow, snapshot, event.time)
    if replaced is None:
        return
    # a member who moved takes their groups and skills along: the household
    # left is reconsidered by its own event (member.removed)
    entitlements.reconsider_household(uow, household_id, [snapshot["village_code"], replaced["previous_village"]])


def apply_group(uow, event):
    snapshot = event.data["group"]
    before = storage.group_member_refs(uow, snapshot["group_id"])
    if not storage.replace_group(uow, snapshot):
        return
    entitlements.reconsider_group(uow, snapshot)
    changed = before ^ {str(r) for r in snapshot["member_refs"]}
    for household_id in storage.households_of_people(uow, sorted(changed | (before if snapshot["status"] !=
                                                                               "active" else set()))):
        entitlements.reconsider_household(uow, household_id)


def apply_completion(uow, event):
    """A participant completed a course: their household's completed skills grow."""
    if storage.add_completion(uow, event.data):
        for household_id in storage.households_of_people(uow, [event.data["person_ref"]]):
            entitlements.reconsider_household(uow, household_id)
