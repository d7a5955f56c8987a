"""Calls of one function from many green threads, sent together.

While one batch is in flight, the calls that come meanwhile wait and go in
the next batch, one call for all of them; a call that finds nothing in
flight goes at once, alone. So a quiet service waits for nothing, and a
busy one makes one round trip for every batch of requests where it made
one each (a registry RPC for every delivery: ``RpcClient(coalesce=...)``).

A busy process can make its batches bigger still: with ``linger``, a batch
whose predecessor carried more than one call waits that long for company
before it goes (unless it is full). A batch that went alone means the
process is quiet, and the next goes at once again.

The caller whose call starts a batch sends it, with its own means (its
worker's RPC proxy), and hands the next batch to the first caller waiting
for it."""
import eventlet
from eventlet.event import Event

_LEAD = object()  # a waiting call's turn to send the next batch


class _Call:
    __slots__ = ("item", "woken", "value", "error")

    def __init__(self, item):
        self.item, self.woken, self.value, self.error = item, Event(), None, None

    def result(self):
        if self.error is not None:
            raise self.error
        return self.value


class Coalescer:
    """``coalescer(item, call_many)``: ``call_many(items)`` answers a list in
    the items' order; each caller gets its own item's answer, or the batch's
    error."""

    def __init__(self, max_batch, linger=0.0,
                 interrupted=lambda: RuntimeError("the call sending this batch was interrupted")):
        #: ``linger``: seconds a batch waits for company when the batch before it had some
        #: ``interrupted()``: the error of the other calls of a batch whose sender was killed or timed out
        self.max_batch, self.linger, self.interrupted = max_batch, linger, interrupted
        self._waiting = []
        self._sending = False
        self._company = False  # whether the last batch carried more than one call
        self._filled = None  # while a lead lingers: sent when its batch is full

    def __call__(self, item, call_many):
        call = _Call(item)
        self._waiting.append(call)
        if self._filled is not None and len(self._waiting) >= self.max_batch and not self._filled.ready():
            self._filled.send()  # the batch a lead lingers for is full: it goes now
        if self._sending:
            try:
                woken = call.woken.wait()
            except BaseException:  # killed or timed out while waiting: out of the queue, the lead passed on
                self._withdraw(call)
                raise
            if woken is not _LEAD:
                return call.result()
        else:
            self._sending = True
        # this call sends the next batch; it is the first waiting
        if self.linger and self._company and len(self._waiting) < self.max_batch:
            self._linger(call)
        batch = self._waiting[:self.max_batch]
        del self._waiting[:len(batch)]
        self._company = len(batch) > 1
        try:
            answers = call_many([c.item for c in batch])
            if not isinstance(answers, list) or len(answers) != len(batch):
                raise ValueError(f"a batch of {len(batch)} was answered with {type(answers).__name__}"
                                 f"{'' if not isinstance(answers, list) else f' of {len(answers)}'}")
            for waiting, answer in zip(batch, answers):
                waiting.value = answer
        except BaseException as exc:  # every call of the batch fails with it
            for waiting in batch:
                waiting.error = exc if isinstance(exc, Exception) else self.interrupted()
            if not isinstance(exc, Exception):
                raise  # a timeout of the sender's own, a kill: its own, not its batch's answer
        finally:
            self._hand_on()
            for waiting in batch:
                if waiting is not call:
                    waiting.woken.send(None)
        return call.result()

    def _linger(self, call):
        """Wait up to ``linger`` for the batch of ``call`` (the lead) to fill."""
        self._filled = Event()
        try:
            with eventlet.Timeout(self.linger, False):  # False: at the end of the linger, quietly on
                self._filled.wait()
        except BaseException:  # killed or timed out while it waited for company: the lead passes on
            self._waiting.remove(call)
            self._hand_on()
            raise
        finally:
            self._filled = None

    def _hand_on(self):
        """The next batch to the first call waiting for it; else nothing is in flight."""
        if self._waiting:
            self._waiting[0].woken.send(_LEAD)
        else:
            self._sending = False

    def _withdraw(self, call):
        if call not in self._waiting:
            return  # in a batch already: its answer goes nowhere
        self._waiting.remove(call)
        if call.woken.ready():  # it was handed the lead (a waiting call is woken for nothing else)
            self._hand_on()
