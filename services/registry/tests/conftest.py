import json
import time
import uuid

import kombu
import pytest
import requests

from setiakawan_kit import topology
from setiakawan_kit.testing import wait_for
from setiakawan_registry import SERVICE

from registry_support import Client, Distribution, Notifications, rpc_call


MARKER_PREFIX = "capture-marker-"


@pytest.fixture
def capture(amqp_uri, request):
    """Every event the registry publishes during the test, as (type, data),
    each returned once: ``wait_for(n)`` returns once at least ``n`` new
    ones came; ``events()`` returns all the new ones and proves there are
    no more (a diagnostic ping, sent through the registry's outbox after
    them, came behind them). The registry is the ``registry`` fixture's
    unless the test sets ``capture.registry``."""
    conn = kombu.Connection(amqp_uri)
    channel = conn.channel()
    queue = kombu.Queue(f"capture-registry-{time.monotonic_ns()}", exchange=topology.event_exchange("registry"),
                        routing_key="#", durable=False, auto_delete=False)
    queue(channel).declare()

    class Capture:
        registry = None

        def __init__(self):
            self.messages = []  # (headers, body bytes) of every event got so far, as on the wire
            self._got = []  # (type, data), in order
            self._returned = 0
            self._markers = set()

        def _drain(self):
            bound = queue(channel)
            while (message := bound.get(no_ack=True)) is not None:
                event = (message.headers["ce-type"], json.loads(message.body))
                if event[0] == "diagnostic.ping" and event[1]["message"].startswith(MARKER_PREFIX):
                    self._markers.add(event[1]["message"])
                    continue
                self.messages.append((message.headers, message.body))
                self._got.append(event)

        def _new(self):
            new, self._returned = self._got[self._returned:], len(self._got)
            return new

        def events(self, timeout=20):
            registry = self.registry or request.getfixturevalue("registry")
            marker = f"{MARKER_PREFIX}{uuid.uuid4()}"
            sent = requests.post(registry.url + "/diagnostics/ping", json={"message": marker}, timeout=30,
                                 headers={"Authorization": f"Bearer {request.getfixturevalue('token')()}"})
            assert sent.status_code == 202, sent.text
            wait_for(lambda: self._drain() or marker in self._markers, timeout, interval=0.05,
                     what="the capture's marker event", services=[registry])
            return self._new()

        def wait_for(self, count, timeout=20):
            wait_for(lambda: self._drain() or len(self._got) - self._returned >= count, timeout, interval=0.05,
                     what=f"{count} registry events", state=lambda: [t for t, _ in self._got[self._returned:]])
            return self._new()

    yield Capture()
    queue(channel).delete()
    conn.release()


@pytest.fixture
def registry(make_database, run_service, tmp_path):
    database = make_database(SERVICE.migrations, prefix="registry")
    service = run_service("registry", SERVICE.module, database, IMPORT_DIR=str(tmp_path / "imports"),
                          **SERVICE.test_config)
    service.database = database
    return service


@pytest.fixture
def client(registry, token):
    """``client(role=..., regions=..., agency=...)``: an HTTP client with a token."""

    def make(role="operator", regions=("62.13",), agency="Dinas Sosial Kabupaten Barito Timur", kind="district"):
        return Client(registry.url, token(role=role, regions=regions, agency=agency, kind=kind))

    return make


@pytest.fixture
def call_registry(service_account):
    """``call_registry(method, *args)``: the RPC as the service allowed to
    make it (contact_details: notifications; nik_belongs_to: distribution);
    the result, or the error raised."""
    callers = {"contact_details": Notifications, "nik_belongs_to": Distribution}

    def call(method, *args):
        caller = callers[method]
        reply = rpc_call(service_account(caller.name, caller), caller.name, method, *args)
        assert reply["error"] is None, reply["error"]
        return reply["result"]

    return call


@pytest.fixture
def access_rows(db, registry):
    """``access_rows(**equal)``: the registry's access log rows (dicts),
    oldest first, those whose columns equal the given values."""
    from psycopg2.extras import RealDictCursor

    def rows(**equal):
        where = " AND ".join(f"{column} = %s" for column in equal) or "true"
        with db(registry.database).cursor(cursor_factory=RealDictCursor) as cur:
            cur.execute(f"SELECT * FROM personal_data_access WHERE {where} ORDER BY id",
                        [str(v) for v in equal.values()])
            return cur.fetchall()

    return rows
