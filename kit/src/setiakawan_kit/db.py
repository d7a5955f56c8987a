"""PostgreSQL through psycopg2, made cooperative under eventlet with
psycogreen: a blocking connection pool, a unit of work that carries the
outbox, and the nameko dependency that hands both to a worker."""
import logging
import threading
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import psycopg2.extras
import psycopg2.pool
from nameko.extensions import DependencyProvider

from . import context, outbox

log = logging.getLogger(__name__)


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
    """A fixed-size pool that waits for a free connection.

    psycopg2's pool closes a returned connection whenever more than
    ``minconn`` are idle and raises when all are in use; with
    ``minconn == maxconn`` and a semaphore in front it keeps its connections
    and makes a caller wait instead."""

    def __init__(self, dsn, size):
        self.dsn = dsn
        self.size = size
        self._pool = psycopg2.pool.ThreadedConnectionPool(size, size, dsn)
        self._slots = threading.BoundedSemaphore(size)

    @contextmanager
    def connection(self):
        with self._slots:
            conn = self._pool.getconn()
            broken = False
            try:
                yield conn
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                broken = True
                raise
            finally:
                broken = broken or conn.closed
                if not broken and conn.status != psycopg2.extensions.STATUS_READY:
                    try:
                        conn.rollback()
                    except psycopg2.Error:
                        broken = True
                self._pool.putconn(conn, close=broken)

    def close(self):
        self._pool.closeall()


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

    def execute(self, sql, params=None):
        self.cursor.execute(sql, params)
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
        self.pool = Pool(dsn, size)

    @contextmanager
    def transaction(self):
        with self.pool.connection() as conn:
            uow = UnitOfWork(conn, self.service)
            try:
                yield uow
            except BaseException:
                conn.rollback()
                raise
            else:
                conn.commit()
            finally:
                uow.cursor.close()

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
