"""How the operator's tools read queue names: whose queue, which handler,
and a handler's retry and dead-letter queues added up beside it."""
import pytest

from setiakawan_kit import operate

HANDLER = "evt-registry-household.verified--distribution.households"


def row(name, ready=0, unacked=0, consumers=0):
    return {"name": name, "ready": ready, "unacked": unacked, "consumers": consumers}


def test_a_handlers_queues_are_grouped_under_the_service_that_consumes_them():
    grouped = operate.group_queues([
        row(HANDLER, ready=5, unacked=2, consumers=1),
        row(HANDLER + ".retry.100ms", ready=3),
        row(HANDLER + ".retry.200ms", unacked=1),
        row(HANDLER + ".dead", ready=4),
        row("evt-any-diagnostic.ping--distribution.pings", consumers=1),
        row("rpc-registry", consumers=2),
        row("rpc.reply-distribution-1f2e", consumers=1),
        row("partner-wahana.verified", ready=9, consumers=1),
        row("some-queue-nobody-owns"),
    ])
    assert [g.service for g in grouped] == ["distribution", "partner-wahana", "registry"]
    distribution = grouped[0]
    households = next(h for h in distribution.handlers if h.name == HANDLER)
    assert (households.ready, households.unacked, households.consumers, households.retrying, households.dead) == \
        (5, 2, 1, 4, 4)
    assert households.dead_queue == HANDLER + ".dead"
    assert distribution.total("consumers") == 2 and distribution.other == []
    assert [q["name"] for q in grouped[1].other] == ["partner-wahana.verified"]
    assert [q["name"] for q in grouped[2].other] == ["rpc-registry"]


def test_a_dead_letter_queue_names_its_handlers_queue_and_service():
    assert operate.handler_queue_of(HANDLER + ".dead") == (HANDLER, "distribution")
    assert operate.handler_queue_of("evt-partner-x-beneficiary.enrolled--partner-y.on_enrolled.dead") == (
        "evt-partner-x-beneficiary.enrolled--partner-y.on_enrolled", "partner-y")
    for name in (HANDLER, HANDLER + ".retry.100ms", "rpc-registry.dead", "partner-x.dead"):
        with pytest.raises(operate.OperateError):
            operate.handler_queue_of(name)


def test_the_owner_of_a_queue():
    assert operate.service_of_queue(HANDLER + ".retry.400ms") == "distribution"
    assert operate.service_of_queue("rpc-training") == "training"
    assert operate.service_of_queue("partner-wahana.anything") == "partner-wahana"
    assert operate.service_of_queue("amq.gen-abc") is None
