"""The notifications service's tests: the service as a process of its own,
with real peers started by the tests (``notifications_peers``: the
SMS/WhatsApp gateway, a partner's webhook receiver, an SMTP server) and,
where contact details are needed, the registry as a process too."""
import secrets

import pytest

from setiakawan_kit.cli import installed_services
from setiakawan_notifications import SERVICE

from notifications_peers import Gateway, Mailbox, Receiver
from notifications_support import Client, sending

GATEWAY_TOKEN = "gateway-token"


@pytest.fixture
def gateway():
    with Gateway(token=GATEWAY_TOKEN) as peer:
        yield peer


@pytest.fixture
def mailbox():
    with Mailbox() as peer:
        yield peer


@pytest.fixture
def receivers():
    """``receivers(secret)``: a partner's webhook receiver, stopped after the test."""
    made = []

    def make(secret):
        made.append(Receiver(secret).start())
        return made[-1]

    yield make
    for receiver in made:
        receiver.stop()


@pytest.fixture
def inbound_secret():
    return "whsec_" + __import__("base64").b64encode(secrets.token_bytes(24)).decode()


@pytest.fixture
def start_notifications(make_database, run_service, gateway, mailbox, inbound_secret):
    """``start_notifications(database=None, **sending)``: the service, on a
    database of its own (or the one given, to restart it), sending to the
    test's gateway and mail server; ``sending`` overrides SENDING settings."""

    def start(database=None, wait=True, env=None, per_second=500, **overrides):
        database = database or make_database(SERVICE.migrations, prefix="notifications")
        service = run_service("notifications", SERVICE.module, database, wait=wait, env=env, **SERVICE.test_config,
                              GATEWAY={"url": gateway.url, "token": GATEWAY_TOKEN, "inbound_secret": inbound_secret,
                                       "sms_per_second": per_second, "whatsapp_per_second": per_second},
                              SMTP={"host": mailbox.host, "port": mailbox.port, "sender": "setiakawan@dinsos.test",
                                    "per_second": 50},
                              SENDING=sending(**overrides))
        service.database = database
        return service

    return start


@pytest.fixture
def notifications(start_notifications):
    return start_notifications()


@pytest.fixture
def registry(make_database, run_service):
    info = {s.name: s for s in installed_services()}["registry"]
    return run_service("registry", info.module, make_database(info.migrations, prefix="registry"),
                       **info.test_config)


@pytest.fixture
def client(notifications, token):
    """``client(role=..., regions=..., agency=..., kind=...)``: an HTTP client of the service."""

    def make(role="admin", regions=("62", "63"), agency="Dinas Sosial Provinsi Kalimantan Tengah", kind="province"):
        return Client(notifications.url, token(role=role, regions=regions, agency=agency, kind=kind))

    return make


@pytest.fixture
def events_to(send_events):
    """``events_to(service, source)``: publish events as ``source`` would, each waited for until applied."""

    def make(service, source, agency="Dinas Sosial Kabupaten Barito Timur"):
        return send_events(source, service, service.database, agency=agency)

    return make


@pytest.fixture
def published(capture_events, notifications):
    return capture_events("notifications", services=[notifications])
