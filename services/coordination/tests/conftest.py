import pytest

from coordination_samples import (DISTRICT, KANDRIS, blocking, course, delivery, enrolment, entitlement, household,
                                  programme)

from setiakawan_coordination import SERVICE
from setiakawan_kit.testing import free_port


@pytest.fixture
def coordination(make_database, run_service, amqp_uri, infrastructure):
    database = make_database(SERVICE.migrations, prefix="coordination")
    # the console's links to the other services: none of them runs here (free ports nobody listens on)
    port = free_port()
    services = {name: f"http://127.0.0.1:{free_port()}" for name in ("registry", "distribution", "training")}
    service = run_service("coordination", SERVICE.module, database, port=port,
                          CONSOLE_SERVICES=dict(services, coordination=f"http://127.0.0.1:{port}"),
                          # the operations page acts as the test's broker administrator, on its vhost
                          CONSOLE_OPERATOR_AMQP_URI=amqp_uri,
                          CONSOLE_RABBITMQ_MANAGEMENT_URL=infrastructure.broker.management_url,
                          **SERVICE.test_config)
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
        def unapplied(self, source, event_type, data, subject=None, event_id=None, **envelope):
            return sender(source).send(event_type, data, subject or "coordination-test", event_id=event_id,
                                       **envelope)

        def applied(self, *events):
            for event in events:
                sender(event.source.rsplit("/", 1)[-1]).applied(event)

        def __call__(self, source, event_type, data, **kw):
            event = self.unapplied(source, event_type, data, **kw)
            self.applied(event)
            return event

    return Publisher()


@pytest.fixture
def barito_timur(publish):
    """Seven households of Barito Timur as the registry published them (and
    an eighth merged into the first), the province's and the district's
    December food packages, the district's sewing course; returned by name."""
    h = {"delivered": household(decile=2), "district_only": household(decile=3), "nobody": household(decile=1),
         "trained": household(village=KANDRIS, decile=4), "nobody_kandris": household(village=KANDRIS, decile=2),
         "unverified": household(decile=1, status="registered"), "better_off": household(decile=7)}
    merged_away = household(decile=1)
    province, district = programme(), programme(agency=DISTRICT, funding_source="apbd_district",
                                                name="Bantuan sembako Kabupaten Barito Timur")
    package, districts = entitlement(province, h["delivered"]), entitlement(district, h["district_only"])
    sewing = course()
    # reordered, each pair waited for in turn: the newer snapshot of "nobody" (verified, decile 1) before
    # the older one (registered, decile 5); the package delivered before it was issued
    publish("registry", "household.verified", {"household": dict(h["nobody"], version=2), "verified_by": DISTRICT,
                                               "verified_at": "2026-11-20T03:00:00+00:00",
                                               "reverify_due": "2027-11-20"})
    publish("distribution", "aid.delivered", {"entitlement": dict(package, version=2, status="delivered"),
                                              "delivery": delivery(h["delivered"])})
    # the rest in any order the queues take them
    publish.applied(
        *[publish.unapplied("registry", "household.registered", {"household": snapshot})
          for name, snapshot in h.items() if name != "nobody"],
        publish.unapplied("registry", "household.registered", {"household": dict(
            h["nobody"], version=1, status="registered", decile=5)}),
        publish.unapplied("registry", "household.registered", {"household": merged_away}),
        publish.unapplied("registry", "household.merged", {"household": dict(h["delivered"], version=2),
                                                           "merged_household_id": merged_away["household_id"],
                                                           "moved_person_refs": []}),
        *[publish.unapplied("distribution", "programme.activated", {"programme": p, "issued": 1, "blocked": 0})
          for p in (province, district)],
        publish.unapplied("distribution", "entitlement.issued", {"entitlement": package}),
        publish.unapplied("distribution", "entitlement.issued", {"entitlement": districts}),
        publish.unapplied("distribution", "entitlement.blocked", {
            "entitlement": entitlement(province, h["district_only"], status="blocked"),
            "blocked_by": blocking(districts)}),
        publish.unapplied("training", "course.published", {"course": sewing}),
        publish.unapplied("training", "enrolment.confirmed", {"enrolment": enrolment(sewing, h["trained"]),
                                                              "promoted": False}))
    return h
