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

# uuid columns read as text; uuid[] columns as lists of that text (not as the array's literal "{…}")
UUID_ARRAY_OID = 2951
psycopg2.extensions.register_type(psycopg2.extensions.new_array_type((UUID_ARRAY_OID,), "UUID[]", psycopg2.STRING))

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
                if not broken and _in_transaction(conn):
                    try:
                        with conn.cursor() as cur:
                            cur.execute("ROLLBACK")
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
                return conn
            except psycopg2.Error:
                _close(conn)
        # keepalives: a server gone without a word (a failover, a cut network) is
        # found in seconds, not after the kernel's retransmissions (minutes)
        conn = psycopg2.connect(self.dsn, connect_timeout=self.connect_timeout, keepalives=1,
                                keepalives_idle=10, keepalives_interval=5, keepalives_count=3,
                                tcp_user_timeout=30000)
        conn.autocommit = True  # the unit of work sends BEGIN and COMMIT with its statements
        try:
            with conn.cursor() as cur:
                # a statement the unit of work prepares is planned once: left to
                # choose, PostgreSQL plans anew at every run a statement whose
                # plans for the values at hand look cheaper than the generic one,
                # which for a hot query costs more than running it
                cur.execute("SET plan_cache_mode = force_generic_plan")
        except psycopg2.Error:
            _close(conn)
            raise
        return conn

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


#: {connection: {statement name: (when it was prepared, seconds until it is
#: prepared again)}} (a prepared statement lives as long as its session)
_prepared = weakref.WeakKeyDictionary()

#: seconds after which a prepared statement is prepared again: its one plan
#: was made for the tables as they were (a table empty when the service
#: started is best read whole, and stays so in the plan once it has grown;
#: where autovacuum analyses the tables the plan is remade sooner). A new
#: statement is planned again after REPLAN_FIRST seconds, then after twice
#: as long each time up to REPLAN_AFTER: tables filling from empty just
#: after the service started (a fresh deployment, a bench) were read whole
#: for 30 s before, at a few hundred rows per request by the end.
REPLAN_FIRST = 1.0
REPLAN_AFTER = 30.0


BEGIN = b"BEGIN"


class UnitOfWork:
    """One database transaction. Events published here are written to the
    outbox in the same transaction, so they leave only if it commits.

    Made by ``Database.transaction`` it owns the transaction (its connection
    is in autocommit mode) and spares round trips, which on a busy machine
    cost both processes more than most statements: ``BEGIN`` goes with the
    first statement, and what nobody reads the result of (published events,
    ``later``) waits to go in front of the next statement or with
    ``COMMIT``. An error in a statement that waited is raised by the one it
    went with. Made on a caller's own connection, it sends every statement
    at once and leaves the transaction to the caller."""

    def __init__(self, conn, service, owns_transaction=False):
        self.conn = conn
        self.service = service
        self._cursor = conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor)
        self.owns_transaction = owns_transaction
        self._waiting = [BEGIN] if owns_transaction else []
        self.published = []

    @property
    def cursor(self):
        """The cursor, for psycopg2's helpers (``execute_values``, COPY):
        what waits is sent first."""
        if self._waiting:
            self._cursor.execute(self._joined())
        return self._cursor

    def publish(self, event_type, subject, data):
        return self.publish_many(event_type, [(subject, data)])[0]

    def publish_many(self, event_type, items):
        """Publish events of one type, ``items`` [(subject, data)], with one
        statement: the same as ``publish`` for each, fewer round trips."""
        ctx = context.current()
        events, statement = outbox.prepare_many(
            self._cursor, event_type, items, service=self.service, agency=ctx.agency or self.service,
            agencykind=ctx.agency_kind, correlationid=ctx.correlation_id, causationid=ctx.causation_id,
            notify=not self.published)
        if statement:
            self.later(statement)
        self.published.extend(events)
        return events

    #: how many rows of a set-based publish are checked against the schema
    CHECKED_ROWS = 50

    def publish_select(self, event_type, select_sql, params):
        """Publish one event for each row of ``select_sql`` (columns
        ``subject`` and ``data`` as json or jsonb; ``params`` by name), stored by one
        statement in PostgreSQL; returns how many. The first rows' data is
        checked against the type's schema before anything is stored: the
        query gives every row the same shape, the database's types hold
        the values."""
        for row in self.fetchall(f"SELECT s.data FROM ({select_sql}) s LIMIT {self.CHECKED_ROWS}", params):
            event_type.dump(row["data"], plain=True)
        ctx = context.current()
        statement = outbox.select_statement(self._cursor, event_type, select_sql, params, service=self.service,
                                            agency=ctx.agency or self.service, agencykind=ctx.agency_kind,
                                            correlationid=ctx.correlation_id, causationid=ctx.causation_id)
        stored = self.fetchone(statement)["stored"]
        if stored:
            self.later("SELECT pg_notify(%s, '')", (outbox.CHANNEL,))
        return stored

    def later(self, sql, params=None):
        """Run ``sql``, a statement whose result nobody reads, in front of the
        next statement or with ``COMMIT``."""
        statement = self._cursor.mogrify(sql, params) if params is not None or not isinstance(sql, bytes) else sql
        self._waiting.append(statement)
        if not self.owns_transaction:
            self._cursor.execute(self._joined())

    def later_values(self, sql, template, rows):
        """``sql``, whose one ``VALUES %s`` takes ``rows`` (each through
        ``template``, as psycopg2's ``execute_values``), sent as ``later``:
        a set-based write nobody reads the result of, in no round trip of
        its own. ``sql`` holds no other ``%``."""
        if rows:
            values = b",".join(self._cursor.mogrify(template, row) for row in rows)
            self.later(sql.encode().replace(b"VALUES %s", b"VALUES " + values, 1))

    def execute(self, sql, params=None):
        self._cursor.execute(self._joined(self._cursor.mogrify(sql, params)))
        return self._cursor

    def _joined(self, *statements):
        """What waits and ``statements``, as one string for one round trip."""
        joined = b";\n".join([*self._waiting, *statements])  # a line each: a trailing -- comment ends there
        self._waiting = []
        return joined

    def prepared(self, name, statement, types, params):
        """Run ``statement`` (its parameters written ``$1``, ``$2``…, of the
        PostgreSQL ``types``) as a statement prepared once per connection: a
        hot query whose planning costs more than its run."""
        return self.prepared_in_turn([(name, statement, types, params)])

    def prepared_in_turn(self, statements):
        """Run prepared statements [(name, statement, types, params)] one
        after the other in one round trip (each sees what the ones before it
        committed or locked); the cursor holds the last one's rows."""
        return self.execute(*self._executes(statements))

    def prepared_later(self, name, statement, types, params):
        """``prepared``, for a statement whose result nobody reads: ``later``."""
        self.later(*self._executes([(name, statement, types, params)]))

    def _executes(self, statements):
        prepared_at = _prepared.setdefault(self.conn, {})
        now = time.monotonic()
        for name, statement, types, _ in statements:
            when, wait = prepared_at.get(name, (None, None))
            if when is None or now - when >= wait:
                cursor = self.cursor  # what waits goes first: its errors are its own
                if self.conn.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_INERROR:
                    continue  # the EXECUTE says the transaction failed, whether the statement exists or not
                # a round trip of its own, once in a while per connection: PREPARE is
                # not undone by a rollback, so it must not share a failure with others
                try:
                    cursor.execute((f"DEALLOCATE {name}; " if name in prepared_at else "")
                                   + f"PREPARE {name} ({', '.join(types)}) AS {statement}")
                except psycopg2.Error:
                    prepared_at.pop(name, None)  # deallocated, or never prepared: absent either way
                    raise
                prepared_at[name] = (now, REPLAN_FIRST if wait is None else min(wait * 2, REPLAN_AFTER))
        return ("; ".join(f"EXECUTE {name} ({', '.join(f'%s::{t}' for t in types)})" for name, _, types, _ in statements),
                [p for *_, params in statements for p in params])

    def fetchone(self, sql, params=None):
        return self.execute(sql, params).fetchone()

    def fetchall(self, sql, params=None):
        return self.execute(sql, params).fetchall()

    def rollback_to(self, savepoint):
        """Undo what was done since ``savepoint``, which must have been sent
        (what waits came after it, so it is dropped unsent)."""
        self._waiting = []
        self._cursor.execute(f"ROLLBACK TO SAVEPOINT {savepoint}")

    def commit(self):
        """Send what waits with ``COMMIT`` (nothing at all if nothing was asked)."""
        if self._waiting == [BEGIN]:
            self._waiting = []
        elif self._waiting or _in_transaction(self.conn):
            self._cursor.execute(self._joined(b"COMMIT"))

    def abandon(self):
        """Roll back what was sent; drop what waits."""
        self._waiting = []
        if not self.conn.closed and _in_transaction(self.conn):
            self._cursor.execute("ROLLBACK")


def _in_transaction(conn):
    return conn.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_IDLE


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
                uow = UnitOfWork(conn, self.service, owns_transaction=True)
                try:
                    yield uow
                except BaseException:
                    uow.abandon()
                    raise
                else:
                    uow.commit()
                finally:
                    if not conn.closed:
                        uow._cursor.close()
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

    @staticmethod
    def of(container):
        """The service's :class:`Database`, for another dependency provider
        that uses it outside a worker (its own threads, its own pools)."""
        for provider in container.dependencies:
            if isinstance(provider, DatabaseProvider):
                return provider.database
        raise TypeError(f"{container.service_name} has no DatabaseProvider")
