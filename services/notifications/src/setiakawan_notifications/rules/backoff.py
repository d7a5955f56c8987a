"""When a failed message is tried again: exponential backoff with jitter,
capped, or later if the other side said when (Retry-After)."""
from datetime import timedelta


def next_attempt(now, attempts, base_s, max_s, retry_after_s=None, jitter=0.0):
    """The time of attempt ``attempts + 1`` after ``attempts`` failed ones;
    ``jitter`` (0 to 1, drawn by the caller) spreads retries of many
    messages that failed together."""
    delay = min(max_s, base_s * 2 ** max(attempts - 1, 0)) * (1 + jitter / 2)
    if retry_after_s is not None:
        delay = max(delay, min(float(retry_after_s), max_s))
    return now + timedelta(seconds=delay)


def given_up(attempts, max_attempts):
    return attempts >= max_attempts
