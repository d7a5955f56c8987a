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

# SQLSTATE classes of the server's own trouble, not of what was asked of it:
# 08 connection, 40 serialization failure or deadlock (the transaction may
# simply run again), 53 insufficient resources, 57 operator intervention
# (shutdown, cannot connect now, statement timeout), 58 system error.
# Class 54 (program limit exceeded) is not among them: a row too big for an
# index fails the same way every time.
_OUTAGE_CLASSES = ("08", "40", "53", "57", "58")
_OUTAGE_STATES = ("55P03",)  # lock_timeout: another transaction held the lock too long


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
    if isinstance(exc, psycopg2.InterfaceError):
        return DATABASE
    if isinstance(exc, psycopg2.Error):
        code = exc.pgcode
        if code is None:  # no answer from the server at all: the connection failed or was lost
            return DATABASE if isinstance(exc, psycopg2.OperationalError) else None
        return DATABASE if code[:2] in _OUTAGE_CLASSES or code in _OUTAGE_STATES else None
    if isinstance(exc, (amqp.exceptions.ConnectionError, amqp.exceptions.RecoverableConnectionError,
                        kombu.exceptions.OperationalError)):
        return BROKER
    return None


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
        if getattr(exc, "_setiakawan_counted", False):
            return  # met again on its way up: counted where it happened
        try:
            exc._setiakawan_counted = True
        except AttributeError:
            pass  # an exception without a __dict__ is counted at each place that notes it
        self.failures += 1
        metrics.INFRASTRUCTURE_ERRORS.labels(self.service, self.name).inc()
        if self.available:
            self.available = False
            self.down_since = time.monotonic()
            log.warning("%s unavailable: %s", self.name, one_line(exc),
                        extra={"dependency": self.name, "dependency_state": "down"})

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
    if name is not None:
        dependency(service, name).failed(exc)
    return name


class QuietOutages(logging.Filter):
    """Drops nameko's per-worker traceback for an outage: the dependency's
    own log line has said it once."""

    def filter(self, record):
        return not (record.exc_info and record.exc_info[1] is not None
                    and dependency_of(record.exc_info[1]) is not None)
