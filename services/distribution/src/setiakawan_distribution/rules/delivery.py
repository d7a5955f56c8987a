"""Who may collect aid, and when a handover may be said to have happened."""
from datetime import timedelta

#: Indonesia's age of adulthood for an identity card (KTP): 17
ADULT_AGE = 17
#: how far ahead of the server's clock a device's clock may run
CLOCK_SKEW = timedelta(minutes=5)


def may_collect(member):
    """A household's aid goes to its head, or to another adult member."""
    if member is None:
        return False, "The recipient is not a member of the household."
    if member["relationship"] == "head" or member["age"] >= ADULT_AGE:
        return True, None
    return False, f"The recipient is {member['age']}: aid goes to the head or another member of {ADULT_AGE} or older."


def check_time(delivered_at, now, starts_on):
    """A delivery recorded offline keeps its own time, which cannot be in
    the future nor before the programme's period began."""
    if delivered_at > now + CLOCK_SKEW:
        return "The delivery time is in the future."
    if delivered_at.date() < starts_on - timedelta(days=1):  # a day for time zones east of UTC
        return f"The delivery time is before the programme's period (from {starts_on.isoformat()})."
    return None
