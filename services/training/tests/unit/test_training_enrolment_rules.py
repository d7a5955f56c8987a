"""Seats and the waitlist (rules/enrolment.py); clashing sessions are a query (storage/enrolments.clashing), tested against the database."""
import pytest

from setiakawan_training.rules.enrolment import may_withdraw, place, to_promote


@pytest.mark.parametrize("confirmed, capacity, expected", [
    (0, 20, "confirmed"),
    (19, 20, "confirmed"),     # the last seat
    (20, 20, "waitlisted"),    # at capacity
    (21, 20, "waitlisted"),    # above it (a capacity lowered after enrolments)
    (0, 0, "waitlisted"),
    (0, 1, "confirmed"),
])
def test_place(confirmed, capacity, expected):
    assert place(confirmed, capacity) == expected


WAITLIST = ["w1", "w2", "w3", "w4", "w5"]


def test_to_promote_is_first_come_first_served():
    assert to_promote(WAITLIST, 2, lambda e: False) == ["w1", "w2"]


def test_to_promote_skips_those_who_clash_and_fills_the_seat_with_the_next():
    assert to_promote(WAITLIST, 2, lambda e: e in {"w1", "w3"}) == ["w2", "w4"]


def test_a_clashing_enrolment_keeps_its_place_in_the_waitlist():
    waitlist = list(WAITLIST)
    to_promote(waitlist, 3, lambda e: e == "w2")
    assert waitlist == WAITLIST


def test_to_promote_stops_at_the_free_seats_without_asking_about_the_rest():
    asked = []

    def clashes(e):
        asked.append(e)
        return False

    assert to_promote(WAITLIST, 2, clashes) == ["w1", "w2"]
    assert asked == ["w1", "w2"]


@pytest.mark.parametrize("free", [0, -1])
def test_no_free_seats_promotes_no_one(free):
    assert to_promote(WAITLIST, free, lambda e: False) == []


def test_more_seats_than_waiting_promotes_all_who_do_not_clash():
    assert to_promote(WAITLIST, 10, lambda e: e == "w4") == ["w1", "w2", "w3", "w5"]
    assert to_promote([], 3, lambda e: False) == []


def test_everyone_clashing_promotes_no_one():
    assert to_promote(WAITLIST, 2, lambda e: True) == []


@pytest.mark.parametrize("status, expected", [
    ("confirmed", True), ("waitlisted", True),
    ("cancelled", False), ("completed", False), ("not_completed", False),
])
def test_may_withdraw(status, expected):
    assert may_withdraw(status) is expected
