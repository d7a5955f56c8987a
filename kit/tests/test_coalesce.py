"""The coalescer: calls made while a batch is in flight go together in the
next, each caller gets its own answer, a batch's failure fails each of its
calls, and a call made with nothing in flight goes at once, alone."""
import eventlet
import pytest

from setiakawan_kit.coalesce import Coalescer


class Remote:
    """call_many that takes a while, so that calls pile up behind it."""

    def __init__(self, fail_on=None, answer_short=False):
        self.batches, self.fail_on, self.answer_short = [], fail_on, answer_short

    def __call__(self, items):
        self.batches.append(list(items))
        eventlet.sleep(0.01)
        if self.fail_on in items:
            raise ConnectionError("the registry is down")
        answers = [item * 10 for item in items]
        return answers[:-1] if self.answer_short else answers


def gated(gate):
    """call_many that answers once ``gate`` is sent: its batch stays in flight until then."""
    def call_many(items):
        gate.wait()
        return [item * 10 for item in items]
    return call_many


def run_all(coalescer, remote, items):
    pool = eventlet.GreenPool(len(items))
    threads = [pool.spawn(coalescer, item, remote) for item in items]
    outcomes = []
    for thread in threads:
        try:
            outcomes.append(thread.wait())
        except Exception as exc:  # noqa: BLE001 - collected for the test
            outcomes.append(exc)
    return outcomes


def test_a_call_with_nothing_in_flight_goes_alone_and_at_once():
    remote = Remote()
    assert Coalescer(10)(4, remote) == 40
    assert remote.batches == [[4]]


def test_calls_made_while_a_batch_is_in_flight_go_together_and_each_gets_its_own_answer():
    remote = Remote()
    assert run_all(Coalescer(100), remote, list(range(1, 31))) == [i * 10 for i in range(1, 31)]
    assert remote.batches[0] == [1]
    assert sorted(i for batch in remote.batches for i in batch) == list(range(1, 31))
    assert len(remote.batches) == 2  # the first alone, the 29 that came while it was in flight together


def test_a_batch_holds_at_most_its_size_and_the_rest_goes_in_the_next():
    remote = Remote()
    assert run_all(Coalescer(8), remote, list(range(1, 26))) == [i * 10 for i in range(1, 26)]
    assert [len(batch) for batch in remote.batches] == [1, 8, 8, 8]


def test_a_failed_batch_fails_each_of_its_calls_and_the_next_batch_still_goes():
    remote = Remote(fail_on=5)
    outcomes = run_all(Coalescer(100), remote, list(range(1, 11)))
    assert outcomes[0] == 10  # the first batch, alone, was answered
    assert all(isinstance(o, ConnectionError) for o in outcomes[1:])
    assert Coalescer(100)(7, remote) == 70


def test_an_answer_of_the_wrong_length_fails_the_batch():
    with pytest.raises(ValueError, match="a batch of 1"):
        Coalescer(10)(1, Remote(answer_short=True))


def test_the_sender_interrupted_fails_its_batch_and_hands_the_next_on():
    coalescer, gate = Coalescer(100), eventlet.event.Event()
    first = eventlet.spawn(coalescer, 1, gated(gate))
    eventlet.sleep(0)
    waiting = [eventlet.spawn(coalescer, i, Remote()) for i in (2, 3)]
    eventlet.sleep(0)
    first.kill()  # the first caller's worker is killed while its batch is in flight
    assert [w.wait() for w in waiting] == [20, 30]  # the next batch was handed on and sent
    assert coalescer(4, Remote()) == 40


def test_a_waiting_call_killed_after_it_was_handed_the_lead_passes_it_on():
    coalescer, gate = Coalescer(1), eventlet.event.Event()
    first = eventlet.spawn(coalescer, 1, gated(gate))
    eventlet.sleep(0)
    second = eventlet.spawn(coalescer, 2, Remote())
    third = eventlet.spawn(coalescer, 3, Remote())
    eventlet.sleep(0)
    gate.send()
    assert first.wait() == 10  # its batch answered, the lead handed to the second, which has not run yet
    second.kill()
    with eventlet.Timeout(5):  # without the lead passed on, every later call would wait for ever
        assert third.wait() == 30
        assert coalescer(4, Remote()) == 40


def test_a_waiting_call_killed_leaves_the_queue():
    coalescer, gate = Coalescer(100), eventlet.event.Event()
    first = eventlet.spawn(coalescer, 1, gated(gate))
    eventlet.sleep(0)
    remote = Remote()
    gone, kept = eventlet.spawn(coalescer, 2, remote), eventlet.spawn(coalescer, 3, remote)
    eventlet.sleep(0)
    gone.kill()
    gate.send()
    with eventlet.Timeout(5):
        assert first.wait() == 10 and kept.wait() == 30
    assert remote.batches == [[3]]


def test_the_sender_of_a_batch_killed_fails_the_others_of_it_with_the_interrupted_error():
    coalescer = Coalescer(100, interrupted=lambda: LookupError("the registry call was interrupted"))
    first_gate, second_gate = eventlet.event.Event(), eventlet.event.Event()

    first = eventlet.spawn(coalescer, 1, gated(first_gate))
    eventlet.sleep(0)
    sender = eventlet.spawn(coalescer, 2, gated(second_gate))
    other = eventlet.spawn(coalescer, 3, Remote())
    eventlet.sleep(0)
    first_gate.send()
    assert first.wait() == 10
    eventlet.sleep(0)  # the second call now sends [2, 3] and waits on its gate
    sender.kill()
    with eventlet.Timeout(5), pytest.raises(LookupError):
        other.wait()


def answered_alone(coalescer, item):
    """``item`` sent with nothing in flight, so it goes alone: a batch without company."""
    remote = Remote()
    assert coalescer(item, remote) == item * 10
    return remote.batches


def test_a_quiet_process_lingers_for_nothing():
    coalescer = Coalescer(10, linger=30.0)
    with eventlet.Timeout(5):  # a linger would hold this call for 30 s
        assert answered_alone(coalescer, 1) == [[1]]
        assert answered_alone(coalescer, 2) == [[2]]


def busy(coalescer):
    """Two calls through ``coalescer`` in one batch (one goes first, alone; two wait for it)."""
    gate = eventlet.event.Event()
    first = eventlet.spawn(coalescer, 1, gated(gate))
    eventlet.sleep(0)
    remote = Remote()
    pair = [eventlet.spawn(coalescer, i, remote) for i in (2, 3)]
    eventlet.sleep(0)
    gate.send()
    assert [first.wait(), *(p.wait() for p in pair)] == [10, 20, 30]
    assert remote.batches == [[2, 3]]


def test_after_a_batch_with_company_the_next_waits_for_more():
    coalescer, remote = Coalescer(10, linger=0.2), Remote()
    busy(coalescer)
    lead = eventlet.spawn(coalescer, 4, remote)
    eventlet.sleep(0)  # the lead starts; the next request comes after it (a lead that did not linger has sent)
    late = eventlet.spawn(coalescer, 5, remote)
    assert (lead.wait(), late.wait()) == (40, 50)
    assert remote.batches == [[4, 5]]
    assert answered_alone(coalescer, 6) == [[6]]  # after it the process was busy: it lingers for nobody, then goes
    # a batch that went alone: the next does not linger, so a request that comes after it waits for the next
    remote = Remote()
    lead = eventlet.spawn(coalescer, 7, remote)
    eventlet.sleep(0)
    late = eventlet.spawn(coalescer, 8, remote)
    assert (lead.wait(), late.wait()) == (70, 80)
    assert remote.batches == [[7], [8]]


def test_a_batch_that_fills_while_it_lingers_goes_at_once():
    coalescer, remote = Coalescer(2, linger=30.0), Remote()
    busy(coalescer)
    with eventlet.Timeout(5):  # the batch would wait 30 s for company if its filling did not end the linger
        assert run_all(coalescer, remote, [4, 5]) == [40, 50]
    assert remote.batches == [[4, 5]]


def test_a_lead_killed_while_it_lingers_passes_the_lead_on():
    coalescer, remote = Coalescer(10, linger=0.2), Remote()
    busy(coalescer)
    lead = eventlet.spawn(coalescer, 4, remote)
    eventlet.sleep(0)
    waiting = eventlet.spawn(coalescer, 5, remote)
    eventlet.sleep(0)
    lead.kill()
    with eventlet.Timeout(5):  # without the lead passed on, the waiting call would wait for ever
        assert waiting.wait() == 50
    assert remote.batches == [[5]]
