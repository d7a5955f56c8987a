"""Rules of reading personal data: the purpose a caller gives, and how many
numbers an agency may match in an hour."""
import math
from datetime import timedelta

PURPOSE_MAX = 200
MATCH_BATCH_MAX = 1000
MATCH_RATE_PER_HOUR = 20_000
RATE_WINDOW = timedelta(hours=1)
RATE_BUCKET = timedelta(minutes=1)  # lookups are counted per agency and minute


class BadPurpose(ValueError):
    pass


def purpose(header):
    """The purpose a caller gives in ``X-Purpose``, as stored in the access
    log: None when absent or blank, runs of white space made one space.
    Header values arrive decoded as Latin-1; UTF-8 sent raw is read as such."""
    if header is None:
        return None
    try:
        text = header.encode("latin-1").decode("utf-8")
    except UnicodeError:
        text = header
    if "\x00" in text:
        raise BadPurpose("The purpose may not contain the NUL character.")
    text = " ".join(text.split())
    if len(text) > PURPOSE_MAX:
        raise BadPurpose(f"The purpose is at most {PURPOSE_MAX} characters.")
    return text or None


def retry_after(used, now, limit, wanted, window=RATE_WINDOW, bucket=RATE_BUCKET):
    """Seconds until ``wanted`` more lookups fit into an agency's allowance
    of ``limit`` per rolling ``window``; 0 if they fit now. ``used`` holds
    (start of a bucket, lookups in it); a bucket counts until its end is a
    window old. More than the whole allowance never fits: a window."""
    in_window = sorted((start, count) for start, count in used if start + bucket + window > now)
    excess = sum(count for _, count in in_window) + wanted - limit
    if excess <= 0:
        return 0
    if wanted > limit:
        return math.ceil(window.total_seconds())
    for start, count in in_window:
        excess -= count
        if excess <= 0:
            return max(1, math.ceil((start + bucket + window - now).total_seconds()))
    return math.ceil(window.total_seconds())  # not reached: the buckets hold the excess
