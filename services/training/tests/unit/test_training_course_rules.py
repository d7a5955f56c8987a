"""A course's lifecycle and sessions (rules/courses.py)."""
from datetime import datetime, timedelta, timezone

import pytest

from setiakawan_training.rules.courses import (
    ATTENDING, BEFORE_START, EDITABLE, ENROLLING, Session, TransitionRefused, check_sessions, next_status,
    regions_overlap, span)

STATES = ("draft", "open", "running", "finished", "cancelled")
ALLOWED = {
    ("draft", "publish"): "open",
    ("open", "start"): "running",
    ("running", "finish"): "finished",
    ("draft", "cancel"): "cancelled",
    ("open", "cancel"): "cancelled",
    ("running", "cancel"): "cancelled",
}
REFUSED = [(status, action) for status in STATES for action in ("publish", "start", "finish", "cancel")
           if (status, action) not in ALLOWED]

PARINGIN = "63.11.01.2001"
DAY = datetime(2026, 11, 2, tzinfo=timezone.utc)


def at(hours):
    return DAY + timedelta(hours=hours)


def session(start, end, venue=PARINGIN):
    return Session(at(start), at(end), venue)


@pytest.mark.parametrize("status, action", sorted(ALLOWED))
def test_allowed_transitions(status, action):
    assert next_status(status, action) == ALLOWED[(status, action)]


@pytest.mark.parametrize("status, action", REFUSED)
def test_refused_transitions(status, action):
    with pytest.raises(TransitionRefused) as refused:
        next_status(status, action)
    assert f"A {status} course cannot {action}" in str(refused.value)


def test_refused_transitions_are_every_other_pair():
    assert len(REFUSED) == 4 * 5 - 6
    assert ("finished", "cancel") in REFUSED and ("cancelled", "cancel") in REFUSED
    assert ("open", "publish") in REFUSED and ("draft", "start") in REFUSED


def test_a_refusal_says_which_states_could():
    with pytest.raises(TransitionRefused, match="it must be draft or open or running"):
        next_status("finished", "cancel")
    assert issubclass(TransitionRefused, ValueError)


def test_phases():
    assert EDITABLE == ("draft",)
    assert ENROLLING == ("open",)
    assert ATTENDING == ("running",)
    assert BEFORE_START == ("draft", "open")


def test_sound_sessions_have_no_problems():
    assert check_sessions([session(1, 7), session(25, 31, "63.11.02.2004")], ["63.11"]) == {}
    assert check_sessions([], ["63.11"]) == {}


@pytest.mark.parametrize("start, end", [(7, 1), (3, 3)])
def test_a_session_must_end_after_it_starts(start, end):
    problems = check_sessions([session(1, 2), session(start, end)], ["63.11"])
    assert problems == {"sessions.1.ends_at": "A session must end after it starts."}


def test_a_venue_outside_the_regions():
    problems = check_sessions([session(1, 2, "64.02.01.1001"), session(3, 4)], ["63.11", "63.08"])
    assert problems == {"sessions.0.venue_village_code": "The venue is outside the course's regions."}


def test_a_venue_in_a_region_that_only_looks_like_a_prefix_is_outside():
    problems = check_sessions([session(1, 2, "63.11.01.2001")], ["63.1"])
    assert list(problems) == ["sessions.0.venue_village_code"]


@pytest.mark.parametrize("sessions", [
    [session(1, 5), session(4, 8)],            # overlapping
    [session(4, 8), session(1, 5)],            # listed out of order
    [session(1, 9), session(2, 3)],            # one inside another
    [session(1, 3), session(1, 3)],            # the same twice
    [session(20, 22), session(1, 10), session(12, 14), session(9, 11)],  # among several, unordered
])
def test_overlapping_sessions(sessions):
    assert check_sessions(sessions, ["63.11"]) == {"sessions": "Two sessions of one course overlap."}


def test_touching_sessions_do_not_overlap():
    assert check_sessions([session(1, 4), session(4, 7), session(7, 9)], ["63.11"]) == {}


def test_several_problems_at_once():
    problems = check_sessions([session(5, 1, "64.02.01.1001"), session(2, 6)], ["63.11"])
    assert set(problems) == {"sessions.0.ends_at", "sessions.0.venue_village_code", "sessions"}


def test_span():
    assert span([]) == (None, None)
    assert span([session(25, 31), session(1, 7), session(49, 50)]) == (at(1), at(50))
    assert span([session(1, 100), session(2, 3)]) == (at(1), at(100))


@pytest.mark.parametrize("these, those, expected", [
    (["63.11"], ["63.11"], True),
    (["63.11"], ["63.11.01"], True),           # one holds the other's code
    (["63.11.01"], ["63.11"], True),           # either direction
    (["63"], ["63.11.01.2001"], True),
    (["63.11"], ["63.08"], False),             # disjoint regencies
    (["63.11"], ["64.11"], False),
    (["63.1"], ["63.11"], False),
    (["64.02", "63.11.02"], ["63.08", "63.11"], True),   # any pair
    (["64.02", "63.11.02"], ["63.08", "63.11.01"], False),
    ([], ["63.11"], False),
])
def test_regions_overlap(these, those, expected):
    assert regions_overlap(these, those) is expected
