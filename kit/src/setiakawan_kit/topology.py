"""Exchanges and queues. Names follow nameko's own: a service publishes to
the topic exchange ``<service>.events`` with the event type as routing key,
and a handler consumes from ``evt-<source>-<type>--<service>.<handler>``,
the handler's name given in ``@handles`` (so renaming a method orphans
nothing). Events any service may publish (source ``any``: the diagnostic
ping) also reach ``any.events``, which ``setiakawan broker setup`` binds
to every service's exchange, so a handler of them needs no list of names.

Each reliable handler's queue has retry queues and a dead-letter queue,
reached through the consuming service's own exchange ``<service>.retry``
(routing key: the queue's name; a topic exchange only so that topic
permissions apply to it), so that no service needs to publish to the
default exchange, which reaches every queue::

    <queue>.retry.<ms>ms  holds a failed message for <ms> milliseconds
                          (base_delay * 2**(attempt-1)), then dead-letters it
                          back to <queue> through ``<service>.retry``; one
                          queue per delay, since a TTL only expires messages
                          at the head of a queue
    <queue>.dead        messages that failed every attempt or could not be
                        read, with the error in their headers

A service declares only its own exchanges and queues; another service's
events exchange is declared passively (it must exist: the publisher, or
``setiakawan broker setup``, creates it), since declaring it for real needs
a permission that would also let the consumer delete it.
"""
import logging
import re

import amqp
from kombu import Exchange, Queue
from setiakawan_contract.types import ANY, exchange_name

log = logging.getLogger(__name__)

ATTEMPT_HEADER = "x-setiakawan-attempt"
ERROR_HEADER = "x-setiakawan-error"
FAILED_QUEUE_HEADER = "x-setiakawan-queue"
DEAD_AT_HEADER = "x-setiakawan-dead-at"
#: on a retried message: the exchange it was first published to (set by the consumer, which alone
#: publishes to its retry exchange)
EXCHANGE_HEADER = "x-setiakawan-exchange"
#: where events of ``ANY`` source (``diagnostic.ping``) from every service meet
ANY_EXCHANGE = exchange_name(ANY)
HANDLER_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def event_exchange(service, passive=False):
    # Declared exactly as nameko's get_event_exchange does, so both can
    # declare it without a PRECONDITION_FAILED.
    return Exchange(exchange_name(service), type="topic", durable=True, delivery_mode=2, passive=passive)


def retry_exchange_name(service):
    return f"{service}.retry"


def retry_exchange(service):
    # topic, though used as a direct one: RabbitMQ checks topic permissions only on topic
    # exchanges, and they keep the service from binding it anywhere but its own queues
    return Exchange(retry_exchange_name(service), type="topic", durable=True, delivery_mode=2)


def handler_queue_name(source_service, event_type, service, handler):
    return f"evt-{source_service}-{event_type}--{service}.{handler}"


def handler_queue(source_service, event_type, service, handler):
    return Queue(handler_queue_name(source_service, event_type, service, handler),
                 exchange=event_exchange(source_service, passive=source_service != service),
                 routing_key=event_type, durable=True, auto_delete=False)


def retry_delay_ms(attempt, base_delay_ms):
    return int(base_delay_ms * 2 ** (attempt - 1))


def retry_queue(service, queue_name, attempt, base_delay_ms):
    delay = retry_delay_ms(attempt, base_delay_ms)
    name = f"{queue_name}.retry.{delay}ms"
    return Queue(name, exchange=retry_exchange(service), routing_key=name, durable=True, auto_delete=False,
                 queue_arguments={
                     "x-message-ttl": delay,
                     "x-dead-letter-exchange": retry_exchange_name(service),
                     "x-dead-letter-routing-key": queue_name,
                 })


def dead_letter_queue(service, queue_name):
    name = f"{queue_name}.dead"
    return Queue(name, exchange=retry_exchange(service), routing_key=name, durable=True, auto_delete=False)


def declare_handler_topology(connection, service, queue, max_attempts, base_delay_ms):
    """The handler's queue, bound to its source and to ``<service>.retry``
    (the way back from a retry queue), its retry queues and its dead-letter
    queue."""
    with connection.channel() as channel:
        queue.declare(channel=channel)
        retry_exchange(service).declare(channel=channel)
        channel.queue_bind(queue.name, retry_exchange_name(service), routing_key=queue.name)
    for attempt in range(1, max_attempts):
        _declare_own(connection, service, retry_queue(service, queue.name, attempt, base_delay_ms))
    _declare_own(connection, service, dead_letter_queue(service, queue.name))


def _declare_own(connection, service, queue):
    """Declare one of the service's own queues. A retry queue made by an
    earlier version (dead-lettering through the default exchange) has other
    arguments: it is replaced when empty; while it holds messages it is
    kept, bound to ``<service>.retry`` (a binding compares no arguments),
    and the broker still returns its messages to the handler's queue."""
    try:
        with connection.channel() as channel:
            queue.declare(channel=channel)
        return
    except amqp.exceptions.PreconditionFailed:
        pass  # the broker closed that channel
    try:
        with connection.channel() as channel:
            channel.queue_delete(queue.name, if_empty=True)
    except amqp.exceptions.PreconditionFailed:
        with connection.channel() as channel:
            channel.queue_bind(queue.name, retry_exchange_name(service), routing_key=queue.name)
        log.warning("kept queue %s, declared with other arguments by an earlier version, until it is empty",
                    queue.name)
        return
    with connection.channel() as channel:
        queue.declare(channel=channel)
    log.warning("replaced queue %s, declared with other arguments by an earlier version", queue.name)
