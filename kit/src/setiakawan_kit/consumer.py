"""Reliable, idempotent event consumption for nameko services.

``@handles("registry", "household.verified")`` on a method
``def on_verified(self, uow, event)`` gives:

* the event parsed from the CloudEvents binding and checked against its
  schema; a message that is not JSON or fails its schema goes straight to
  the dead-letter queue;
* one database transaction per delivery, in which the event id is recorded
  in ``kit_inbox`` together with the handler's effect, so a redelivered
  event has no second effect;
* a handler that raises is retried after ``base_delay * 2**(n-1)`` through
  per-delay retry queues; after ``max_attempts`` the message is dead-lettered
  with the error. The original is acked only once its retry or dead-letter
  copy has been confirmed by the broker, so nothing is lost on the way.
"""
import functools
import logging
import traceback
from datetime import datetime, timezone
from functools import partial

import kombu
from kombu.pools import producers
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import Entrypoint
from nameko.messaging import QueueConsumer

from . import metrics, topology, wire
from .envelope import InvalidEvent
from .db import DatabaseProvider

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_BASE_DELAY_MS = 1000


class RawQueueConsumer(QueueConsumer):
    """nameko's queue consumer, but hands providers the undecoded message:
    decoding there would crash the consumer on a body that is not JSON."""

    def get_consumers(self, consumer_cls, channel):
        for provider in self._providers:
            consumer = consumer_cls(queues=[provider.queue],
                                    on_message=partial(self.handle_raw, provider))
            consumer.qos(prefetch_count=self.prefetch_count)
            self._consumers[provider] = consumer
        return self._consumers.values()

    def handle_raw(self, provider, message):
        self.handle_message(provider, None, message)

    # nameko catches only amqp's ConnectionError here; a socket error (broker
    # restarted, connection reset) escaped into the worker and killed the
    # whole container. The broker redelivers what a lost connection left
    # unacked, and the inbox absorbs the duplicate.
    def ack_message(self, message):
        try:
            super().ack_message(message)
        except OSError as exc:
            log.warning("could not ack message (%s); the broker will redeliver it", exc)

    def requeue_message(self, message):
        try:
            super().requeue_message(message)
        except OSError as exc:
            log.warning("could not requeue message (%s); the broker will redeliver it", exc)


class ReliableEventHandler(Entrypoint):
    queue_consumer = RawQueueConsumer()

    def __init__(self, source_service, event_type, max_attempts=None, base_delay_ms=None, **kwargs):
        self.source_service = source_service
        self.event_type = event_type
        self._max_attempts = max_attempts
        self._base_delay_ms = base_delay_ms
        super().__init__(**kwargs)

    def setup(self):
        config = self.container.config
        retry = config.get("EVENT_RETRY") or {}
        self.max_attempts = int(self._max_attempts or retry.get("max_attempts") or DEFAULT_MAX_ATTEMPTS)
        self.base_delay_ms = int(self._base_delay_ms or retry.get("base_delay_ms") or DEFAULT_BASE_DELAY_MS)
        self.service = self.container.service_name
        self.queue = topology.handler_queue(self.source_service, self.event_type,
                                            self.service, self.method_name)
        self.amqp_uri = config["AMQP_URI"]
        with kombu.Connection(self.amqp_uri, connect_timeout=10) as conn:
            topology.declare_handler_topology(conn.default_channel, self.queue,
                                              self.max_attempts, self.base_delay_ms)
        self.queue_consumer.register_provider(self)

    def stop(self):
        self.queue_consumer.unregister_provider(self)
        super().stop()

    def handle_message(self, body, message):
        try:
            event = wire.from_message(message.headers, message.content_type, message.body)
        except InvalidEvent as exc:
            log.warning("dead-lettering unreadable message on %s: %s", self.queue.name, exc)
            self._forward(message, dead=True, error=f"{exc} {exc.errors or ''}".strip())
            return
        context_data = {"correlation_id": event.correlationid, "causation_id": event.id,
                        "agency": self.service}
        try:
            self.container.spawn_worker(self, (event,), {}, context_data=context_data,
                                        handle_result=partial(self.handle_result, message, event))
        except ContainerBeingKilled:
            self.queue_consumer.requeue_message(message)

    def handle_result(self, message, event, worker_ctx, result=None, exc_info=None):
        if exc_info is None:
            metrics.EVENTS_CONSUMED.labels(self.service, event.type, result or "applied").inc()
            self.queue_consumer.ack_message(message)
            return result, exc_info
        attempt = int((message.headers or {}).get(topology.ATTEMPT_HEADER, 1))
        error = "".join(traceback.format_exception_only(exc_info[0], exc_info[1])).strip()
        dead = attempt >= self.max_attempts
        log.warning("handler %s failed on event %s (attempt %s of %s): %s",
                    self.method_name, event.id, attempt, self.max_attempts, error)
        self._forward(message, dead=dead, error=error, attempt=attempt)
        return result, exc_info

    def _forward(self, message, dead, error, attempt=1):
        """Copy the message to its retry or dead-letter queue, confirmed,
        then ack the original; requeue it if the copy could not be made."""
        headers = dict(message.headers or {})
        if dead:
            target = topology.dead_letter_queue(self.queue.name)
            headers.update({topology.ERROR_HEADER: error[:4000],
                            topology.FAILED_QUEUE_HEADER: self.queue.name,
                            topology.ATTEMPT_HEADER: attempt,
                            topology.DEAD_AT_HEADER: datetime.now(timezone.utc).isoformat()})
        else:
            target = topology.retry_queue(self.queue.name, attempt, self.base_delay_ms)
            headers[topology.ATTEMPT_HEADER] = attempt + 1
            headers[topology.ERROR_HEADER] = error[:4000]
        try:
            self._publish_confirmed(target.name, message, headers)
        except Exception:  # noqa: BLE001 - any failure: leave it to the broker
            log.exception("could not forward message to %s; requeueing it", target.name)
            self.queue_consumer.requeue_message(message)
            return
        (metrics.EVENTS_DEAD_LETTERED if dead else metrics.EVENTS_RETRIED).labels(
            self.service, self.event_type).inc()
        self.queue_consumer.ack_message(message)

    def _publish_confirmed(self, queue_name, message, headers):
        conn = kombu.Connection(self.amqp_uri, transport_options={"confirm_publish": True})
        with producers[conn].acquire(block=True, timeout=10) as producer:
            producer.publish(message.body, exchange="", routing_key=queue_name,
                             headers=headers, content_type=message.content_type,
                             content_encoding=message.content_encoding or "utf-8",
                             delivery_mode=2, retry=True,
                             retry_policy={"max_retries": 3, "interval_start": 0.2})


def handles(source_service, event_type, *, max_attempts=None, base_delay_ms=None):
    """Decorate ``method(self, uow, event)`` as an idempotent handler of
    ``event_type`` events published by ``source_service``."""

    def decorate(method):
        @functools.wraps(method)
        def handler(self, event):
            database = _database_of(self)
            consumer = f"{type(self).name}.{method.__name__}"
            with database.transaction() as uow:
                uow.execute("INSERT INTO kit_inbox (consumer, event_id, event_type) VALUES (%s, %s, %s)"
                            " ON CONFLICT DO NOTHING", (consumer, event.id, event.type))
                if uow.cursor.rowcount == 0:
                    return "duplicate"
                method(self, uow, event)
            return "applied"

        return ReliableEventHandler.decorator(source_service, event_type, max_attempts=max_attempts,
                                              base_delay_ms=base_delay_ms)(handler)

    return decorate


def _database_of(service):
    cls = type(service)
    name = getattr(cls, "_setiakawan_db_attr", None)
    if name is None:
        for attr, value in vars_all(cls):
            if isinstance(value, DatabaseProvider):
                name = attr
                break
        else:
            raise TypeError(f"{cls.__name__} has no DatabaseProvider dependency for its event handlers")
        cls._setiakawan_db_attr = name
    return getattr(service, name)


def vars_all(cls):
    for klass in cls.__mro__:
        yield from vars(klass).items()
