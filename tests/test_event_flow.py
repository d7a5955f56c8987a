"""Events from one service's transaction to another service's handler,
through the real RabbitMQ and PostgreSQL."""
import json

import kombu
import requests

from setiakawan_kit import topology
from setiakawan_kit.testing import wait_for


def queue_exists(amqp_uri, name):
    with kombu.Connection(amqp_uri) as conn:
        try:
            conn.default_channel.queue_declare(name, passive=True)
            return True
        except conn.channel_errors:
            return False


def publish(producer, token, **body):
    response = requests.post(producer.url + "/things", json=body,
                             headers={"Authorization": f"Bearer {token()}"}, timeout=30)
    return response


def applied_rows(db, consumer_db):
    with db(consumer_db).cursor() as cur:
        cur.execute("SELECT seq, applications, correlation_id FROM applied ORDER BY seq")
        return cur.fetchall()


def test_event_committed_in_producer_transaction_is_applied_once_by_consumer(pair, token, db):
    producer, consumer, producer_db, consumer_db = pair()
    response = publish(producer, token, count=50)
    assert response.status_code == 201, response.text
    correlation = response.headers["X-Correlation-ID"]

    rows = wait_for(lambda: len(applied_rows(db, consumer_db)) == 50 and applied_rows(db, consumer_db))
    assert [r[0] for r in rows] == list(range(50))
    assert {r[1] for r in rows} == {1}
    assert {r[2] for r in rows} == {correlation}
    with db(producer_db).cursor() as cur:
        cur.execute("SELECT count(*) FROM kit_outbox WHERE sent_at IS NULL")
        assert cur.fetchone()[0] == 0
        # on whose behalf, as the caller's token names the agency and its kind
        cur.execute("SELECT DISTINCT headers->>'ce-agency', headers->>'ce-agencykind' FROM kit_outbox")
        assert cur.fetchall() == [("Dinas Sosial Kalimantan Tengah", "province")]


def test_rolled_back_transaction_publishes_nothing(pair, token, db):
    producer, consumer, producer_db, consumer_db = pair()
    response = publish(producer, token, count=5, start=100, fail_after_publishing=True)
    assert response.status_code == 409
    assert response.headers["Content-Type"] == "application/problem+json"
    # A later event arrives; the rolled-back ones, written to the outbox before it, never do.
    assert publish(producer, token, count=1, start=7).status_code == 201
    wait_for(lambda: applied_rows(db, consumer_db), what="the later event applied")
    assert [r[0] for r in applied_rows(db, consumer_db)] == [7]
    with db(producer_db).cursor() as cur:
        cur.execute("SELECT count(*) FROM kit_outbox")
        assert cur.fetchone()[0] == 1


def test_plain_nameko_event_handler_receives_the_data(pair, token, run_service, make_database, tmp_path,
                                                      amqp_uri):
    out = tmp_path / "listener.jsonl"
    listener_db = make_database(prefix="listener")
    # nameko's own @event_handler declares the source exchange for real, which a
    # restricted account may not do (a partner on nameko uses the kit's @handles)
    run_service("listener", "tests.support.services:NamekoListener", listener_db, wait=False,
                env={"LISTENER_OUT": str(out)}, own_account=False)
    wait_for(lambda: queue_exists(amqp_uri, "evt-producer-thing.happened--listener.on_thing"))
    producer, *_ = pair()
    assert publish(producer, token, count=3, start=40).status_code == 201
    wait_for(lambda: out.exists() and len(out.read_text().splitlines()) == 3)
    payloads = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(p["seq"] for p in payloads) == [40, 41, 42]
    assert all(set(p) == {"seq", "note"} for p in payloads)


def test_a_kombu_partner_binds_by_routing_key(pair, token, amqp_uri):
    producer, *_ = pair()
    with kombu.Connection(amqp_uri) as conn:
        queue = kombu.Queue("partner-things", exchange=topology.event_exchange("producer"),
                            routing_key="thing.happened", durable=False, auto_delete=True)
        received = []
        with conn.Consumer(queue, callbacks=[lambda body, msg: (received.append((body, msg.headers)), msg.ack())]):
            assert publish(producer, token, count=2, start=5).status_code == 201

            def two_received():
                try:
                    conn.drain_events(timeout=1)
                except TimeoutError:
                    pass
                return len(received) >= 2

            wait_for(two_received, timeout=20, interval=0, what="both events at the partner's queue")
    assert sorted(body["seq"] for body, _ in received) == [5, 6]
    assert all(headers["ce-type"] == "thing.happened" for _, headers in received)


def test_a_hold_delays_the_relay_until_released_or_its_lease_runs_out(pair, token, db):
    """A bulk load holds its service's relay: events written meanwhile wait,
    and leave in order once the hold is released (or its lease ends)."""
    from setiakawan_kit import outbox
    producer, consumer, producer_db, consumer_db = pair()

    def unsent():
        with db(producer_db).cursor() as cur:
            cur.execute("SELECT count(*) FROM kit_outbox WHERE sent_at IS NULL")
            return cur.fetchone()[0]

    def publish_while_held(count, start):
        # the relay has looked at its outbox since the rows were written
        # (two held polls after the request: the first may have begun before)
        before = producer.metric("setiakawan_outbox_held_polls_total")
        assert publish(producer, token, count=count, start=start).status_code == 201
        wait_for(lambda: producer.metric("setiakawan_outbox_held_polls_total") >= before + 2,
                 what="the relay polling its held outbox", services=[producer])

    with db(producer_db).cursor() as cur:
        outbox.hold(cur, "bulk-1", "test load", 60)
    publish_while_held(20, 0)
    assert unsent() == 20  # the relay marks a row sent in the transaction that publishes it
    assert applied_rows(db, consumer_db) == []
    with db(producer_db).cursor() as cur:
        outbox.release(cur, "bulk-1")
    rows = wait_for(lambda: len(applied_rows(db, consumer_db)) == 20 and applied_rows(db, consumer_db),
                    what="20 events applied after the release")
    assert [r[0] for r in rows] == list(range(20))

    with db(producer_db).cursor() as cur:
        outbox.hold(cur, "bulk-2", "a loader that died", 4)
    publish_while_held(5, 20)
    assert unsent() == 5
    wait_for(lambda: len(applied_rows(db, consumer_db)) == 25, timeout=15, what="the lease running out")
