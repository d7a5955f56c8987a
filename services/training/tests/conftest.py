import pytest

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
def registry_events(send_events, training):
    """``registry_events.send(type, data)`` publishes an event on
    ``registry.events`` as the registry would; ``applied(event)`` waits
    until the training service has recorded it in its inbox."""
    sender = send_events("registry", training, training.database)

    class Sender:
        def send(self, event_type, data, subject=None, event_id=None, time=None):
            key = data.get("household") or data.get("group")
            return sender.send(event_type, data, subject or str(key.get("household_id") or key.get("group_id")),
                               event_id=event_id, time=time)

        applied = staticmethod(sender.applied)

        def household(self, snapshot, event_type="household.registered", **extra):
            event = self.send(event_type, {"household": snapshot, **extra})
            self.applied(event)
            return event

        def group(self, snapshot, event_type="group.registered"):
            event = self.send(event_type, {"group": snapshot})
            self.applied(event)
            return event

    return Sender()


@pytest.fixture
def events(capture_events, training):
    """Every event the training service publishes during the test, as
    (type, data): ``events.wait_for(n)`` returns once at least n new ones came."""
    return capture_events("training", services=[training])


