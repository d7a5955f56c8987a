"""Use cases of the read model: each event of the registry, training and
distribution services applied to what the coordination service keeps, and
logged as it came. Every event carries its record's whole snapshot with a
version, so a newer one replaces what is held and an older or repeated one
changes nothing; a participant's result is final and kept once. So the
logged events, applied again from the first (``rebuild``), build the same
read model."""
from collections import namedtuple
from itertools import groupby

from setiakawan_kit.auth import require_role

from .storage import read_model as storage

#: what applying needs of an event, whether it came from the broker or the log
Logged = namedtuple("Logged", "type data agency agencykind time")
REBUILD_BATCH = 2000


def _households(uow, events):
    storage.replace_households(uow, [e.data["household"] for e in events])
    storage.mark_merged(uow, [(e.data["merged_household_id"], e.data["household"])
                              for e in events if e.type == "household.merged"])


def _programmes(uow, events):
    storage.replace_programmes(uow, [e.data["programme"] for e in events])


def _entitlements(uow, events):
    storage.replace_entitlements(uow, [
        (e.data["entitlement"], e.data["delivery"]["delivered_at"] if e.type == "aid.delivered" else None,
         e.data.get("blocked_by")) for e in events])


def _courses(uow, events):
    storage.replace_courses(uow, [e.data["course"] for e in events])


def _enrolments(uow, events):
    storage.replace_enrolments(uow, [e.data["enrolment"] for e in events])


def _results(uow, events):
    storage.add_results(uow, [(e.data, e.type == "participant.completed") for e in events])


#: source service -> event type -> how a batch of its events changes the read model
APPLY = {
    "registry": {event_type: _households for event_type in (
        "household.registered", "household.updated", "household.verified", "household.rejected",
        "household.status_changed", "member.added", "member.removed", "household.merged")},
    "distribution": {"programme.activated": _programmes, "programme.closed": _programmes,
                     "entitlement.issued": _entitlements, "entitlement.revoked": _entitlements,
                     "entitlement.blocked": _entitlements, "aid.delivered": _entitlements},
    "training": {"course.published": _courses, "course.cancelled": _courses, "course.finished": _courses,
                 "enrolment.confirmed": _enrolments, "enrolment.waitlisted": _enrolments,
                 "enrolment.cancelled": _enrolments, "participant.completed": _results,
                 "participant.not_completed": _results},
}


def apply(uow, source, events):
    """A batch of events of one type from ``source``, applied and logged
    (the kit's inbox has already made sure each is applied once); set-based,
    so a batch costs a few statements, sent with the commit."""
    storage.log_events(uow, source, events)
    _apply(uow, source, events[0].type, events)
    storage.changed(uow)


def _apply(uow, source, event_type, events):
    APPLY[source][event_type](uow, events)
    # an agency's kind, as its token named it, travels with what it did (absent when a service acted alone)
    storage.note_agency_kinds(uow, [(e.agency, e.agencykind, e.time) for e in events if e.agencykind])


def rebuild(uow, identity):
    """The read model emptied and made again from the logged events, in the
    order they came (an admin's repair after a change in how events are
    applied); in one transaction, so the figures never show it half built."""
    require_role(identity, "admin")
    storage.clear(uow)
    storage.changed(uow)
    seq = applied = 0
    while rows := storage.logged_after(uow, seq, REBUILD_BATCH):
        # in the order they came: each run of one type at once
        for (source, event_type), run in groupby(rows, key=lambda row: (row["source"], row["type"])):
            _apply(uow, source, event_type, [Logged(event_type, row["data"], row["agency"], row["agency_kind"],
                                                    row["time"]) for row in run])
        seq, applied = rows[-1]["seq"], applied + len(rows)
    return {"events": applied}
