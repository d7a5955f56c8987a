import pytest

from setiakawan_coordination import SERVICE


@pytest.fixture
def coordination(make_database, run_service):
    database = make_database(SERVICE.migrations, prefix="coordination")
    service = run_service("coordination", SERVICE.module, database, **SERVICE.test_config)
    service.database = database
    return service


@pytest.fixture
def publish(send_events, coordination):
    """``publish(source, type, data)``: an event sent as the ``source``
    service would, returned once the coordination service applied it;
    ``publish.unapplied(...)`` returns at once (``publish.applied(*events)`` waits)."""
    senders = {}

    def sender(source):
        if source not in senders:
            senders[source] = send_events(source, coordination, coordination.database)
        return senders[source]

    class Publisher:
        def unapplied(self, source, event_type, data, subject=None, event_id=None):
            return sender(source).send(event_type, data, subject or "coordination-test", event_id=event_id)

        def applied(self, *events):
            for event in events:
                sender(event.source.rsplit("/", 1)[-1]).applied(event)

        def __call__(self, source, event_type, data, **kw):
            event = self.unapplied(source, event_type, data, **kw)
            self.applied(event)
            return event

    return Publisher()
