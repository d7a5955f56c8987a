"""Retry queues made by the earlier version dead-lettered through the
default exchange, which no account may now use. Starting the new version
replaces such a queue when it is empty, and keeps one that still holds
messages (bound to the service's own retry exchange) instead of failing."""
import amqp
import kombu

from setiakawan_kit import topology

HANDLER = topology.handler_queue_name("producer", "thing.happened", "consumer", "on_thing")


def old_retry_queue(channel, delay_ms):
    name = f"{HANDLER}.retry.{delay_ms}ms"
    channel.queue_declare(name, durable=True, auto_delete=False, arguments={
        "x-message-ttl": delay_ms, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": HANDLER})
    return name


def test_a_service_starts_over_the_retry_queues_of_the_earlier_version(amqp_uri, service_account):
    with kombu.Connection(amqp_uri) as admin:
        channel = admin.channel()
        channel.exchange_declare("producer.events", "topic", durable=True)
        empty = old_retry_queue(channel, 60000)
        holding = old_retry_queue(channel, 120000)
        channel.basic_publish(amqp.Message(b"{}"), exchange="", routing_key=holding)

    account = service_account("consumer", "tests.support.services:Consumer")
    queue = topology.handler_queue("producer", "thing.happened", "consumer", "on_thing")
    with kombu.Connection(account) as conn:
        topology.declare_handler_topology(conn, "consumer", queue, max_attempts=3, base_delay_ms=60000)
        # the empty one now has the new arguments: declaring it as the new version does succeeds
        topology.retry_queue("consumer", HANDLER, 1, 60000).declare(channel=conn.channel())
        # the one holding a message is kept, and reachable through consumer.retry
        conn.channel().basic_publish(amqp.Message(b"{}"), exchange="consumer.retry", routing_key=holding)

    with kombu.Connection(amqp_uri) as admin:
        assert admin.channel().queue_declare(holding, passive=True).message_count == 2
        assert admin.channel().queue_declare(empty, passive=True).message_count == 0
