"""The transactional outbox: ``write`` stores an event in the caller's
transaction; ``Relay`` delivers stored events to RabbitMQ with publisher
confirms, in order per subject, and marks a row sent only once the broker
has confirmed it.

A relay's round trips (claim, publish, confirm, mark) cost about the same
for one row as for hundreds. So a relay that is woken while events keep
coming (its last batch was not empty) waits ``linger`` seconds for more
before it claims them; one woken after a quiet spell publishes at once."""
import json
import logging
import random
import time

import amqp
import eventlet
import kombu
import psycopg2
import psycopg2.extras
from eventlet.hubs import trampoline

from setiakawan_contract import wire
from setiakawan_contract.envelope import make_event, source_of

from . import metrics, outages, topology

log = logging.getLogger(__name__)

CHANNEL = "setiakawan_outbox"


def write(cursor, event_type, subject, data, *, service, agency, correlationid=None,
          causationid=None, notify=True, agencykind=None):
    return write_many(cursor, event_type, [(subject, data)], service=service, agency=agency,
                      correlationid=correlationid, causationid=causationid, notify=notify,
                      agencykind=agencykind)[0]


def write_many(cursor, event_type, items, *, service, agency, correlationid=None, causationid=None, notify=True,
               agencykind=None):
    """Events of one type, ``items`` [(subject, data)], in one statement;
    returns them."""
    events, statement = prepare_many(cursor, event_type, items, service=service, agency=agency,
                                     correlationid=correlationid, causationid=causationid, notify=notify,
                                     agencykind=agencykind)
    if statement:
        cursor.execute(statement)
    return events


def prepare_many(cursor, event_type, items, *, service, agency, correlationid=None, causationid=None, notify=True,
                 agencykind=None):
    """(events, the statement that stores them, as bytes for ``cursor``'s
    connection, or None when there are none): for a caller that sends it
    with other statements in one round trip. The relay's wake-up goes in
    the same statement as the rows."""
    events = [new_event(event_type, subject, data, service=service, agency=agency, correlationid=correlationid,
                        causationid=causationid, agencykind=agencykind) for subject, data in items]
    rows = []
    for event in events:
        headers, content_type, body = wire.to_message(event)
        rows.append((event.id, topology.exchange_name(service), event.type, event.subject,
                     psycopg2.extras.Json(headers), content_type, body.decode()))
    if not rows:
        return events, None
    values = b", ".join(cursor.mogrify("(%s, %s, %s, %s, %s, %s, %s)", row) for row in rows)
    return events, (b"INSERT INTO kit_outbox (event_id, exchange, routing_key, subject, headers, content_type, body)"
                    b" VALUES " + values + (cursor.mogrify("; SELECT pg_notify(%s, '')", (CHANNEL,))
                                            if notify else b""))


def select_statement(cursor, event_type, select_sql, params, *, service, agency, correlationid=None,
                     causationid=None, agencykind=None):
    """The statement (bytes) that stores one event of ``event_type`` for each
    row of ``select_sql`` (columns ``subject`` text and ``data`` json or jsonb), its
    envelope made in SQL as ``wire.to_message`` makes it: for a set-based
    pass that publishes as many events as it changes rows, without bringing
    the rows to Python. Its result is how many it stored; the relay's
    wake-up (``notify``) is the caller's to send."""
    if not event_type.may_be_published_by(service):
        raise ValueError(f"{service} cannot publish {event_type.source_service}'s {event_type.name}")
    envelope = {"_ce_exchange": topology.exchange_name(service), "_ce_type": event_type.name,
                "_ce_source": source_of(service), "_ce_dataschema": event_type.dataschema_for(service),
                "_ce_agency": agency, "_ce_agencykind": agencykind, "_ce_correlation": correlationid,
                "_ce_causation": causationid}
    clash = set(params) & set(envelope)
    if clash:
        raise ValueError(f"parameter names reserved for the envelope: {sorted(clash)}")
    return cursor.mogrify(
        "WITH stored AS (INSERT INTO kit_outbox (event_id, exchange, routing_key, subject, headers, content_type, body)"
        " SELECT e.id, %(_ce_exchange)s, %(_ce_type)s, e.subject, jsonb_strip_nulls(jsonb_build_object("
        "  'ce-id', e.id::text, 'ce-source', %(_ce_source)s, 'ce-type', %(_ce_type)s, 'ce-specversion', '1.0',"
        "  'ce-time', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
        "  'ce-subject', e.subject, 'ce-dataschema', %(_ce_dataschema)s,"
        "  'ce-correlationid', coalesce(%(_ce_correlation)s, e.id::text), 'ce-causationid', %(_ce_causation)s,"
        "  'ce-agency', %(_ce_agency)s, 'ce-agencykind', %(_ce_agencykind)s)), 'application/json', e.data::text"
        f" FROM (SELECT gen_random_uuid() AS id, s.subject::text AS subject, s.data FROM ({select_sql}) s) e"
        " RETURNING 1) SELECT count(*) AS stored FROM stored", dict(params, **envelope))


def new_event(event_type, subject, data, *, service, agency, correlationid=None, causationid=None, plain=False,
              agencykind=None):
    """An event for ``copy_line``, checked against its schema like ``write``."""
    return make_event(event_type, subject, data, service=service, agency=agency, agencykind=agencykind,
                      correlationid=correlationid, causationid=causationid, plain=plain)


COPY_COLUMNS = "event_id, exchange, routing_key, subject, headers, content_type, body"


def copy_line(event, service):
    """One event as a line of ``COPY kit_outbox (COPY_COLUMNS) FROM STDIN``,
    for bulk writers; the caller sends ``pg_notify`` once after the COPY."""
    headers, content_type, body = wire.to_message(event)
    return copy_row((event.id, topology.exchange_name(service), event.type, event.subject,
                     json.dumps(headers, ensure_ascii=False), content_type, body.decode()))


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value):
    """A value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    return str(value).translate(_COPY_ESCAPES)


_LINE_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r"})


def copy_row(values):
    """A line of ``COPY … FROM STDIN`` (text format) for values that hold no
    tab (JSON never does; free text must be cleaned of them): escaped in one
    pass over the line rather than value by value."""
    line = "\t".join("\x00" if v is None else str(v) for v in values)
    return line.translate(_LINE_ESCAPES).replace("\x00", "\\N") + "\n"


def notify(cursor):
    cursor.execute("SELECT pg_notify(%s, '')", (CHANNEL,))


def hold(cursor, key, reason, lease_seconds):
    """Pause this database's relay until ``release(key)`` or until the lease
    runs out (renew it by calling ``hold`` again). A bulk load that writes
    hundreds of thousands of events holds the relay so that publishing them
    does not compete with the load for the machine; they are published,
    in order, once it ends. Events are delayed by a hold, never lost."""
    cursor.execute(
        "INSERT INTO kit_outbox_holds (key, reason, expires_at) VALUES (%s, %s, now() + make_interval(secs => %s))"
        " ON CONFLICT (key) DO UPDATE SET reason = EXCLUDED.reason, expires_at = EXCLUDED.expires_at",
        (key, reason, lease_seconds))


def release(cursor, key):
    cursor.execute("DELETE FROM kit_outbox_holds WHERE key = %s", (key,))
    notify(cursor)


HELD = "SELECT EXISTS (SELECT 1 FROM kit_outbox_holds WHERE expires_at > now())"


CLAIM = """
SELECT id, event_id, exchange, routing_key, subject, headers, content_type, body
  FROM kit_outbox WHERE sent_at IS NULL ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
"""

# Pending rows older than the batch that this relay could not lock belong to
# another replica; their subjects wait so that per-subject order holds.
BLOCKED_SUBJECTS = """
SELECT DISTINCT subject FROM kit_outbox
 WHERE sent_at IS NULL AND id < %s AND NOT (id = ANY(%s)) AND subject = ANY(%s)
"""


#: seconds a relay woken while events keep coming waits for more (``OUTBOX_LINGER``): at 200 events/s,
#: about ten a batch where every commit's wake-up sent one or two, for a delay no consumer notices
LINGER_S = 0.05


class BrokerUnavailable(Exception):
    pass


class Relay:
    """Delivers outbox rows of one service database to its events exchange."""

    def __init__(self, dsn, amqp_uri, service, batch_size=500, confirm_timeout=10.0,
                 max_backoff=5.0, idle_poll=1.0, retention_hours=168, purge_every=60.0, linger=LINGER_S):
        self.dsn = dsn
        self.amqp_uri = amqp_uri
        self.service = service
        self.batch_size = batch_size
        self.linger = linger
        self.confirm_timeout = confirm_timeout
        self.max_backoff = max_backoff
        self.idle_poll = idle_poll
        self.retention_hours = retention_hours
        self.purge_every = purge_every
        self._purged_at = 0.0
        self.running = False
        self._db = None
        self._listen = None
        self._broker = None
        self._channel = None
        self.broker_connected = False
        self.database_health = outages.dependency(service, outages.DATABASE)
        self.broker_health = outages.dependency(service, outages.BROKER)

    # -- loop ---------------------------------------------------------------
    def run(self):
        self.running = True
        backoff = 0.05
        while self.running:
            try:
                self._ensure_connections()
                claimed, held_back = self.deliver_batch()
                self.database_health.succeeded()
                backoff = 0.05
                if held_back:
                    eventlet.sleep(0.02)  # another replica is sending those subjects' earlier rows
                elif claimed < self.batch_size:
                    self.purge_if_due()
                    if self._wait_for_notify() and claimed and self.linger:
                        self.linger_for_more()
            except (psycopg2.Error, OSError, amqp.exceptions.AMQPError,
                    kombu.exceptions.KombuError, BrokerUnavailable) as exc:
                if not self.running:
                    break
                # the dependency logs once when it goes away; the retries are not news
                health = self.database_health if isinstance(exc, psycopg2.Error) else self.broker_health
                health.failed(exc)
                log.debug("outbox relay: %s; retrying in %.2fs", outages.one_line(exc), backoff)
                self._drop_broker()
                self._drop_db()
                eventlet.sleep(backoff + random.uniform(0, backoff / 2))
                backoff = min(backoff * 2, self.max_backoff)
        self._drop_broker()
        self._drop_db()

    def stop(self):
        self.running = False

    def linger_for_more(self):
        """Events keep coming: wait ``linger`` so that more of them go in the next batch."""
        eventlet.sleep(self.linger)

    def purge_if_due(self):
        """Delete rows sent more than ``retention_hours`` ago (kept that long
        for audit and replay), a bounded chunk at a time, when idle."""
        if time.monotonic() - self._purged_at < self.purge_every:
            return 0
        self._purged_at = time.monotonic()
        with self._db.cursor() as cur:
            cur.execute("DELETE FROM kit_outbox WHERE id IN (SELECT id FROM kit_outbox WHERE sent_at IS NOT NULL"
                        " AND sent_at < now() - make_interval(hours => %s) LIMIT 10000)", (self.retention_hours,))
            deleted = cur.rowcount
        self._db.commit()
        return deleted

    def deliver_batch(self):
        """Publish one batch; returns (rows claimed, rows held back because
        another replica holds earlier rows of their subjects)."""
        conn = self._db
        with conn.cursor() as cur:
            cur.execute(HELD)
            if cur.fetchone()[0]:
                conn.rollback()
                metrics.OUTBOX_HELD_POLLS.labels(self.service).inc()
                return 0, 0
            cur.execute(CLAIM, (self.batch_size,))
            rows = cur.fetchall()
            if not rows:
                conn.rollback()
                return 0, 0
            ids = [r[0] for r in rows]
            cur.execute(BLOCKED_SUBJECTS, (ids[-1], ids, list({r[4] for r in rows})))
            blocked = {r[0] for r in cur.fetchall()}
            rows = [r for r in rows if r[4] not in blocked]
            held_back = len(ids) - len(rows)
            acked, failed = self._publish(rows)
            sent = _sent_in_order(rows, acked)
            if sent:
                cur.execute("UPDATE kit_outbox SET sent_at = clock_timestamp(), attempts = attempts + 1"
                            " WHERE id = ANY(%s)", (sent,))
            sent_ids = set(sent)
            unsent = [r[0] for r in rows if r[0] not in sent_ids]
            if unsent:
                cur.execute("UPDATE kit_outbox SET attempts = attempts + 1, last_error = %s"
                            " WHERE id = ANY(%s)", ("not confirmed by the broker", unsent))
        conn.commit()
        if acked:
            self.broker_health.succeeded()
        for row in rows:
            if row[0] in acked:
                metrics.EVENTS_PUBLISHED.labels(self.service, row[3]).inc()
        if failed:
            raise BrokerUnavailable(f"{len(failed)} events not confirmed by the broker")
        return len(ids), held_back

    # -- broker -------------------------------------------------------------
    def _publish(self, rows):
        """Publish rows on a confirm-mode channel and wait for the broker's
        confirms; returns (acked ids, failed ids)."""
        channel = self._channel
        by_tag, acked, failed = {}, set(), set()
        first_tag = self._next_tag + 1

        def settle(tag, multiple, into):
            tags = range(first_tag, tag + 1) if multiple else (tag,)
            for t in tags:
                row_id = by_tag.pop(t, None)
                if row_id is not None:
                    into.add(row_id)

        # Listen before publishing: confirms can arrive while we still write.
        on_ack = lambda tag, multiple: settle(tag, multiple, acked)  # noqa: E731
        on_nack = lambda tag, multiple: settle(tag, multiple, failed)  # noqa: E731
        channel.events["basic_ack"].add(on_ack)
        channel.events["basic_nack"].add(on_nack)
        try:
            for row in rows:
                row_id, event_id, exchange, routing_key, _subject, headers, content_type, body = row
                message = amqp.Message(body.encode(), content_type=content_type, delivery_mode=2,
                                       message_id=str(event_id), application_headers=headers,
                                       timestamp=int(time.time()))
                self._next_tag += 1
                by_tag[self._next_tag] = row_id
                channel.basic_publish(message, exchange=exchange, routing_key=routing_key)
            self._await_confirms(by_tag)
        finally:
            channel.events["basic_ack"].discard(on_ack)
            channel.events["basic_nack"].discard(on_nack)
        return acked, failed

    def _await_confirms(self, by_tag):
        deadline = time.monotonic() + self.confirm_timeout
        while by_tag:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrokerUnavailable("timed out waiting for publisher confirms")
            self._broker.drain_events(timeout=remaining)

    def _ensure_connections(self):
        if self._db is None:
            self._db = psycopg2.connect(self.dsn)
            self._listen = psycopg2.connect(self.dsn)
            self._listen.autocommit = True
            with self._listen.cursor() as cur:
                cur.execute(f"LISTEN {CHANNEL}")
        if self._broker is None:
            broker = kombu.Connection(self.amqp_uri, connect_timeout=5, heartbeat=0)
            broker.connect()
            channel = broker.connection.channel()
            topology.event_exchange(self.service).declare(channel=channel)
            channel.confirm_select()
            self._broker, self._channel, self._next_tag = broker, channel, 0
            self.broker_connected = True
            self.broker_health.succeeded()
            log.info("outbox relay connected to the broker")

    def _wait_for_notify(self):
        """Until an event is stored or ``idle_poll`` passes; returns whether one was."""
        conn = self._listen
        conn.poll()
        if not conn.notifies:
            try:
                trampoline(conn.fileno(), read=True, timeout=self.idle_poll,
                           timeout_exc=eventlet.Timeout)
            except eventlet.Timeout:
                pass
            conn.poll()
        notified = bool(conn.notifies)
        conn.notifies.clear()
        return notified

    def _drop_broker(self):
        self.broker_connected = False
        if self._broker is not None:
            try:
                self._broker.release()
            except Exception:  # noqa: BLE001 - the connection is already gone
                pass
        self._broker = self._channel = None

    def _drop_db(self):
        for conn in (self._db, self._listen):
            if conn is not None:
                try:
                    conn.close()
                except psycopg2.Error:
                    pass
        self._db = self._listen = None


def _sent_in_order(rows, acked):
    """Acked rows, except those after an unconfirmed row of the same subject:
    those go again, so a consumer never sees a subject's events reordered."""
    stopped, sent = set(), []
    for row in rows:
        row_id, subject = row[0], row[4]
        if subject in stopped:
            continue
        if row_id in acked:
            sent.append(row_id)
        else:
            stopped.add(subject)
    return sent


def backlog(cursor):
    cursor.execute("SELECT count(*) AS n FROM kit_outbox WHERE sent_at IS NULL")
    row = cursor.fetchone()
    return row["n"] if isinstance(row, dict) else row[0]
