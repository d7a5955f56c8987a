"""The read models, kept from other services' events: households and
groups from the registry (a newer snapshot version replaces what is held,
an older or repeated one changes nothing), course completions from
training. After a change, the entitlements of those concerned are
reconsidered: issued if a rule now grants them, revoked if it no longer does."""
from setiakawan_kit import context

from . import entitlements
from .storage import programmes as programme_storage, readmodel as storage


def apply_households(uow, events):
    """Registry events about households, a batch at a time: each household
    takes the highest snapshot version among them (if higher than held)."""
    latest = {}
    for event in events:
        if event.type == "household.merged":
            storage.mark_merged(uow, event.data["merged_household_id"], event.data["household"]["household_id"])
            with context.caused_by(event):
                entitlements.reconsider_household(uow, str(event.data["merged_household_id"]))
        household_id = str(event.data["household"]["household_id"])
        if household_id not in latest or \
                event.data["household"]["version"] > latest[household_id].data["household"]["version"]:
            latest[household_id] = event
    ordered = [latest[household_id] for household_id in sorted(latest)]  # two batches lock rows in one order
    replaced = storage.replace_households(uow, [e.data["household"] for e in ordered], [e.time for e in ordered])
    # a member who moved takes their groups and skills along: the household
    # left is reconsidered by its own event (member.removed)
    moves = {household_id: [latest[household_id].data["household"]["village_code"], previous]
             for household_id, previous in replaced.items()}
    for household_id in programme_storage.households_concerned(uow, moves):
        with context.caused_by(latest[household_id]):
            entitlements.reconsider_household(uow, household_id, moves[household_id])


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
