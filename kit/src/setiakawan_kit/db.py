"""PostgreSQL through psycopg2, made cooperative under eventlet with
psycogreen: a blocking connection pool, a unit of work that carries the
outbox, and the nameko dependency that hands both to a worker."""
import logging
import threading
import time
import weakref
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import psycopg2.extras
from eventlet.patcher import original
from nameko.extensions import DependencyProvider

from . import context, outages, outbox

log = logging.getLogger(__name__)

# eventlet's select yields to the hub even when told not to wait; a look
# that never blocks needs no green version (and poll takes any descriptor)
_poll = original("select").poll
POLLIN = original("select").POLLIN


def green():
    """Let psycopg2 yield to the eventlet hub while it waits on the server."""
    from psycogreen.eventlet import patch_psycopg
    patch_psycopg()


def database_dsn(server_url, database):
    """``server_url`` with its database replaced by ``database``."""
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def dsn_from_config(config):
    return database_dsn(config["DATABASE_URL"], config["DATABASE_NAME"])


class Pool:
    """A fixed-size pool that waits for a free connection and heals.

    Connections are made when first needed, so a service starts while its
    database is down. A connection that failed with an outage is closed,
    not reused. Before reuse, an idle connection makes a round trip when
    the server sent it something meanwhile (a server that shut down or ended
    the session says so), when it has been idle for ``check_after`` seconds
    (a silent network is only found this way) or when the database has failed
    anywhere in the process since it was returned (a restarted server has
    dropped every connection, not only the one that noticed)."""

    def __init__(self, dsn, size, health, check_after=30.0, connect_timeout=5):
        self.dsn = dsn
        self.size = size
        self.health = health
        self.check_after = check_after
        self.connect_timeout = connect_timeout
        self._idle = []  # (connection, returned at, failures seen by then)
        self._slots = threading.BoundedSemaphore(size)
        self._closed = False

    @contextmanager
    def connection(self):
        with self._slots:
            conn = self._take()
            broken = False
            try:
                yield conn
            except BaseException as exc:
                broken = outages.connection_lost(exc)
                raise
            finally:
                broken = broken or conn.closed
                if not broken and conn.status != psycopg2.extensions.STATUS_READY:
                    try:
                        conn.rollback()
                    except psycopg2.Error:
                        broken = True
                if broken or self._closed:
                    _close(conn)
                else:
                    self._idle.append((conn, time.monotonic(), self.health.failures))

    def _take(self):
        while self._idle:
            conn, returned_at, failures = self._idle.pop()  # the most recent: the others may close when idle
            try:
                if conn.closed:
                    continue
                if failures != self.health.failures or time.monotonic() - returned_at >= self.check_after \
                        or _has_input(conn):
                    with conn.cursor() as cur:
                        cur.execute("SELECT 1")
                    conn.rollback()
                return conn
            except psycopg2.Error:
                _close(conn)
        # keepalives: a server gone without a word (a failover, a cut network) is
        # found in seconds, not after the kernel's retransmissions (minutes)
        return psycopg2.connect(self.dsn, connect_timeout=self.connect_timeout, keepalives=1,
                                keepalives_idle=10, keepalives_interval=5, keepalives_count=3,
                                tcp_user_timeout=30000)

    def close(self):
        self._closed = True
        idle, self._idle = self._idle, []
        for conn, _, _ in idle:
            _close(conn)


def _has_input(conn):
    """Whether the server sent an idle connection something: nothing is due
    between transactions, so it is a shutdown notice, a terminated session or
    the connection's end."""
    poller = _poll()
    poller.register(conn.fileno(), POLLIN)
    return bool(poller.poll(0))


def _close(conn):
    try:
        conn.close()
    except psycopg2.Error:
        pass


#: the statements each connection has prepared (a prepared statement lives as long as its session)
_prepared = weakref.WeakKeyDictionary()


class UnitOfWork:
    """One database transaction. Events published here are written to the
    outbox in the same transaction, so they leave only if it commits."""

    def __init__(self, conn, service):
        self.conn = conn
        self.service = service
        self.cursor = conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor)
        self.published = []

    def publish(self, event_type, subject, data):
        ctx = context.current()
        event = outbox.write(self.cursor, event_type, subject, data, service=self.service,
                             agency=ctx.agency or self.service,
                             correlationid=ctx.correlation_id, causationid=ctx.causation_id,
                             notify=not self.published)
        self.published.append(event)
        return event

    def publish_many(self, event_type, items):
        """Publish events of one type, ``items`` [(subject, data)], with one
        statement: the same as ``publish`` for each, fewer round trips."""
        ctx = context.current()
        events = outbox.write_many(self.cursor, event_type, items, service=self.service,
                                   agency=ctx.agency or self.service, correlationid=ctx.correlation_id,
                                   causationid=ctx.causation_id, notify=not self.published)
        self.published.extend(events)
        return events

    def execute(self, sql, params=None):
        self.cursor.execute(sql, params)
        return self.cursor

    def prepared(self, name, statement, types, params):
        """Run ``statement`` (its parameters written ``$1``, ``$2``…, of the
        PostgreSQL ``types``) as a statement prepared once per connection: a
        hot query whose planning costs more than its run."""
        return self.prepared_in_turn([(name, statement, types, params)])

    def prepared_in_turn(self, statements):
        """Run prepared statements [(name, statement, types, params)] one
        after the other in one round trip (each sees what the ones before it
        committed or locked); the cursor holds the last one's rows."""
        names = _prepared.setdefault(self.conn, set())
        for name, statement, types, _ in statements:
            if name not in names:
                self.cursor.execute(f"PREPARE {name} ({', '.join(types)}) AS {statement}")
                names.add(name)
        self.cursor.execute("; ".join(f"EXECUTE {name} ({', '.join(f'%s::{t}' for t in types)})"
                                      for name, _, types, _ in statements),
                            [p for *_, params in statements for p in params])
        return self.cursor

    def fetchone(self, sql, params=None):
        return self.execute(sql, params).fetchone()

    def fetchall(self, sql, params=None):
        return self.execute(sql, params).fetchall()


class Database:
    """A pool plus transactions for one service's database."""

    def __init__(self, dsn, service, size=10):
        self.dsn = dsn
        self.service = service
        self.health = outages.dependency(service, outages.DATABASE)
        self.pool = Pool(dsn, size, self.health)

    @contextmanager
    def transaction(self):
        """One transaction; an outage met on the way (at connect, in a
        statement, at commit) is counted against the database and raised."""
        try:
            with self.pool.connection() as conn:
                uow = UnitOfWork(conn, self.service)
                try:
                    yield uow
                except BaseException:
                    if not conn.closed:
                        conn.rollback()
                    raise
                else:
                    conn.commit()
                finally:
                    if not conn.closed:
                        uow.cursor.close()
        except psycopg2.Error as exc:
            outages.note(self.service, exc)
            raise
        self.health.succeeded()

    def ping(self):
        with self.transaction() as uow:
            return uow.fetchone("SELECT 1 AS ok")["ok"] == 1

    def close(self):
        self.pool.close()


class DatabaseProvider(DependencyProvider):
    """nameko dependency: the service's :class:`Database`.

    Pool size defaults to the container's worker count plus two for the
    HTTP health check and metrics, so workers never wait on each other."""

    def setup(self):
        green()
        config = self.container.config
        size = int(config.get("DATABASE_POOL_SIZE") or self.container.max_workers + 2)
        self.database = Database(dsn_from_config(config), self.container.service_name, size)

    def stop(self):
        self.database.close()

    def kill(self):
        self.database.close()

    def get_dependency(self, worker_ctx):
        return self.database
