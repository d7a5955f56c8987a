"""Calls of one function from many green threads, sent together.

While one batch is in flight, the calls that come meanwhile wait and go in
the next batch, one call for all of them; a call that finds nothing in
flight goes at once, alone. So a quiet service waits for nothing, and a
busy one makes one round trip for every batch of requests where it made
one each (a registry RPC for every delivery: ``RpcClient(coalesce=...)``).

The caller whose call starts a batch sends it, with its own means (its
worker's RPC proxy), and hands the next batch to the first caller waiting
for it."""
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

    def __init__(self, max_batch, interrupted=lambda: RuntimeError("the call sending this batch was interrupted")):
        #: ``interrupted()``: the error of the other calls of a batch whose sender was killed or timed out
        self.max_batch, self.interrupted = max_batch, interrupted
        self._waiting = []
        self._sending = False

    def __call__(self, item, call_many):
        call = _Call(item)
        self._waiting.append(call)
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
        batch = self._waiting[:self.max_batch]
        del self._waiting[:len(batch)]
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
