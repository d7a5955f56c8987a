"""The distribution service's tests; ``distribution_support`` holds what they share."""
import pytest

from setiakawan_distribution import SERVICE

from distribution_support import PROVINCE, Client


@pytest.fixture
def distribution(make_database, run_service):
    database = make_database(SERVICE.migrations, prefix="distribution")
    service = run_service("distribution", SERVICE.module, database, **SERVICE.test_config)
    service.database = database
    return service


@pytest.fixture
def client(distribution, token):
    """``client(role=..., regions=..., agency=..., kind=...)``: an HTTP client
    of the distribution service with a token; by default the province's social office."""

    def make(role="operator", regions=("62",), agency=PROVINCE, kind="province"):
        return Client(distribution.url, token(role=role, regions=regions, agency=agency, kind=kind))

    return make


@pytest.fixture
def registry_events(send_events, distribution):
    """Registry events as the registry would publish them, each waited for
    until the distribution service applied it."""
    sender = send_events("registry", distribution, distribution.database)

    class Sender:
        def household(self, snapshot, event_type="household.registered", wait=True, **extra):
            event = sender.send(event_type, {"household": snapshot, **extra}, str(snapshot["household_id"]))
            if wait:
                sender.applied(event)
            return event

        def group(self, snapshot, event_type="group.registered"):
            event = sender.send(event_type, {"group": snapshot}, str(snapshot["group_id"]))
            sender.applied(event)
            return event

        applied = staticmethod(sender.applied)

    return Sender()


@pytest.fixture
def training_events(send_events, distribution):
    sender = send_events("training", distribution, distribution.database, agency="Dinas Sosial Kabupaten Balangan")

    class Sender:
        def completed(self, data):
            event = sender.send("participant.completed", data, str(data["enrolment_id"]))
            sender.applied(event)
            return event

    return Sender()


@pytest.fixture
def events(capture_events, distribution):
    return capture_events("distribution", services=[distribution])
