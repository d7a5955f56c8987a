import json
import time

import kombu
import pytest

from setiakawan_contract import event_types, make_event, wire
from setiakawan_kit import topology
from setiakawan_kit.testing import wait_for
from setiakawan_training import SERVICE

from training_support import PROVIDER, Client


@pytest.fixture
def training(make_database, run_service, tmp_path):
    database = make_database(SERVICE.migrations, prefix="training")
    service = run_service("training", SERVICE.module, database, VERIFY_BASE_URL="https://cek.example.go.id",
                          **SERVICE.test_config)
    service.database = database
    return service


@pytest.fixture
def client(training, token):
    """``client(role=..., regions=..., agency=..., kind=...)``: an HTTP client
    of the training service with a token; by default the Balangan social office."""

    def make(role="operator", regions=("63.11",), agency=PROVIDER, kind="district"):
        return Client(training.url, token(role=role, regions=regions, agency=agency, kind=kind))

    return make


@pytest.fixture
def registry_events(amqp_uri, training, db):
    """``registry_events.send(type, data)`` publishes an event on
    ``registry.events`` as the registry would; ``applied(event)`` waits
    until the training service has recorded it in its inbox."""
    conn = kombu.Connection(amqp_uri)
    producer = conn.Producer()

    class Sender:
        def send(self, event_type, data, subject=None, event_id=None, time=None):
            kind = event_types.get("registry", event_type)
            key = data.get("household") or data.get("group")
            event = make_event(kind, subject or str(key.get("household_id") or key.get("group_id")), data,
                               service="registry", agency="Dinas Sosial Kabupaten Balangan", event_id=event_id,
                               time=time)
            headers, content_type, body = wire.to_message(event)
            producer.publish(body, exchange=topology.exchange_name("registry"), routing_key=event.type,
                             headers=headers, content_type=content_type, content_encoding="utf-8",
                             delivery_mode=2)
            return event

        def applied(self, *events, timeout=30):
            ids = [e.id for e in events]

            def seen():
                with db(training.database).cursor() as cur:
                    cur.execute("SELECT count(*) FROM kit_inbox WHERE event_id = ANY(%s)", (ids,))
                    return cur.fetchone()[0] == len(ids)

            wait_for(seen, timeout, interval=0.05, what=f"{len(ids)} registry events applied", services=[training])

        def household(self, snapshot, event_type="household.registered", **extra):
            event = self.send(event_type, {"household": snapshot, **extra})
            self.applied(event)
            return event

        def group(self, snapshot, event_type="group.registered"):
            event = self.send(event_type, {"group": snapshot})
            self.applied(event)
            return event

    yield Sender()
    conn.release()


@pytest.fixture
def events(amqp_uri, training):
    """Every event the training service publishes during the test, as
    (type, data): ``events.wait_for(n)`` returns once at least n new ones came."""
    conn = kombu.Connection(amqp_uri)
    channel = conn.channel()
    queue = kombu.Queue(f"capture-training-{time.monotonic_ns()}", exchange=topology.event_exchange("training"),
                        routing_key="#", durable=False, auto_delete=False)
    queue(channel).declare()

    class Capture:
        def __init__(self):
            self.got = []
            self.ids = []  # the event id of each, as on the wire
            self.returned = 0

        def _drain(self):
            bound = queue(channel)
            while (message := bound.get(no_ack=True)) is not None:
                self.got.append((message.headers["ce-type"], json.loads(message.body)))
                self.ids.append(message.headers["ce-id"])

        def wait_for(self, count, timeout=30):
            wait_for(lambda: self._drain() or len(self.got) - self.returned >= count, timeout, interval=0.05,
                     what=f"{count} training events", state=lambda: [t for t, _ in self.got[self.returned:]],
                     services=[training])
            new, self.returned = self.got[self.returned:], len(self.got)
            return new

        def all(self):
            self._drain()
            return list(self.got)

    yield Capture()
    queue(channel).delete()
    conn.release()


