"""A channel's rate limit, shared by the green threads that send on it."""
import time

import eventlet

from ..rules.rate import Bucket


class RateLimit:
    def __init__(self, per_second):
        self._bucket = Bucket(per_second, time.monotonic)

    def wait(self):
        delay = self._bucket.wait()
        if delay > 0:
            eventlet.sleep(delay)
