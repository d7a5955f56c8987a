"""A channel's rate limit, shared by the green threads that send on it and,
through the database, by every instance of the service."""
import logging
import time

import eventlet
from eventlet.semaphore import Semaphore

from setiakawan_kit import outages

from ..rules.rate import Bucket

log = logging.getLogger(__name__)

#: an instance takes this share of a second's sends from the shared bucket at once
BLOCK_S = 0.1
#: sends taken and not used within this long lapse: an idle instance's leftovers add no burst later
BLOCK_LIFE_S = 1.0


class RateLimit:
    """``take(channel, count, per_second)``, when given, takes ``count``
    sends from the service-wide bucket and answers how long to wait before
    using them (``storage.allowance``); the process's own bucket then paces
    them."""

    def __init__(self, channel, per_second, take=None):
        self.channel, self.per_second, self._take = channel, float(per_second), take
        self._bucket = Bucket(per_second, time.monotonic)
        self._block = max(1, int(self.per_second * BLOCK_S))
        self._left, self._taken_at = 0, 0.0
        self._lock = Semaphore()

    def wait(self):
        if self._take is not None:
            with self._lock:
                if self._left == 0 or time.monotonic() - self._taken_at > BLOCK_LIFE_S:
                    try:
                        delay = self._take(self.channel, self._block, self.per_second)
                    except Exception as exc:  # noqa: BLE001 - sorted by the kit's outage rules below
                        if outages.dependency_of(exc) != outages.DATABASE:
                            raise  # a fault of the statement's own is not an outage to pace through
                        log.warning("the %s rate shared by the instances is out of reach (%s): this instance "
                                    "paces alone", self.channel, outages.one_line(exc))
                        delay = 0.0
                    if delay > 0:
                        eventlet.sleep(delay)
                    self._left, self._taken_at = self._block, time.monotonic()
                self._left -= 1
        delay = self._bucket.wait()
        if delay > 0:
            eventlet.sleep(delay)
