"""A course's shape and lifecycle: draft → open → running → finished, or
cancelled from any state before finished."""
from dataclasses import dataclass
from datetime import datetime

from setiakawan_kit.auth import within

#: action: (the states it may start from, the state it leads to)
TRANSITIONS = {
    "publish": (("draft",), "open"),
    "start": (("open",), "running"),
    "finish": (("running",), "finished"),
    "cancel": (("draft", "open", "running"), "cancelled"),
}
EDITABLE = ("draft",)
ENROLLING = ("open",)
ATTENDING = ("running",)
#: the states in which a person's eligibility still matters (the course has not started)
BEFORE_START = ("draft", "open")


class TransitionRefused(ValueError):
    pass


def next_status(status, action):
    if action not in TRANSITIONS:
        raise TransitionRefused(f"No such action: {action}.")
    sources, target = TRANSITIONS[action]
    if status not in sources:
        raise TransitionRefused(f"A {status} course cannot {action}; it must be {' or '.join(sources)}.")
    return target


@dataclass(frozen=True)
class Session:
    starts_at: datetime
    ends_at: datetime
    venue_village_code: str


def check_sessions(sessions, region_codes):
    """Problems with a course's sessions, as {field: message}."""
    problems = {}
    for i, session in enumerate(sessions):
        if session.ends_at <= session.starts_at:
            problems[f"sessions.{i}.ends_at"] = "A session must end after it starts."
        if not within(session.venue_village_code, region_codes):
            problems[f"sessions.{i}.venue_village_code"] = "The venue is outside the course's regions."
    ordered = sorted(sessions, key=lambda s: s.starts_at)
    for earlier, later in zip(ordered, ordered[1:]):
        if later.starts_at < earlier.ends_at:
            problems["sessions"] = "Two sessions of one course overlap."
            break
    return problems


def span(sessions):
    """(first start, last end) of a course's sessions, or (None, None)."""
    if not sessions:
        return None, None
    return min(s.starts_at for s in sessions), max(s.ends_at for s in sessions)


def regions_overlap(these, those):
    """Whether two sets of regions share ground: one holds a code of the other."""
    return any(within(a, [b]) or within(b, [a]) for a in these for b in those)
