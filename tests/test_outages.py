"""Outages are weather: the database, the broker, or both stopped for a
while (``SETIAKAWAN_OUTAGE_SECONDS``, 10 by default) under HTTP and event
traffic, then started again.

Three services of the three kinds run on a PostgreSQL cluster of the test's
own and on the session's own RabbitMQ node, never a developer's: the
producer (HTTP writes, publishing through its outbox), the consumer
(applying the producer's events) and the ledger (both). Asserted: every
HTTP answer is a success or a 503 problem document with ``Retry-After``;
every service is healthy within 10 s of the dependency's return; every event
the producer committed, before, during or after, is applied exactly once by
both consumers; nothing is dead-lettered. A handler's own error still ends
in the dead-letter queue after its attempts, without costing its batch
neighbours an attempt.
"""
import os
import threading
import time

import kombu
import psycopg2
import pytest
import requests

from setiakawan_kit import topology
from setiakawan_kit.db import database_dsn
from setiakawan_kit.postgres_node import PostgresCluster
from setiakawan_kit.testing import started_cluster, wait_for

from .conftest import SUPPORT_MIGRATIONS
from .test_event_flow import publish

OUTAGE_S = float(os.environ.get("SETIAKAWAN_OUTAGE_SECONDS", "10"))
HEALTHY_WITHIN_S = 10
PROBLEM_JSON = "application/problem+json"
HANDLER_QUEUES = {"consumer": topology.handler_queue_name("producer", "thing.happened", "consumer", "on_thing"),
                  "ledger": topology.handler_queue_name("producer", "thing.happened", "ledger", "on_thing")}


@pytest.fixture
def consumer_postgres(own_postgres):
    """A second cluster of the test's own, for the consumer alone."""
    cluster = PostgresCluster()
    try:
        yield started_cluster(cluster)
    finally:
        cluster.remove()


@pytest.fixture
def trio(own_postgres, consumer_postgres, own_broker, run_service):
    """The producer and the ledger on the test's own cluster, the consumer on another."""
    clusters = {"producer": own_postgres, "consumer": consumer_postgres, "ledger": own_postgres}
    databases = {"producer": own_postgres.database(prefix="producer"),
                 "consumer": consumer_postgres.database(SUPPORT_MIGRATIONS, prefix="consumer"),
                 "ledger": own_postgres.database(SUPPORT_MIGRATIONS, prefix="ledger")}
    targets = {"consumer": "tests.support.services:Consumer", "ledger": "tests.support.outage_services:Ledger",
               "producer": "tests.support.services:Producer"}
    services = {name: run_service(name, target, databases[name], DATABASE_URL=clusters[name].url)
                for name, target in targets.items()}
    return services, databases, clusters


class Traffic:
    """Requests to the producer (events) and the ledger (marks), paced, on a
    thread, until stopped; every answer is kept."""

    def __init__(self, services, token):
        self.services, self.token = services, token
        self.answers = []  # (service, number, status, content type, Retry-After, body)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        n = 0
        while not self._stop.is_set():
            headers = {"Authorization": f"Bearer {self.token()}"}
            for service, path, body in (("producer", "/things", {"count": 5, "start": n * 5, "subjects": 7}),
                                        ("ledger", "/marks", {"n": n})):
                try:
                    response = requests.post(self.services[service].url + path, json=body, headers=headers,
                                             timeout=30)
                except requests.RequestException as exc:
                    self.answers.append((service, n, None, None, None, repr(exc)))
                    continue
                self.answers.append((service, n, response.status_code, response.headers.get("Content-Type"),
                                     response.headers.get("Retry-After"), response.text[:300]))
            n += 1
            self._stop.wait(0.05)  # pacing, about 15 requests a second to each

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(60)

    def count(self, predicate):
        return sum(1 for answer in self.answers if predicate(answer))


def scalar(conn, sql, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()[0]


def healthy(service):
    try:
        return requests.get(service.url + "/health", timeout=3).status_code == 200
    except requests.RequestException:
        return False


def dead_letter_counts(amqp_uri):
    counts = {}
    with kombu.Connection(amqp_uri, connect_timeout=5) as conn:
        for service, queue in HANDLER_QUEUES.items():
            channel = conn.channel()
            try:
                name = topology.dead_letter_queue(service, queue).name
                counts[name] = channel.queue_declare(name, passive=True).message_count
            finally:
                channel.close()
    return counts


def outage(kind, clusters, broker, during):
    """Stop what ``kind`` names for OUTAGE_S seconds, calling ``during()``
    meanwhile; returns when it is back."""
    stopped = {"database": [clusters["producer"], clusters["consumer"]], "broker": [],
               "both": [clusters["producer"], clusters["consumer"]], "consumer-database": [clusters["consumer"]]}[kind]
    if kind in ("broker", "both"):
        broker.stop_app()
    for cluster in stopped:
        cluster.stop()
    began = time.monotonic()
    during()
    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - began)))  # the rest of the outage itself
    for cluster in stopped:
        cluster.start()
    if kind in ("broker", "both"):
        broker.start_app()


@pytest.mark.failure
@pytest.mark.parametrize("kind", ["database", "broker", "both", "consumer-database"])
def test_an_outage_costs_nothing_but_time(kind, trio, own_broker, token, amqp_uri):
    services, databases, clusters = trio
    everyone = list(services.values())
    consumer = services["consumer"]
    held = []

    def see_the_consumer_hold_events():
        # the producer goes on publishing; the consumer, its database away, holds what it receives
        held.append(wait_for(lambda: consumer.metric("setiakawan_events_waiting_for_dependency"),
                             timeout=OUTAGE_S, what="the consumer holding events", services=everyone))

    with Traffic(services, token) as traffic:
        wait_for(lambda: traffic.count(lambda a: a[2] == 201) >= 20, what="traffic flowing", services=everyone)
        outage(kind, clusters, own_broker, see_the_consumer_hold_events if kind == "consumer-database" else dict)
        back = time.monotonic()
        wait_for(lambda: all(healthy(s) for s in everyone), timeout=HEALTHY_WITHIN_S, interval=0.2,
                 what=f"every service healthy within {HEALTHY_WITHIN_S} s of the {kind}'s return",
                 services=everyone, state=lambda: {n: healthy(s) for n, s in services.items()})
        recovered_s = time.monotonic() - back
        served_after = len(traffic.answers)
        wait_for(lambda: traffic.count(lambda a: a[2] == 201 and a[0] == "producer") >= 5
                 and len(traffic.answers) >= served_after + 20, what="traffic after the outage", services=everyone)

    # Every answer was a success or an outage's 503 problem document.
    odd = [a for a in traffic.answers
           if a[2] != 201 and not (a[2] == 503 and a[3] == PROBLEM_JSON and a[4] and a[4].isdigit())]
    assert not odd, f"answers neither 201 nor a 503 problem with Retry-After: {odd[:5]}"
    unavailable = traffic.count(lambda a: a[2] == 503)
    if kind in ("broker", "consumer-database"):
        assert unavailable == 0, "the HTTP writes need only their own database"
    else:
        assert unavailable > 0, "no request met the outage; the test proved nothing"

    # Every event the producer committed is applied exactly once by both, nothing dead-lettered.
    def own_db(name):
        service = next(s for s, d in databases.items() if d == name)
        conn = psycopg2.connect(database_dsn(clusters[service].url, name))
        conn.autocommit = True
        opened.append(conn)
        return conn

    opened = []
    try:
        _check_every_event_applied_once(kind, services, databases, own_db, traffic, amqp_uri, held)
    finally:
        for conn in opened:
            conn.close()
    print(f"{kind}: healthy {recovered_s:.1f} s after its return; {unavailable} answers were 503")


def _check_every_event_applied_once(kind, services, databases, own_db, traffic, amqp_uri, held):
    everyone = list(services.values())
    producer_db = own_db(databases["producer"])
    committed = scalar(producer_db, "SELECT count(*) FROM kit_outbox")
    for name in ("consumer", "ledger"):
        conn = own_db(databases[name])
        wait_for(lambda: scalar(conn, "SELECT count(*) FROM applied") >= committed, timeout=120,
                 what=f"{committed} events applied by the {name}", services=everyone,
                 state=lambda: (scalar(conn, "SELECT count(*) FROM applied"),
                                scalar(producer_db, "SELECT count(*) FROM kit_outbox WHERE sent_at IS NULL")))
        with conn.cursor() as cur:
            cur.execute("SELECT count(*), count(DISTINCT seq), max(applications) FROM applied")
            assert cur.fetchone() == (committed, committed, 1)
    acknowledged = {a[1] for a in traffic.answers if a[0] == "producer" and a[2] == 201}
    with producer_db.cursor() as cur:
        cur.execute("SELECT DISTINCT (body::jsonb ->> 'seq')::int / 5 FROM kit_outbox")
        requests_committed = {r[0] for r in cur.fetchall()}
    assert acknowledged <= requests_committed, "a request answered 201 whose events are not in the outbox"
    marks = own_db(databases["ledger"])
    marked = {a[1] for a in traffic.answers if a[0] == "ledger" and a[2] == 201}
    assert marked <= {r for (r,) in _rows(marks, "SELECT n FROM marks")}
    assert not any(dead_letter_counts(amqp_uri).values()), dead_letter_counts(amqp_uri)

    # The operator saw it: infrastructure errors counted apart from handler failures.
    consumer = services["consumer"]
    assert consumer.metric("setiakawan_events_dead_lettered_total") == 0
    assert consumer.metric("setiakawan_events_retried_total") == 0
    dependency = "broker" if kind == "broker" else "database"
    noticed = services["consumer" if kind == "consumer-database" else "producer"]
    assert noticed.metric("setiakawan_infrastructure_errors_total", dependency=dependency) > 0
    assert noticed.metric("setiakawan_dependency_up", dependency=dependency) == 1
    assert consumer.metric("setiakawan_events_waiting_for_dependency") == 0
    if kind == "consumer-database":
        assert held and held[0] > 0


def _rows(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


@pytest.mark.parametrize("batch", [False, True], ids=["one-at-a-time", "batch"])
def test_a_handler_error_costs_only_its_own_event_an_attempt(pair, token, db, amqp_uri, batch):
    producer, consumer, _, consumer_db = pair({"CONSUMER_BATCH": "1"} if batch else None)
    # one transaction, one relay batch, one consumer batch: the refused event among 19 neighbours
    assert publish(producer, token, count=20, subjects=20, refuse=[7]).status_code == 201
    dead_queue = topology.dead_letter_queue("consumer", HANDLER_QUEUES["consumer"]).name

    def dead():
        with kombu.Connection(amqp_uri, connect_timeout=5) as conn:
            return conn.channel().queue_declare(dead_queue, passive=True).message_count

    wait_for(lambda: dead() == 1, what="the refused event dead-lettered", services=[producer, consumer])
    applied = _rows(db(consumer_db), "SELECT seq, applications FROM applied ORDER BY seq")
    assert applied == [(i, 1) for i in range(20) if i != 7]
    # only the refused event went round again (max_attempts 3 in the test config: two retries)
    assert consumer.metric("setiakawan_events_retried_total") == 2
    assert consumer.metric("setiakawan_events_dead_lettered_total") == 1
    assert consumer.metric("setiakawan_infrastructure_errors_total") == 0


def test_a_service_it_calls_being_away_is_a_503_too(make_database, run_service, token):
    # stands in for notifications, asking the registry for contact details; no registry runs
    lookup = run_service("notifications", "tests.support.services:ContactLookup", make_database(prefix="lookup"))
    response = requests.get(lookup.url + "/contacts/0b5e2f8a-4a37-4c43-9d6c-2f0c1f3d9a10",
                            headers={"Authorization": f"Bearer {token(role='admin')}"}, timeout=30)
    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"] == PROBLEM_JSON
    assert response.headers["Retry-After"].isdigit()
    assert response.json()["dependency"] == "registry"
    assert lookup.metric("setiakawan_infrastructure_errors_total", dependency="registry") == 1
    assert lookup.metric("setiakawan_dependency_up", dependency="registry") == 0
