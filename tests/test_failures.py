"""Fault injection: the broker restarting, the consumer and the producer
killed with SIGKILL while events are in flight, the broker closing the
consumer's connection under handlers in flight, a connection dying under
unacked messages. In every case each event committed by the producer reaches
the consumer and has exactly one effect (``applied.applications`` stays 1:
redeliveries are absorbed by the inbox), and the services recover by
themselves.

They are marked ``failure`` (``pytest -m failure`` / ``-m "not failure"``).
Those that restart the broker or cut its connections take ``own_broker``:
they run only on a RabbitMQ node started for the test session, never on
one a developer works with.
"""
import functools
import json
import socket
import threading
import time
import urllib.parse

import kombu
import pytest
import requests

from setiakawan_kit import topology
from setiakawan_kit.testing import wait_for as _wait_for

from .conftest import SUPPORT_MIGRATIONS

WAIT_S = 120

HANDLER_QUEUE = topology.handler_queue_name("producer", "thing.happened", "consumer", "on_thing")


# -- helpers ------------------------------------------------------------------

wait_for = functools.partial(_wait_for, timeout=WAIT_S)


def post_things(producer, token, **body):
    return requests.post(producer.url + "/things", json=body,
                         headers={"Authorization": f"Bearer {token()}"}, timeout=60)


def scalar(conn, sql, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()[0]


def applied_summary(conn):
    """(rows, distinct seqs, min seq, max seq, max applications)."""
    with conn.cursor() as cur:
        cur.execute("SELECT count(*), count(DISTINCT seq), min(seq), max(seq),"
                    " coalesce(max(applications), 0) FROM applied")
        return cur.fetchone()


def unsent(conn):
    return scalar(conn, "SELECT count(*) FROM kit_outbox WHERE sent_at IS NULL")


def ready_messages(amqp_uri, queue_names):
    """Messages ready in each queue (passive declare: unacked not counted)."""
    counts = {}
    with kombu.Connection(amqp_uri, connect_timeout=5) as conn:
        for name in queue_names:
            channel = conn.channel()
            try:
                counts[name] = channel.queue_declare(name, passive=True).message_count
            finally:
                channel.close()
    return counts


def handler_queues():
    retries = [topology.retry_queue("consumer", HANDLER_QUEUE, attempt, 100).name for attempt in range(1, 3)]
    return [HANDLER_QUEUE, *retries]


def broker_port_open(broker):
    try:
        socket.create_connection((broker.host, broker.port), timeout=1).close()
        return True
    except OSError:
        return False


def handler_queue_connections(broker, vhost):
    """Names of the connections consuming from the handler queue."""
    consumers = json.loads(broker.admin._api("GET", f"consumers/{urllib.parse.quote(vhost, safe='')}"))
    # a consumer the broker has only just registered can be listed with its
    # channel details still empty ([]): it is not counted until they are in
    return {c["channel_details"]["connection_name"] for c in consumers
            if c["queue"]["name"] == HANDLER_QUEUE and isinstance(c.get("channel_details"), dict)
            and c["channel_details"].get("connection_name")}


def open_transactions(conn, database):
    return scalar(conn, "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
                        " AND state = 'idle in transaction'", (database,))


MARKER_SEQ = 10**9  # a last event, published once everything else has settled


def assert_every_event_applied_once(consumer_db, producer_db, amqp_uri, expected_seqs, producer, consumer, token):
    """Wait until every expected event is applied and everything has settled
    (outbox sent, handler queues drained, then a marker event published
    behind any redelivery applied too), then check exactly-once."""
    n = len(expected_seqs)
    services = [producer, consumer]
    wait_for(lambda: applied_summary(consumer_db)[0] >= n, what=f"{n} events applied",
             services=services, state=lambda: (applied_summary(consumer_db), unsent(producer_db)))
    wait_for(lambda: unsent(producer_db) == 0, what="producer outbox fully sent",
             services=services, state=lambda: unsent(producer_db))
    wait_for(lambda: not any(ready_messages(amqp_uri, handler_queues()).values()),
             what="handler queues drained", services=services,
             state=lambda: ready_messages(amqp_uri, handler_queues()))
    # A late redelivery of a message still unacked goes to the queue ahead of the marker.
    response = post_things(producer, token, count=1, start=MARKER_SEQ, subject_prefix="marker")
    assert response.status_code == 201, response.text
    wait_for(lambda: scalar(consumer_db, "SELECT count(*) FROM applied WHERE seq = %s", (MARKER_SEQ,)),
             what="the marker event applied", services=services)

    with consumer_db.cursor() as cur:
        cur.execute("SELECT seq, count(*), sum(applications) FROM applied WHERE seq <> %s GROUP BY seq ORDER BY seq",
                    (MARKER_SEQ,))
        rows = cur.fetchall()
    seqs = [r[0] for r in rows]
    assert seqs == sorted(expected_seqs), (
        f"missing: {sorted(set(expected_seqs) - set(seqs))[:20]}, "
        f"unexpected: {sorted(set(seqs) - set(expected_seqs))[:20]}")
    twice = [r for r in rows if r[1] != 1 or r[2] != 1]
    assert not twice, f"events with more than one effect (seq, rows, applications): {twice[:20]}"
    assert scalar(consumer_db, "SELECT count(*) FROM kit_inbox") == n + 1
    assert scalar(producer_db, "SELECT count(*) FROM kit_outbox") == n + 1
    assert unsent(producer_db) == 0
    dead = ready_messages(amqp_uri, [topology.dead_letter_queue("consumer", HANDLER_QUEUE).name])
    assert not any(dead.values()), f"dead-lettered: {dead}"


# -- tests --------------------------------------------------------------------

@pytest.mark.failure
def test_broker_restart_while_publishing_loses_and_duplicates_nothing(
        pair, token, db, own_broker, amqp_uri):
    # Slow handlers, so that some are in flight (applied, not yet acked) when the broker stops.
    producer, consumer, producer_db, consumer_db = pair(consumer_env={"CONSUMER_DELAY_S": "0.02"})
    broker = own_broker
    requests_total, per_request = 40, 50
    # Requests 0-14 go while the broker is up (the restart starts after 10),
    # 15-29 once its port is closed, 30-39 after it is back.
    down_from, up_from = 15, 30
    broker_down = threading.Event()
    restarted = threading.Event()
    done = []
    errors = []
    statuses = {}
    posted_while_down = []

    def publisher():
        try:
            for i in range(requests_total):
                if i == down_from:
                    if not broker_down.wait(WAIT_S):
                        raise AssertionError("never saw the broker down")
                if i == up_from:
                    if not restarted.wait(WAIT_S):
                        raise AssertionError("broker restart did not finish")
                down_before = down_from <= i < up_from and not broker_port_open(broker)
                response = post_things(producer, token, count=per_request, start=i * per_request,
                                       subjects=25)
                statuses[i] = (response.status_code, response.text[:300])
                if down_before and not broker_port_open(broker):
                    posted_while_down.append(i)
                done.append(i)
                time.sleep(0.05)
        except Exception as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    def watch_broker():
        seen = wait_for(lambda: "down" if not broker_port_open(broker) else restarted.is_set() and "restarted",
                        interval=0.02, what="the broker's port closing")
        if seen == "down":
            broker_down.set()

    thread = threading.Thread(target=publisher, daemon=True)
    thread.start()
    wait_for(lambda: len(done) >= 10 or errors or not thread.is_alive(), what="first requests done")
    watcher = threading.Thread(target=watch_broker, daemon=True)
    watcher.start()
    try:
        broker.restart(down_seconds=3.0)
    finally:
        restarted.set()
    watcher.join(WAIT_S)
    thread.join(WAIT_S)
    assert not thread.is_alive(), "publisher thread did not finish"
    assert not errors, errors

    # The HTTP endpoint only writes to PostgreSQL: every request succeeded, broker or not.
    assert {i: s for i, s in statuses.items() if s[0] != 201} == {}
    assert sorted(statuses) == list(range(requests_total))
    assert posted_while_down, "no request was posted while the broker was down"

    assert_every_event_applied_once(db(consumer_db), db(producer_db), amqp_uri,
                                    list(range(requests_total * per_request)), producer, consumer, token)
    # Both processes recovered by themselves and report healthy.
    producer.wait_healthy(timeout=30)
    consumer.wait_healthy(timeout=30)


@pytest.mark.failure
def test_consumer_killed_mid_handler_applies_every_event_once_after_restart(
        pair, token, db, amqp_uri):
    producer, consumer, producer_db, consumer_db = pair(consumer_env={"CONSUMER_DELAY_S": "0.02"})
    total = 1000
    response = post_things(producer, token, count=total, subjects=50)
    assert response.status_code == 201, response.text
    consumer_conn = db(consumer_db)

    wait_for(lambda: applied_summary(consumer_conn)[0] >= 150, interval=0.02,
             what="some events applied", services=[consumer],
             state=lambda: applied_summary(consumer_conn))
    consumer.kill()
    applied_at_kill = applied_summary(consumer_conn)[0]
    assert applied_at_kill < total, "all events were applied before the kill; the test proved nothing"

    consumer.start()
    assert_every_event_applied_once(consumer_conn, db(producer_db), amqp_uri, list(range(total)),
                                    producer, consumer, token)


@pytest.mark.failure
def test_producer_killed_while_relaying_backlog_delivers_every_event_once(
        make_database, run_service, token, db, amqp_uri):
    producer_db = make_database(prefix="producer")
    consumer_db = make_database(SUPPORT_MIGRATIONS, prefix="consumer")
    consumer = run_service("consumer", "tests.support.services:Consumer", consumer_db)
    # Small batches: the kill lands between batches or mid-batch, with
    # published but unconfirmed (hence not marked sent) rows.
    producer = run_service("producer", "tests.support.services:Producer", producer_db,
                           OUTBOX_BATCH_SIZE=200)
    producer_conn = db(producer_db)
    requests_total, per_request = 2, 10000

    for i in range(requests_total):
        response = post_things(producer, token, count=per_request, start=i * per_request, subjects=100)
        assert response.status_code == 201, response.text
    total = requests_total * per_request

    def sent():
        return scalar(producer_conn, "SELECT count(*) FROM kit_outbox WHERE sent_at IS NOT NULL")

    wait_for(lambda: sent() >= 1000, interval=0.01, what="relay under way", services=[producer],
             state=sent)
    producer.kill()
    sent_at_kill = sent()
    assert sent_at_kill < total, "the relay had sent everything before the kill; the test proved nothing"

    producer.start()
    assert_every_event_applied_once(db(consumer_db), producer_conn, amqp_uri, list(range(total)),
                                    producer, consumer, token)


@pytest.mark.failure
def test_handlers_in_flight_when_the_broker_closes_the_connection_apply_once(
        make_database, run_service, token, db, own_broker, vhost, amqp_uri, tmp_path):
    """Ten handlers hold uncommitted effects when the broker closes the
    consumer's connection; they commit afterwards, their acks cannot reach
    the broker, which redelivers the ten messages on the new connection: the
    inbox absorbs them, and the consumer process carries on."""
    broker = own_broker
    gate = tmp_path / "gate"
    producer_db = make_database(prefix="producer")
    consumer_db = make_database(SUPPORT_MIGRATIONS, prefix="consumer")
    # one event per transaction here, so that ten handlers hold ten open transactions
    consumer = run_service("consumer", "tests.support.failure_services:GatedConsumer", consumer_db,
                           env={"CONSUMER_GATE": str(gate)}, EVENT_BATCH={"max_size": 1})
    producer = run_service("producer", "tests.support.services:Producer", producer_db)
    total = 30
    response = post_things(producer, token, count=total, subjects=total)
    assert response.status_code == 201, response.text

    # All ten workers (prefetch = max_workers = 10) hold an uncommitted effect.
    server = db("postgres")
    wait_for(lambda: open_transactions(server, consumer_db) >= 10, what="10 handlers in flight",
             services=[consumer], state=lambda: open_transactions(server, consumer_db))
    old = wait_for(lambda: handler_queue_connections(broker, vhost), what="consumer listed",
                   services=[consumer])
    broker.cut_connections(vhost)
    # The consumer consumes again on a new connection while the old handlers still wait.
    wait_for(lambda: (handler_queue_connections(broker, vhost) or old).isdisjoint(old),
             what="consumer reconnected", services=[consumer],
             state=lambda: (old, handler_queue_connections(broker, vhost)))
    assert open_transactions(server, consumer_db) >= 10

    gate.touch()
    assert_every_event_applied_once(db(consumer_db), db(producer_db), amqp_uri, list(range(total)),
                                    producer, consumer, token)
    assert consumer.process.poll() is None, f"consumer exited:\n{consumer.log_tail()}"
    consumer.wait_healthy(timeout=30)
    consumed = functools.partial(consumer.metric, "setiakawan_events_consumed_total")
    assert consumed(outcome="applied") == total + 1  # and the marker
    assert consumed(outcome="duplicate") >= 10  # the ten redeliveries, absorbed


@pytest.mark.failure
def test_ack_on_a_connection_that_died_under_the_message_does_not_raise(amqp_uri):
    """nameko's QueueConsumer only guards against amqp's own ConnectionError;
    a socket error (the broker restarted or reset the connection before the
    consumer thread noticed) escaped from the ack into the worker and nameko
    killed the whole container (seen in a run of the broker-restart test,
    where it depends on timing); here the socket is shut under two unacked
    messages on purpose."""
    from setiakawan_kit.consumer import RawQueueConsumer

    queue = kombu.Queue("failure-ack-probe", durable=True, auto_delete=False)
    with kombu.Connection(amqp_uri) as conn:
        channel = conn.channel()
        queue(channel).declare()
        producer = kombu.Producer(channel)
        for n in range(2):
            producer.publish({"n": n}, routing_key=queue.name, delivery_mode=2)
        bound = queue(channel)
        first = wait_for(lambda: bound.get(no_ack=False), what="first message")
        second = wait_for(lambda: bound.get(no_ack=False), what="second message")
        conn.connection.sock.shutdown(socket.SHUT_RDWR)
        assert first.channel.connection, "the channel must still look alive, as in the race"
        consumer = RawQueueConsumer()
        consumer.ack_message(first)
        consumer.requeue_message(second)
    # Neither settle reached the broker: it redelivers both.
    with kombu.Connection(amqp_uri) as conn:
        bound = queue(conn.channel())
        again = [wait_for(lambda: bound.get(no_ack=True), what="message redelivered") for _ in range(2)]
        assert sorted(m.payload["n"] for m in again) == [0, 1]
        assert bound.get(no_ack=True) is None
