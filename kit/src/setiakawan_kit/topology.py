"""Exchanges and queues. Names follow nameko's own: a service publishes to
the topic exchange ``<service>.events`` with the event type as routing key,
and a handler consumes from ``evt-<source>-<type>--<service>.<method>``.

Each reliable handler's queue has retry queues and a dead-letter queue::

    <queue>.retry.<ms>ms  holds a failed message for <ms> milliseconds
                          (base_delay * 2**(attempt-1)), then dead-letters it
                          back to <queue>; one queue per delay, since a TTL
                          only expires messages at the head of a queue
    <queue>.dead        messages that failed every attempt or could not be
                        read, with the error in their headers
"""
from kombu import Exchange, Queue

ATTEMPT_HEADER = "x-setiakawan-attempt"
ERROR_HEADER = "x-setiakawan-error"
FAILED_QUEUE_HEADER = "x-setiakawan-queue"
DEAD_AT_HEADER = "x-setiakawan-dead-at"


def exchange_name(service):
    return f"{service}.events"


def event_exchange(service):
    # Declared exactly as nameko's get_event_exchange does, so both can
    # declare it without a PRECONDITION_FAILED.
    return Exchange(exchange_name(service), type="topic", durable=True, delivery_mode=2)


def handler_queue_name(source_service, event_type, service, method):
    return f"evt-{source_service}-{event_type}--{service}.{method}"


def handler_queue(source_service, event_type, service, method):
    return Queue(handler_queue_name(source_service, event_type, service, method),
                 exchange=event_exchange(source_service), routing_key=event_type,
                 durable=True, auto_delete=False)


def retry_delay_ms(attempt, base_delay_ms):
    return int(base_delay_ms * 2 ** (attempt - 1))


def retry_queue(queue_name, attempt, base_delay_ms):
    delay = retry_delay_ms(attempt, base_delay_ms)
    return Queue(f"{queue_name}.retry.{delay}ms", durable=True, auto_delete=False,
                 queue_arguments={
                     "x-message-ttl": delay,
                     "x-dead-letter-exchange": "",
                     "x-dead-letter-routing-key": queue_name,
                 })


def dead_letter_queue(queue_name):
    return Queue(f"{queue_name}.dead", durable=True, auto_delete=False)


def declare_handler_topology(channel, queue, max_attempts, base_delay_ms):
    queue.exchange.declare(channel=channel)
    queue.declare(channel=channel)
    for attempt in range(1, max_attempts):
        retry_queue(queue.name, attempt, base_delay_ms).declare(channel=channel)
    dead_letter_queue(queue.name).declare(channel=channel)
