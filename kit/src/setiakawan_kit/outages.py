"""Outages of what a service depends on (its database, the broker, a
service it calls), told apart from errors of its own logic.

An outage is weather: HTTP answers 503 with ``Retry-After`` while it lasts,
an event that meets one keeps its attempts (the consumer waits, then tries
again), and the operator reads one log line when a dependency goes away and
one when it is back, never a traceback per request. Everything else a
handler raises is its own error: a 4xx where the kit maps it, a 500, or an
attempt used up towards the dead-letter queue.
"""
import logging
import time

import amqp.exceptions
import kombu.exceptions
import psycopg2

from . import metrics

log = logging.getLogger(__name__)

DATABASE = "database"
BROKER = "broker"
RETRY_AFTER_SECONDS = 5

# SQLSTATEs of the server's own trouble, not of what was asked of it. The
# connection is gone: class 08, and the server shutting down or not yet
# accepting connections (57P01-57P03). The transaction may simply run again
# later: serialization failure or deadlock (class 40), a lock held too long
# (55P03), the server short of disk, memory or connections (53000-53300), a
# system error (class 58). Not among them, since they fail the same way every
# time: 53400 (a configured limit), class 54 (a row too big for an index),
# 57014 (a statement over statement_timeout).
_CONNECTION_LOST = ("57P01", "57P02", "57P03")
_TRANSIENT = ("55P03", "53000", "53100", "53200", "53300")


class DependencyUnavailable(Exception):
    """A dependency did not answer (raised by the kit's RPC client; a
    service may raise it for a dependency of its own)."""

    def __init__(self, dependency, detail=""):
        super().__init__(f"{dependency} is unavailable" + (f": {detail}" if detail else ""))
        self.dependency = dependency


def dependency_of(exc):
    """The dependency whose outage ``exc`` is, or None for an error of the
    caller's own."""
    if isinstance(exc, DependencyUnavailable):
        return exc.dependency
    if isinstance(exc, psycopg2.Error):
        if connection_lost(exc):
            return DATABASE
        code = exc.pgcode or ""
        return DATABASE if code[:2] in ("40", "58") or code in _TRANSIENT else None
    if isinstance(exc, (amqp.exceptions.ConnectionError, amqp.exceptions.RecoverableConnectionError,
                        kombu.exceptions.OperationalError)):
        return BROKER
    return None


def connection_lost(exc):
    """Whether ``exc`` says the database connection failed or is gone (not
    only that a transaction may be tried again)."""
    if isinstance(exc, psycopg2.InterfaceError):
        # "cursor already closed" is the caller's own doing; a closed connection is not
        return "connection already closed" in str(exc)
    if isinstance(exc, psycopg2.Error):
        if exc.pgcode is None:  # no answer from the server at all
            return isinstance(exc, psycopg2.OperationalError)
        return exc.pgcode[:2] == "08" or exc.pgcode in _CONNECTION_LOST
    return False


def one_line(exc):
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class Dependency:
    """What one process knows of one dependency: up or down since when, and
    how many failures it has met (a connection pool checks its idle
    connections before reuse once this count has moved)."""

    def __init__(self, service, name):
        self.service = service
        self.name = name
        self.available = True
        self.failures = 0
        self.down_since = None
        self.last_success = time.time()
        metrics.DEPENDENCY_UP.labels(service, name).set_function(lambda: 1 if self.available else 0)
        metrics.DEPENDENCY_SILENCE.labels(service, name).set_function(lambda: time.time() - self.last_success)

    def failed(self, exc):
        """``exc``: the dependency is away (down until it answers again)."""
        if not self._count(exc):
            return
        self.failures += 1
        if self.available:
            self.available = False
            self.down_since = time.monotonic()
            log.warning("%s unavailable: %s", self.name, one_line(exc),
                        extra={"dependency": self.name, "dependency_state": "down"})

    def strained(self, exc):
        """``exc``: the dependency answered, but asks for the work to be tried
        again (a deadlock, a serialization failure): counted, not down."""
        self._count(exc)

    def _count(self, exc):
        if getattr(exc, "_setiakawan_counted", False):
            return False  # met again on its way up: counted where it happened
        try:
            exc._setiakawan_counted = True
        except AttributeError:
            pass  # an exception without a __dict__ is counted at each place that notes it
        metrics.INFRASTRUCTURE_ERRORS.labels(self.service, self.name).inc()
        return True

    def succeeded(self):
        self.last_success = time.time()
        if not self.available:
            self.available = True
            log.warning("%s available again after %.1f s", self.name, time.monotonic() - self.down_since,
                        extra={"dependency": self.name, "dependency_state": "up"})


_dependencies = {}


def dependency(service, name):
    """The one :class:`Dependency` of this process for ``service`` and ``name``."""
    key = (service, name)
    if key not in _dependencies:
        _dependencies[key] = Dependency(service, name)
    return _dependencies[key]


def note(service, exc):
    """Count ``exc`` against its dependency if it is an outage; returns the
    dependency's name, or None for an error of the service's own."""
    name = dependency_of(exc)
    if name == DATABASE and not connection_lost(exc):
        dependency(service, name).strained(exc)
    elif name is not None:
        dependency(service, name).failed(exc)
    return name


class QuietOutages(logging.Filter):
    """Drops nameko's per-worker traceback for an outage: the dependency's
    own log line has said it once."""

    def filter(self, record):
        return not (record.exc_info and record.exc_info[1] is not None
                    and dependency_of(record.exc_info[1]) is not None)
