"""Failing handlers and unreadable messages end in the dead-letter queue,
with the error, while other messages keep flowing."""
import json

import kombu
import pytest
import requests

from setiakawan_kit import topology
from setiakawan_kit.testing import wait_for
from tests.test_event_flow import applied_rows, publish

THING_QUEUE = "evt-producer-thing.happened--consumer.on_thing"
POISON_QUEUE = "evt-producer-thing.poisoned--consumer.on_poisoned"


def drain(amqp_uri, queue_name):
    """All messages now in a queue, as (headers, body), acked."""
    out = []
    with kombu.Connection(amqp_uri) as conn:
        queue = kombu.Queue(queue_name, durable=True, auto_delete=False, no_declare=True)
        bound = queue(conn.default_channel)
        while (message := bound.get(no_ack=False, accept=["application/json", "text/plain"])) is not None:
            out.append((message.headers, message.body))
            message.ack()
    return out


def dead_letters(amqp_uri, queue_name, expected):
    collected = []

    def enough():
        collected.extend(drain(amqp_uri, topology.dead_letter_queue("consumer", queue_name).name))
        return len(collected) >= expected

    wait_for(enough, timeout=60, interval=0.3, what=f"{expected} dead letters in {queue_name}",
             state=lambda: len(collected))
    return collected


def raw_publish(amqp_uri, body, headers, content_type="application/json", routing_key="thing.happened"):
    with kombu.Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        producer = conn.Producer()
        producer.publish(body, exchange=topology.event_exchange("producer"), routing_key=routing_key,
                         headers=headers, content_type=content_type, content_encoding="utf-8",
                         delivery_mode=2, declare=[topology.event_exchange("producer")])


def ce_headers(**overrides):
    headers = {"ce-id": "3f0c5a0e-3a39-4d1e-9a4e-000000000001", "ce-source": "/setiakawan/producer",
               "ce-type": "thing.happened", "ce-specversion": "1.0", "ce-time": "2026-11-24T10:00:00Z",
               "ce-subject": "thing-1", "ce-dataschema": "urn:setiakawan:producer:thing.happened:v1",
               "ce-correlationid": "corr-1", "ce-agency": "test"}
    headers.update(overrides)
    return {k: v for k, v in headers.items() if v is not None}


def test_handler_that_always_fails_is_dead_lettered_after_its_attempts(pair, token, db, amqp_uri):
    producer, consumer, _, consumer_db = pair()
    # the error quotes personal data: it is redacted in the dead letter as in logs
    note = " of member 6213014107850003 (phone 0812-3456-7890)"
    assert publish(producer, token, count=2, poisoned=True, start=900, note=note).status_code == 201
    assert publish(producer, token, count=20).status_code == 201

    # Healthy messages keep flowing while the poisoned ones are retried.
    wait_for(lambda: len(applied_rows(db, consumer_db)) == 20, what="the healthy events applied")
    dead = dead_letters(amqp_uri, POISON_QUEUE, expected=2)
    assert len(dead) == 2
    for headers, body in dead:
        assert headers[topology.ATTEMPT_HEADER] == 3  # EVENT_RETRY.max_attempts in the test config
        error = headers[topology.ERROR_HEADER]
        assert "RuntimeError: cannot handle thing 90" in error
        assert "6213014107850003" not in error and "3456-7890" not in error
        assert "of member 6213************ (phone [phone])" in error
        assert headers[topology.FAILED_QUEUE_HEADER] == POISON_QUEUE
        assert headers["ce-type"] == "thing.poisoned"
        assert json.loads(body)["seq"] in (900, 901)
    with db(consumer_db).cursor() as cur:
        cur.execute("SELECT count(*) FROM kit_inbox WHERE event_type = 'thing.poisoned'")
        assert cur.fetchone()[0] == 0  # the failed attempts left no trace
    metrics = requests.get(consumer.url + "/metrics", timeout=10).text
    assert 'setiakawan_events_dead_lettered_total{service="consumer",type="thing.poisoned"} 2.0' in metrics
    assert 'setiakawan_events_retried_total{service="consumer",type="thing.poisoned"} 4.0' in metrics


def test_unreadable_messages_go_straight_to_the_dead_letter_queue(pair, token, db, amqp_uri):
    producer, consumer, _, consumer_db = pair()
    bad = [
        (b"{not json", ce_headers(), "application/json", "body is not valid JSON"),
        (b'{"seq": "many"}', ce_headers(), "application/json", "does not match its schema"),
        (b'{"seq": 1}', ce_headers(**{"ce-id": None, "ce-source": None}), "application/json",
         "envelope does not match"),
        (b'{"seq": 1}', ce_headers(**{"ce-dataschema": "urn:setiakawan:producer:thing.happened:v9"}),
         "application/json", "unknown event type"),
        (b'{"seq": 1}', ce_headers(), "text/plain", "envelope does not match"),
        (b'{"seq": 1}', {}, "application/json", "envelope does not match"),
        (b"[" * 100_000, ce_headers(), "application/json", "RecursionError"),
        (b'{"seq": 1}', ce_headers(**{"ce-subject": b"\xff\xfe"}), "application/json", "not UTF-8"),
        # on the producer's exchange, which only the producer may publish to, an event claiming another source
        (b'{"seq": 1}', ce_headers(**{"ce-source": "/setiakawan/registry"}), "application/json",
         "an event from /setiakawan/registry published on producer.events"),
    ]
    for body, headers, content_type, _ in bad:
        raw_publish(amqp_uri, body, headers, content_type)
    assert publish(producer, token, count=1, start=3).status_code == 201

    wait_for(lambda: applied_rows(db, consumer_db), what="the readable event applied")
    dead = dead_letters(amqp_uri, THING_QUEUE, expected=len(bad))
    errors = sorted(h[topology.ERROR_HEADER] for h, _ in dead)
    for *_, reason in bad:
        assert any(reason in e for e in errors), (reason, errors)
    assert all(h[topology.ATTEMPT_HEADER] == 1 for h, _ in dead)  # never retried
    assert [r[0] for r in applied_rows(db, consumer_db)] == [3]
    assert requests.get(consumer.url + "/health", timeout=10).status_code == 200
    assert consumer.process.poll() is None


@pytest.mark.parametrize("batch", [False, True], ids=["one-at-a-time", "batch"])
def test_a_redelivered_event_has_no_second_effect(pair, token, db, amqp_uri, batch):
    producer, consumer, _, consumer_db = pair({"CONSUMER_BATCH": "1"} if batch else None)
    headers = ce_headers(**{"ce-id": "6f1d8b9e-7d0c-4a53-9a39-1c1f0f5d2b77"})
    for _ in range(3):
        raw_publish(amqp_uri, b'{"seq": 77}', headers)
    assert publish(producer, token, count=1, start=78).status_code == 201
    wait_for(lambda: len(applied_rows(db, consumer_db)) == 2, what="both events applied")
    wait_for(lambda: consumer.metric("setiakawan_events_consumed_total", outcome="duplicate") == 2,
             what="two duplicates counted", services=[consumer])
    assert [(r[0], r[1]) for r in applied_rows(db, consumer_db)] == [(77, 1), (78, 1)]
