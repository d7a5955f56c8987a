"""Seats, the waitlist and clashing sessions."""


def place(confirmed, capacity):
    """Where a new enrolment goes: a seat while there is one, else the waitlist."""
    return "confirmed" if confirmed < capacity else "waitlisted"


def to_promote(waitlist, free_seats, clashes):
    """The waitlisted enrolments that take ``free_seats`` seats, first come
    first served, skipping anyone whose sessions would clash with a seat they
    hold elsewhere (``clashes(enrolment)``); those keep their place."""
    chosen = []
    for enrolment in waitlist:
        if len(chosen) >= free_seats:
            break
        if not clashes(enrolment):
            chosen.append(enrolment)
    return chosen


def may_withdraw(status):
    return status in ("confirmed", "waitlisted")
