"""What every Setiakawan nameko service inherits: its database, the outbox
relay running in its process, request context, and the operational
endpoints ``GET /health``, ``GET /metrics`` and ``GET /openapi.json``."""
import logging
from dataclasses import dataclass, field
from pathlib import Path

import eventlet
import kombu
from marshmallow import INCLUDE, Schema, fields, post_dump
from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Response

from . import metrics, openapi, outages, outbox
from .context import WorkerContext
from .db import DatabaseProvider, dsn_from_config
from .http import api

log = logging.getLogger(__name__)


class Health(Schema):
    """The checks every service makes; members beyond these (details a service
    adds to its answer) are kept, and the document allows them."""

    class Meta:
        unknown = INCLUDE  # documented as additional properties

    service = fields.String()
    status = fields.String(metadata={"enum": ["ok", "unavailable"]})
    database = fields.String(metadata={"description": "ok, failing or unreachable: <error>"})
    broker = fields.String(metadata={"description": "ok, failing or unreachable: <error>"})

    @post_dump(pass_original=True)
    def with_details(self, data, original, **kwargs):
        return {**original, **data}


@dataclass(frozen=True)
class ServiceInfo:
    """How the operator's tool finds, migrates and starts a service; each
    service package publishes one under the ``setiakawan.services`` entry
    point group."""

    name: str
    module: str
    default_port: int
    migrations: Path
    config: Path
    #: settings without a usable default (secrets) and the values tests run with
    test_config: dict = field(default_factory=dict)


class OutboxRelayProvider(DependencyProvider):
    """Runs the outbox relay in the service's own process."""

    def setup(self):
        config = self.container.config
        self.relay = outbox.Relay(dsn_from_config(config), config["AMQP_URI"],
                                  self.container.service_name,
                                  batch_size=int(config.get("OUTBOX_BATCH_SIZE") or 500),
                                  retention_hours=int(config.get("OUTBOX_RETENTION_HOURS") or 168),
                                  linger=_seconds(config.get("OUTBOX_LINGER"), outbox.LINGER_S))
        self._thread = None

    def start(self):
        self._thread = self.container.spawn_managed_thread(self.relay.run, identifier="outbox-relay")

    def stop(self):
        self.relay.stop()
        if self._thread is not None:
            with eventlet.Timeout(5, False):
                self._thread.wait()

    def kill(self):
        self.relay.stop()
        if self._thread is not None:
            self._thread.kill()

    def get_dependency(self, worker_ctx):
        return self.relay


class Introspection(DependencyProvider):
    """The container's own description, for the OpenAPI document."""

    def get_dependency(self, worker_ctx):
        return self.container


class KitService:
    """Base class of a Setiakawan service; subclasses set ``name``."""

    name = None
    description = ""

    db = DatabaseProvider()
    relay = OutboxRelayProvider()
    worker_context = WorkerContext()
    introspection = Introspection()

    @api("GET", "/health", public=True, response=Health, answers={503: "The database or the broker is unreachable"},
         summary="Database and broker reachability")
    def health(self, call):
        checks = {"database": _check(self.db.ping), "broker": _check(self._broker_ok)}
        ok = all(v == "ok" for v in checks.values())
        return (200 if ok else 503), {"service": self.name, "status": "ok" if ok else "unavailable", **checks,
                                      **self.health_details()}

    def health_details(self):
        """What a service adds to its ``/health`` answer (strings), beyond
        database and broker."""
        return {}

    @api("GET", "/metrics", public=True, content_type="text/plain", summary="Prometheus metrics")
    def prometheus_metrics(self, call):
        try:
            with self.db.transaction() as uow:
                metrics.OUTBOX_BACKLOG.labels(self.name).set(outbox.backlog(uow.cursor))
        except Exception as exc:  # noqa: BLE001 - during an outage the metrics say so; the backlog waits
            if outages.dependency_of(exc) is None:
                raise
        content_type, body = metrics.exposition()
        return Response(body, status=200, content_type=content_type)

    @api("GET", "/openapi.json", public=True, summary="This OpenAPI document")
    def openapi_document(self, call):
        return openapi.build(self.name, self.introspection.entrypoints, self.description)

    def _broker_ok(self):
        if self.relay.broker_connected:
            return True
        try:
            with kombu.Connection(self.introspection.config["AMQP_URI"], connect_timeout=2) as conn:
                conn.connect()
        except Exception as exc:  # noqa: BLE001 - counted, then reported by _check
            outages.dependency(self.name, outages.BROKER).failed(exc)
            raise
        return True


def _check(probe):
    """ok, failing, or unreachable: <error>; an outage has been logged once by
    the dependency that met it, so a failed check is not logged again."""
    try:
        with eventlet.Timeout(3):
            return "ok" if probe() else "failing"
    except BaseException as exc:  # noqa: BLE001 - eventlet.Timeout is a BaseException
        log.debug("health check failed: %s", exc)
        return f"unreachable: {type(exc).__name__}"


def _seconds(value, default):
    """A setting in seconds; unset (or empty) is ``default``, 0 turns it off."""
    return default if value in (None, "") else float(value)
