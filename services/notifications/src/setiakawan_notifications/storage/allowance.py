"""The channels' shared token buckets (``channel_allowance``): every
instance takes its sends from the same row, so a rate holds for the
service, however many instances run."""

TAKE = """
INSERT INTO channel_allowance AS a (channel, tokens, at)
VALUES (%(channel)s, %(capacity)s - %(count)s, clock_timestamp())
ON CONFLICT (channel) DO UPDATE SET
    tokens = least(%(capacity)s, a.tokens + extract(epoch FROM clock_timestamp() - a.at) * %(per_second)s)
             - %(count)s,
    at = clock_timestamp()
RETURNING tokens
"""


def take(uow, channel, count, per_second):
    """Take ``count`` sends on ``channel``; the seconds to wait before the
    last of them may go (0: now). The bucket holds up to a second's worth."""
    capacity = max(1.0, float(per_second))
    tokens = uow.fetchone(TAKE, {"channel": channel, "count": count, "capacity": capacity,
                                 "per_second": float(per_second)})["tokens"]
    return 0.0 if tokens >= 0 else -tokens / float(per_second)
