"""Two replicas of a service share one database and one outbox: every event
is published once, and the events of one subject leave in order."""
import threading
from collections import defaultdict

import kombu
import requests

from setiakawan_kit import outbox, topology
from setiakawan_kit.testing import wait_for


def test_two_relays_deliver_each_row_once_in_subject_order(make_database, run_service, amqp_uri, token, db):
    database = make_database(prefix="producer")
    replicas = [run_service(f"producer-{i}", "tests.support.services:Producer", database) for i in range(2)]
    auth = {"Authorization": f"Bearer {token()}"}
    received = []
    with kombu.Connection(amqp_uri) as conn:
        queue = kombu.Queue("capture-replicas", exchange=topology.event_exchange("producer"),
                            routing_key="#", durable=False, auto_delete=False)
        queue(conn.default_channel).declare()

        def post(k):
            response = requests.post(replicas[k % 2].url + "/things", headers=auth, timeout=60,
                                     json={"count": 50, "start": k * 50, "subjects": 5, "subject_prefix": f"r{k}"})
            assert response.status_code == 201, response.text

        threads = [threading.Thread(target=post, args=(k,)) for k in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        bound = queue(conn.default_channel)

        def all_received():
            while (message := bound.get(no_ack=True)) is not None:
                received.append((message.headers["ce-id"], message.headers["ce-subject"], message.payload["seq"]))
            return len(received) >= 2000

        wait_for(all_received, timeout=120, interval=0.2, what="2,000 events received",
                 state=lambda: len(received))
        bound.delete()

    assert len(received) == 2000
    assert len({event_id for event_id, _, _ in received}) == 2000  # no row published twice
    by_subject = defaultdict(list)
    for _, subject, seq in received:
        by_subject[subject].append(seq)
    assert len(by_subject) == 200
    assert all(seqs == sorted(seqs) for seqs in by_subject.values())

    def outbox_state():
        with db(database).cursor() as cur:
            cur.execute("SELECT count(*) FILTER (WHERE sent_at IS NULL), max(attempts) FROM kit_outbox")
            return cur.fetchone()

    # the relay marks rows sent just after the broker's confirms
    wait_for(lambda: outbox_state()[0] == 0, what="every row marked sent", state=outbox_state)
    assert outbox_state() == (0, 1)


def test_relay_purges_rows_sent_before_the_retention_period(make_database, infrastructure, amqp_uri, db):
    import psycopg2

    from setiakawan_kit.db import database_dsn
    from tests.support.services import THING_HAPPENED

    name = make_database(prefix="purge")
    dsn = database_dsn(infrastructure.database_url, name)
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        for seq in range(3):
            outbox.write(cur, THING_HAPPENED, "thing", {"seq": seq}, service="producer", agency="a")
        cur.execute("UPDATE kit_outbox SET sent_at = now() - interval '200 hours' WHERE id = (SELECT min(id) FROM kit_outbox)")
        cur.execute("UPDATE kit_outbox SET sent_at = now() - interval '1 hour' WHERE id = (SELECT max(id) FROM kit_outbox)")
    relay = outbox.Relay(dsn, amqp_uri, "producer", retention_hours=168)
    relay._ensure_connections()
    try:
        assert relay.purge_if_due() == 1
        assert relay.purge_if_due() == 0  # not due again yet
    finally:
        relay._drop_broker()
        relay._drop_db()
    with db(name).cursor() as cur:
        cur.execute("SELECT count(*), count(sent_at) FROM kit_outbox")
        assert cur.fetchone() == (2, 1)  # the unsent row stays, whatever its age


class WatchedRelay(outbox.Relay):
    """A relay whose linger holds until the test lets it go on, and which
    logs its lingers and the rows of each batch it sent."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.log, self.lingering, self.go_on = [], threading.Event(), threading.Event()

    def linger_for_more(self):
        self.log.append("linger")
        self.lingering.set()
        self.go_on.wait(timeout=60)

    def deliver_batch(self):
        claimed, held_back = super().deliver_batch()
        if claimed:
            self.log.append(claimed)
        return claimed, held_back


def test_a_relay_woken_while_events_keep_coming_lingers_for_more(make_database, infrastructure, amqp_uri):
    import psycopg2

    from setiakawan_kit.db import database_dsn
    from tests.support.services import THING_HAPPENED

    dsn = database_dsn(infrastructure.database_url, make_database(prefix="linger"))
    # idle_poll: no quiet spell of the relay's own between the events of the stream
    relay = WatchedRelay(dsn, amqp_uri, "producer", linger=60.0, idle_poll=60.0)
    running = threading.Thread(target=relay.run, daemon=True)
    running.start()
    conn = psycopg2.connect(dsn)
    conn.autocommit = True

    def store(seq):
        with conn.cursor() as cur:
            outbox.write(cur, THING_HAPPENED, f"thing-{seq}", {"seq": seq}, service="producer", agency="a")

    def sent_at():
        with conn.cursor() as cur:
            cur.execute("SELECT sent_at FROM kit_outbox ORDER BY id")
            return [row[0] for row in cur.fetchall()]

    try:
        wait_for(lambda: relay.broker_connected, timeout=30, interval=0.02, what="the relay connected")
        store(0)
        # a quiet relay publishes at once: a linger would hold it until the test lets it go on
        wait_for(lambda: 1 in relay.log, interval=0.02, what="the first event sent", state=lambda: relay.log)
        assert relay.log[0] == 1
        store(1)
        # woken while events keep coming, it lingers, and what comes meanwhile goes with the event that woke it
        wait_for(relay.lingering.is_set, interval=0.02, what="the relay lingering", state=lambda: relay.log)
        store(2)
        store(3)
        relay.go_on.set()
        wait_for(lambda: all(sent_at()), interval=0.02, what="every event sent", state=sent_at)
        assert relay.log[:3] == [1, "linger", 3]  # one batch, after the relay's linger
    finally:
        relay.go_on.set()
        relay.stop()
        with conn.cursor() as cur:
            cur.execute("SELECT pg_notify(%s, '')", (outbox.CHANNEL,))  # wakes the relay to see it must stop
        running.join(timeout=30)
        conn.close()
    assert not running.is_alive()
