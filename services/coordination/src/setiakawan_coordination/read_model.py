"""Use cases of the read model: each event of the registry, training and
distribution services applied to what the coordination service keeps, and
logged as it came. Every event carries its record's whole snapshot with a
version, so a newer one replaces what is held and an older or repeated one
changes nothing; a participant's result is final and kept once. So the
logged events, applied again from the first (``rebuild``), build the same
read model."""
from collections import namedtuple

from setiakawan_kit.auth import require_role

from .storage import read_model as storage

#: what applying needs of an event, whether it came from the broker or the log
Logged = namedtuple("Logged", "type data")
REBUILD_BATCH = 2000


def _household(uow, event):
    snapshot = event.data["household"]
    storage.replace_household(uow, snapshot)
    if event.type == "household.merged":
        storage.mark_merged(uow, event.data["merged_household_id"], snapshot)


def _programme(uow, event):
    storage.replace_programme(uow, event.data["programme"])


def _entitlement(uow, event):
    delivered_at = event.data["delivery"]["delivered_at"] if event.type == "aid.delivered" else None
    storage.replace_entitlement(uow, event.data["entitlement"], delivered_at=delivered_at,
                                blocked_by=event.data.get("blocked_by"))


def _course(uow, event):
    storage.replace_course(uow, event.data["course"])


def _enrolment(uow, event):
    storage.replace_enrolment(uow, event.data["enrolment"])


def _result(uow, event):
    storage.add_result(uow, event.data, completed=event.type == "participant.completed")


#: source service -> event type -> how it changes the read model
APPLY = {
    "registry": {event_type: _household for event_type in (
        "household.registered", "household.updated", "household.verified", "household.rejected",
        "household.status_changed", "member.added", "member.removed", "household.merged")},
    "distribution": {"programme.activated": _programme, "programme.closed": _programme,
                     "entitlement.issued": _entitlement, "entitlement.revoked": _entitlement,
                     "entitlement.blocked": _entitlement, "aid.delivered": _entitlement},
    "training": {"course.published": _course, "course.cancelled": _course, "course.finished": _course,
                 "enrolment.confirmed": _enrolment, "enrolment.waitlisted": _enrolment,
                 "enrolment.cancelled": _enrolment, "participant.completed": _result,
                 "participant.not_completed": _result},
}


def apply(uow, source, event):
    """An event from ``source`` applied and logged (the kit's inbox has
    already made sure it is applied once)."""
    storage.log_event(uow, source, event)
    APPLY[source][event.type](uow, event)


def rebuild(uow, identity):
    """The read model emptied and made again from the logged events, in the
    order they came (an admin's repair after a change in how events are
    applied); in one transaction, so the figures never show it half built."""
    require_role(identity, "admin")
    storage.clear(uow)
    seq = applied = 0
    while rows := storage.logged_after(uow, seq, REBUILD_BATCH):
        for row in rows:
            APPLY[row["source"]][row["type"]](uow, Logged(row["type"], row["data"]))
        seq, applied = rows[-1]["seq"], applied + len(rows)
    return {"events": applied}
