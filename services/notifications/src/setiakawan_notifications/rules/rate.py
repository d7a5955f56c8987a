"""A token bucket: at most ``per_second`` sends a second on a channel, with
bursts up to one second's worth."""


class Bucket:
    def __init__(self, per_second, clock):
        self.per_second = float(per_second)
        self.capacity = max(1.0, self.per_second)
        self.tokens = self.capacity
        self.clock = clock
        self.at = clock()

    def wait(self):
        """Take a token; the seconds to wait before using it (0: now)."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.per_second)
        self.at = now
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.per_second
