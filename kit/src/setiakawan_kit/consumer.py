"""Reliable, idempotent event consumption for nameko services.

``@handles("registry", "household.verified", name="verified")`` on a method
``def on_verified(self, uow, event)`` gives:

* the event parsed from the CloudEvents binding and checked against its
  schema; a message that is not JSON or fails its schema goes straight to
  the dead-letter queue;
* the event id recorded in ``kit_inbox`` in the same transaction as the
  handler's effect, so a redelivered event has no second effect. Deliveries
  that arrive together (up to ``EVENT_BATCH.max_size``, waiting at most
  ``EVENT_BATCH.linger_ms`` for company) share one transaction, each inside
  its own savepoint: a handler that raises undoes only its own event, and a
  commit per batch instead of per event is what lets one consumer keep up
  with thousands of events a second. Messages are acked after the commit;
* a handler that raises is retried after ``base_delay * 2**(n-1)`` through
  per-delay retry queues; after ``max_attempts`` the message is dead-lettered
  with the error. The original is acked only once its retry or dead-letter
  copy has been confirmed by the broker, so nothing is lost on the way;
* an outage (``outages.dependency_of``: the database unreachable, a lost
  connection, a serialization failure or deadlock, an RPC peer that does not
  answer) is not the event's fault and uses up no attempt: the batch is held,
  unacked, and so is every message that arrives after it (the prefetch
  window then stops the broker sending more), while one green thread tries
  the first held batch again with backoff; once it goes through, everything
  held is handled as usual. If the broker connection drops meanwhile, the
  broker redelivers the held messages and the inbox absorbs the second copy.

``@handles(..., batch=True)`` on ``def on_verified(self, uow, events)``
hands the batch's new events (never one already applied) to the method at
once, in arrival order, so that it can apply them set-based: one statement
for fifty snapshots instead of fifty. The inbox entries are one statement
too. If the method raises, the batch is undone and each event is tried
alone (the method gets a list of one), so a bad event still fails alone.
What it publishes on behalf of one event goes inside
``context.caused_by(event)``.
"""
import functools
import logging
import random
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial

import kombu
from kombu.pools import producers
import eventlet
from eventlet.event import Event
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import Entrypoint
from nameko.messaging import QueueConsumer

from setiakawan_contract import wire
from setiakawan_contract.envelope import source_of
from setiakawan_contract.types import InvalidEvent

from . import context, metrics, outages, topology
from .db import DatabaseProvider
from .logs import redact

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_BASE_DELAY_MS = 1000
DEFAULT_BATCH_SIZE = 50
DEFAULT_LINGER_MS = 2
HOLD_BACKOFF_S = (0.2, 2.0)  # first and longest wait before a held batch is tried again
RECONNECT_MAX_S = 5  # longest wait between attempts to reach the broker again


@dataclass(frozen=True)
class Failed:
    """The outcome of an event whose handler raised."""

    error: str


@dataclass(frozen=True)
class Unavailable:
    """The outcome of a batch that met an outage: no event's fault."""

    dependency: str
    error: str


class ReconnectingQueueConsumer(QueueConsumer):
    """nameko's queue consumer, quicker to come back after a broker outage
    and not killed by a failed ack."""

    @contextmanager
    def establish_connection(self):
        # kombu waits 2 s more after each failed attempt, up to 30 s: after a
        # two-minute broker outage the consumer came back 20 s after the broker.
        with self.create_connection() as conn:
            conn.ensure_connection(self.on_connection_error, self.connect_max_retries,
                                   interval_start=1, interval_step=1, interval_max=RECONNECT_MAX_S)
            yield conn

    # nameko catches only amqp's ConnectionError here; a socket error (broker
    # restarted, connection reset) escaped into the worker and killed the
    # whole container. The broker redelivers what a lost connection left
    # unacked, and the inbox absorbs the duplicate.
    def ack_message(self, message):
        try:
            super().ack_message(message)
        except OSError as exc:
            log.warning("could not ack message (%s); the broker will redeliver it", exc)
        else:
            self._broker_health.succeeded()

    def on_connection_error(self, exc, interval):
        self._broker_health.failed(exc)
        super().on_connection_error(exc, interval)

    def on_consume_ready(self, connection, channel, consumers, **kwargs):
        self._broker_health.succeeded()
        super().on_consume_ready(connection, channel, consumers, **kwargs)

    @property
    def _broker_health(self):
        return outages.dependency(self.container.service_name, outages.BROKER)

    def requeue_message(self, message):
        try:
            super().requeue_message(message)
        except OSError as exc:
            log.warning("could not requeue message (%s); the broker will redeliver it", exc)


class RawQueueConsumer(ReconnectingQueueConsumer):
    """Hands providers the undecoded message: decoding there would crash the
    consumer on a body that is not JSON."""

    def get_consumers(self, consumer_cls, channel):
        for provider in self._providers:
            consumer = consumer_cls(queues=[provider.queue],
                                    on_message=partial(self.handle_raw, provider))
            consumer.qos(prefetch_count=self.prefetch_count)
            self._consumers[provider] = consumer
        return self._consumers.values()

    def handle_raw(self, provider, message):
        # in the consumer's own green thread, not one spawned per message (nameko's way): a
        # provider's handle_message never waits (see there), and a thread per message was a
        # tenth of a busy consumer's time
        provider.handle_message(None, message)

    @property
    def prefetch_count(self):
        batch = (self.container.config.get("EVENT_BATCH") or {}).get("max_size") or DEFAULT_BATCH_SIZE
        return self.container.max_workers * int(batch)


class ReliableEventHandler(Entrypoint):
    queue_consumer = RawQueueConsumer()

    def __init__(self, source_service, event_type, handler_name, max_attempts=None, base_delay_ms=None, **kwargs):
        if not topology.HANDLER_NAME.match(handler_name or ""):
            raise ValueError(f"a handler's name is lower-case letters, digits and _ (not {handler_name!r}): "
                             "it names its durable queue and its inbox entries")
        self.source_service = source_service
        self.event_type = event_type
        self.handler_name = handler_name
        self._max_attempts = max_attempts
        self._base_delay_ms = base_delay_ms
        super().__init__(**kwargs)

    def setup(self):
        config = self.container.config
        retry = config.get("EVENT_RETRY") or {}
        batch = config.get("EVENT_BATCH") or {}
        self.max_attempts = int(self._max_attempts or retry.get("max_attempts") or DEFAULT_MAX_ATTEMPTS)
        self.base_delay_ms = int(self._base_delay_ms or retry.get("base_delay_ms") or DEFAULT_BASE_DELAY_MS)
        self.batch_size = int(batch.get("max_size") or DEFAULT_BATCH_SIZE)
        self.linger = float(batch.get("linger_ms", DEFAULT_LINGER_MS)) / 1000
        self.service = self.container.service_name
        self.queue = topology.handler_queue(self.source_service, self.event_type,
                                            self.service, self.handler_name)
        self.amqp_uri = config["AMQP_URI"]
        self._pending = []
        self._lingering = False
        self._held = []  # (message, event) waiting for a dependency; while any are, new ones wait too
        self._resumer = None  # the one green thread that tries the held messages again
        self._waiting_gauge = metrics.EVENTS_WAITING.labels(self.service, self.queue.name)
        with kombu.Connection(self.amqp_uri, connect_timeout=10) as conn:
            topology.declare_handler_topology(conn, self.service, self.queue,
                                              self.max_attempts, self.base_delay_ms)
        self.queue_consumer.register_provider(self)

    def stop(self):
        self.queue_consumer.unregister_provider(self)
        if self._resumer is not None:  # what it held goes back to the broker with the connection
            self._resumer.kill()
        super().stop()

    def handle_message(self, body, message):
        """One delivery, in the queue consumer's thread: it must never wait,
        so what waits (a worker to be free, a forward confirmed by the
        broker, the linger for company) happens in threads of its own."""
        try:
            event = wire.from_message(message.headers, message.content_type, message.body)
        except InvalidEvent as exc:
            log.warning("dead-lettering unreadable message on %s: %s", self.queue.name, exc)
            self._forward_later(message, dead=True, error=f"{exc} {exc.errors or ''}".strip())
            return
        except Exception as exc:  # noqa: BLE001 - a message no parser can read must not stop the service
            log.exception("dead-lettering a message that could not be read on %s", self.queue.name)
            self._forward_later(message, dead=True, error=f"unreadable: {type(exc).__name__}: {exc}")
            return
        exchange = self._published_to(message)
        if exchange and exchange.endswith(".events") and event.source != source_of(exchange[:-len(".events")]):
            # only the service itself may publish on its exchange: an event claiming another source is forged
            log.warning("dead-lettering event %s from %s published on %s", event.id, event.source, exchange)
            self._forward_later(message, dead=True, error=f"an event from {event.source} published on {exchange}")
            return
        if self._resumer is not None:  # a dependency is away: wait behind what is held
            self._hold([(message, event)])
            return
        self._pending.append((message, event))
        if len(self._pending) >= self.batch_size or not self.linger:
            self._flush()
        elif not self._lingering:  # the first of a batch: it waits for company, at most the linger
            self._lingering = True
            self.container.spawn_managed_thread(self._linger_then_flush, identifier=f"{self.queue.name}.linger")

    def _linger_then_flush(self):
        eventlet.sleep(self.linger)
        self._lingering = False
        self._flush()

    def _flush(self):
        batch, self._pending = self._pending, []
        if batch:
            # in a thread of its own: spawn_worker waits while every worker is busy
            self.container.spawn_managed_thread(partial(self._dispatch, batch, self.handle_result),
                                                identifier=f"{self.queue.name}.dispatch")

    def _forward_later(self, message, **kwargs):
        self.container.spawn_managed_thread(partial(self._forward, message, **kwargs),
                                            identifier=f"{self.queue.name}.forward")

    def _dispatch(self, batch, handle_result):
        context_data = {"correlation_id": batch[0][1].correlationid, "causation_id": batch[0][1].id,
                        "agency": self.service}
        try:
            self.container.spawn_worker(self, ([event for _, event in batch],), {}, context_data=context_data,
                                        handle_result=partial(handle_result, batch))
        except ContainerBeingKilled:
            for message, _ in batch:
                self.queue_consumer.requeue_message(message)

    # -- outages: hold, wait, resume ----------------------------------------
    def _hold(self, batch):
        self._held.extend(batch)
        self._waiting_gauge.set(len(self._held))
        if self._resumer is None:  # no yield between the check and the spawn: one resumer at a time
            self._resumer = self.container.spawn_managed_thread(self._resume_when_available,
                                                                identifier=f"{self.queue.name}.resume")

    def _resume_when_available(self):
        """Try the first held batch again, with backoff, until it goes
        through; then hand every held message back to the usual path. What
        is held meanwhile (more outages while those are dispatched) is taken
        in the next round."""
        try:
            delay, longest = HOLD_BACKOFF_S
            while self._held:
                eventlet.sleep(delay + random.uniform(0, delay / 2))
                batch, self._held = self._held[:self.batch_size], self._held[self.batch_size:]
                done = Event()
                self._dispatch(batch, partial(self._handle_retried, done))
                # nameko calls the result handler, or kills the container (and its threads) trying
                if not done.wait():
                    self._held[:0] = batch  # still unavailable: first again, after a longer wait
                    delay = min(delay * 2, longest)
                    continue
                delay = HOLD_BACKOFF_S[0]
                rest, self._held = self._held, []
                self._waiting_gauge.set(0)
                for start in range(0, len(rest), self.batch_size):
                    self._dispatch(rest[start:start + self.batch_size], self.handle_result)
        finally:
            self._resumer = None

    def _handle_retried(self, done, batch, worker_ctx, result=None, exc_info=None):
        if exc_info is None and isinstance(result, Unavailable):
            done.send(False)
            return result, exc_info
        done.send(True)
        return self._settle(batch, result, exc_info)

    def handle_result(self, batch, worker_ctx, result=None, exc_info=None):
        if exc_info is None and isinstance(result, Unavailable):
            log.info("holding %s events on %s until the %s answers", len(batch), self.queue.name,
                     result.dependency)
            self._hold(batch)
            return result, exc_info
        return self._settle(batch, result, exc_info)

    def _settle(self, batch, result, exc_info):
        """After the batch's transaction: ack what was applied (or seen
        before); send what failed to its retry or dead-letter queue."""
        if exc_info is not None:  # the transaction itself failed: every event goes round again
            error = "".join(traceback.format_exception_only(exc_info[0], exc_info[1])).strip()
            outcomes = [Failed(error)] * len(batch)
        else:
            outcomes = result
        for (message, event), outcome in zip(batch, outcomes):
            if isinstance(outcome, Failed):
                attempt = int((message.headers or {}).get(topology.ATTEMPT_HEADER, 1))
                dead = attempt >= self.max_attempts
                log.warning("handler %s failed on event %s (attempt %s of %s): %s",
                            self.method_name, event.id, attempt, self.max_attempts, outcome.error)
                self._forward(message, dead=dead, error=outcome.error, attempt=attempt)
            else:
                metrics.EVENTS_CONSUMED.labels(self.service, event.type, outcome).inc()
                self.queue_consumer.ack_message(message)
        return result, exc_info

    def _published_to(self, message):
        """The exchange a message was first published to. A retried one comes
        back through this service's retry exchange, which only this service
        publishes to, carrying the first exchange in a header it set."""
        exchange = (message.delivery_info or {}).get("exchange")
        if exchange == topology.retry_exchange_name(self.service):
            return (message.headers or {}).get(topology.EXCHANGE_HEADER)
        return exchange

    def _forward(self, message, dead, error, attempt=1):
        """Copy the message to its retry or dead-letter queue, confirmed,
        then ack the original; requeue it if the copy could not be made. The
        error travels redacted, as logs are: it can quote a NIK or a phone."""
        headers = dict(message.headers or {})
        headers[topology.EXCHANGE_HEADER] = self._published_to(message) or ""
        error = redact(error)
        if dead:
            target = topology.dead_letter_queue(self.service, self.queue.name)
            headers.update({topology.ERROR_HEADER: error[:4000],
                            topology.FAILED_QUEUE_HEADER: self.queue.name,
                            topology.ATTEMPT_HEADER: attempt,
                            topology.DEAD_AT_HEADER: datetime.now(timezone.utc).isoformat()})
        else:
            target = topology.retry_queue(self.service, self.queue.name, attempt, self.base_delay_ms)
            headers[topology.ATTEMPT_HEADER] = attempt + 1
            headers[topology.ERROR_HEADER] = error[:4000]
        try:
            self._publish_confirmed(target.name, message, headers)
        except Exception as exc:  # noqa: BLE001 - any failure: leave it to the broker
            if outages.note(self.service, exc) is None:
                log.exception("could not forward message to %s; requeueing it", target.name)
            self.queue_consumer.requeue_message(message)
            return
        (metrics.EVENTS_DEAD_LETTERED if dead else metrics.EVENTS_RETRIED).labels(
            self.service, self.event_type).inc()
        self.queue_consumer.ack_message(message)

    def _publish_confirmed(self, queue_name, message, headers):
        conn = kombu.Connection(self.amqp_uri, transport_options={"confirm_publish": True})
        with producers[conn].acquire(block=True, timeout=10) as producer:
            producer.publish(message.body, exchange=topology.retry_exchange_name(self.service),
                             routing_key=queue_name,
                             headers=headers, content_type=message.content_type,
                             content_encoding=message.content_encoding or "utf-8",
                             delivery_mode=2, retry=True,
                             retry_policy={"max_retries": 3, "interval_start": 0.2})


def handles(source_service, event_type, *, name, max_attempts=None, base_delay_ms=None, batch=False):
    """Decorate ``method(self, uow, event)`` as an idempotent handler of
    ``event_type`` events published by ``source_service`` (``"any"``: by
    every service, for a type of ``ANY`` source). ``name`` names the
    handler's durable queue and its inbox entries: it must stay the same
    for as long as the handler exists, whatever the method is called.
    ``batch=True``: ``method(self, uow, events)`` (see the module's notes)."""

    def decorate(method):
        @functools.wraps(method)
        def handler(self, events):
            database = _database_of(self)
            consumer = f"{type(self).name}.{name}"
            try:
                with database.transaction() as uow:
                    if batch:
                        outcomes = _apply_batch(self, uow, consumer, method, events)
                    else:
                        outcomes = [_apply(self, uow, consumer, method, event) for event in events]
            except Exception as exc:  # noqa: BLE001 - an outage is an outcome; anything else is raised
                dependency = outages.note(type(self).name, exc)
                if dependency is None:
                    raise
                return Unavailable(dependency, outages.one_line(exc))
            return outcomes

        return ReliableEventHandler.decorator(source_service, event_type, name, max_attempts=max_attempts,
                                              base_delay_ms=base_delay_ms)(handler)

    return decorate


def _apply_batch(service, uow, consumer, method, events):
    """The batch's new events to ``method`` at once, in a savepoint; if it
    raises, each event alone (``_apply``), as a list of one."""
    token = context.set_current(context.Context(agency=type(service).name))
    uow.later("SAVEPOINT setiakawan_batch")  # sent with the inbox entries
    published = len(uow.published)
    try:
        stored = {row["event_id"] for row in uow.fetchall(
            "INSERT INTO kit_inbox (consumer, event_id, event_type) SELECT %s, unnest(%s::text[]), unnest(%s::text[])"
            " ON CONFLICT DO NOTHING RETURNING event_id", (consumer, [e.id for e in events], [e.type for e in events]))}
        outcomes = []
        for event in events:  # an event sent twice may come twice in one batch: the inbox stored it once
            outcomes.append("applied" if event.id in stored else "duplicate")
            stored.discard(event.id)
        fresh = [event for event, outcome in zip(events, outcomes) if outcome == "applied"]
        if fresh:
            method(service, uow, fresh)
        uow.execute("RELEASE SAVEPOINT setiakawan_batch")
        return outcomes
    except Exception as exc:  # noqa: BLE001 - the batch is tried again an event at a time
        if outages.dependency_of(exc) is not None:
            raise
        _undo(uow, "setiakawan_batch", published)
    finally:
        context.reset(token)
    log.info("%s: a batch of %d events failed together; trying each alone", consumer, len(events))
    return [_apply(service, uow, consumer, lambda s, u, event: method(s, u, [event]), event) for event in events]


def _apply(service, uow, consumer, method, event):
    """One event inside the batch's transaction, in a savepoint of its own."""
    with context.caused_by(event, type(service).name):
        uow.later("SAVEPOINT setiakawan_event")  # sent with the inbox entry
        published = len(uow.published)
        try:
            uow.execute("INSERT INTO kit_inbox (consumer, event_id, event_type) VALUES (%s, %s, %s)"
                        " ON CONFLICT DO NOTHING", (consumer, event.id, event.type))
            if uow.cursor.rowcount == 0:
                outcome = "duplicate"
            else:
                method(service, uow, event)
                outcome = "applied"
            # sent now, with what the handler left waiting: an error in that is this event's
            uow.execute("RELEASE SAVEPOINT setiakawan_event")
        except Exception as exc:  # noqa: BLE001 - the event fails alone; the batch goes on
            if outages.dependency_of(exc) is not None:
                raise  # not this event's fault: the whole batch waits for the dependency
            _undo(uow, "setiakawan_event", published)
            return Failed("".join(traceback.format_exception_only(type(exc), exc)).strip())
    return outcome


def _undo(uow, savepoint, published):
    """Roll back to ``savepoint``; the events published since (and the
    relay's wake-up sent with the first) are gone: the next one must notify."""
    uow.rollback_to(savepoint)
    uow.later(f"RELEASE SAVEPOINT {savepoint}")
    del uow.published[published:]


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
