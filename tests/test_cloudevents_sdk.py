"""Every event type of the contract, as the relay puts it on the wire, is
read by the official CloudEvents Python SDK (RabbitMQ binding)."""
import kombu
import pytest
from cloudevents.core.bindings.rabbitmq import RabbitMQMessage, from_rabbitmq_event

import tests.support.services  # noqa: F401 - registers the test event types too
from setiakawan_contract import wire
from setiakawan_kit import outbox, topology
from setiakawan_contract import event_types
from setiakawan_kit.db import database_dsn
from setiakawan_kit.testing import wait_for

import psycopg2


@pytest.fixture
def captured(infrastructure, amqp_uri, make_database):
    """Writes an example of every event type to an outbox, relays it, and
    returns (originals, raw messages) captured from the exchanges."""
    types = list(event_types)
    name = make_database(prefix="contract")
    dsn = database_dsn(infrastructure.database_url, name)
    with kombu.Connection(amqp_uri) as conn:
        channel = conn.default_channel
        queue = kombu.Queue("capture-all", durable=False, auto_delete=False)
        queue(channel).declare()
        for service in {t.source_service for t in types}:
            topology.event_exchange(service)(channel).declare()
            channel.queue_bind("capture-all", topology.exchange_name(service), "#")
        originals = {}
        with psycopg2.connect(dsn) as pg, pg.cursor() as cur:
            for i, event_type in enumerate(types):
                event = outbox.write(cur, event_type, f"subject-{i}", event_type.example,
                                     service=event_type.source_service, agency="Dinas Sosial Provinsi",
                                     agencykind="province", correlationid=f"corr-{i}", causationid=f"cause-{i}")
                originals[event.id] = event
        relay = outbox.Relay(dsn, amqp_uri, "producer")
        relay._ensure_connections()
        try:
            assert relay.deliver_batch() == (len(types), 0)
        finally:
            relay._drop_broker()
            relay._drop_db()
        messages = []

        def all_came():
            while (message := queue(channel).get(no_ack=True)) is not None:
                messages.append(message)
            return len(messages) >= len(types)

        wait_for(all_came, timeout=20, interval=0.05, what=f"{len(types)} events",
                 state=lambda: len(messages))
        queue(channel).delete()
    return types, originals, messages


def test_every_event_type_is_read_by_the_cloudevents_sdk(captured):
    types, originals, messages = captured
    assert len(messages) == len(types)
    seen = set()
    for message in messages:
        event = from_rabbitmq_event(RabbitMQMessage(headers=message.headers, content_type=message.content_type,
                                                    body=message.body))
        original = originals[event.get_id()]
        assert event.get_type() == original.type
        assert event.get_source() == original.source
        assert event.get_specversion() == "1.0"
        assert event.get_subject() == original.subject
        assert event.get_time() == original.time
        assert event.get_datacontenttype() == "application/json"
        assert event.get_dataschema() == original.dataschema
        assert event.get_extension("correlationid") == original.correlationid
        assert event.get_extension("causationid") == original.causationid
        assert event.get_extension("agency") == "Dinas Sosial Provinsi"
        assert event.get_extension("agencykind") == "province"
        assert event.get_data() == original.data
        # and our own reader agrees
        ours = wire.from_message(message.headers, message.content_type, message.body)
        assert (ours.data, ours.agencykind) == (original.data, "province")
        seen.add(original.dataschema)
    assert seen == {t.dataschema for t in types}
