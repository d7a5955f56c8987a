import json
import re
import time
import uuid

import amqp
import kombu
import pytest
import requests

from setiakawan_kit import topology
from setiakawan_kit.rpc import RpcClient
from setiakawan_kit.service import KitService
from setiakawan_kit.testing import wait_for
from setiakawan_registry import SERVICE

from registry_samples import household_body  # noqa: F401 - the integration tests import it from here


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


class Client:
    def __init__(self, url, token):
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"}

    def _headers(self, extra):
        return dict(self.headers, **(extra or {}))

    def post(self, path, body=None, headers=None, **kw):
        return requests.post(self.url + path, json=body, headers=self._headers(headers), timeout=60, **kw)

    def put(self, path, body, headers=None, **kw):
        return requests.put(self.url + path, json=body, headers=self._headers(headers), timeout=60, **kw)

    def patch(self, path, body, headers=None, **kw):
        return requests.patch(self.url + path, json=body, headers=self._headers(headers), timeout=60, **kw)

    def get(self, path, headers=None, **kw):
        return requests.get(self.url + path, headers=self._headers(headers), timeout=60, **kw)


@pytest.fixture
def client(registry, token):
    """``client(role=..., regions=..., agency=...)``: an HTTP client with a token."""

    def make(role="operator", regions=("62.13",), agency="Dinas Sosial Kabupaten Barito Timur", kind="district"):
        return Client(registry.url, token(role=role, regions=regions, agency=agency, kind=kind))

    return make


def assert_no_identifiers(messages, numbers):
    """No event (headers or body, as on the wire) holds one of these NIKs or
    KK numbers, or a value that could be a digest of one (64 hex digits)."""
    assert messages
    for headers, body in messages:
        text = json.dumps(headers) + (body.decode() if isinstance(body, bytes) else body)
        leaked = [number for number in numbers if number in text]
        assert not leaked, f"{headers['ce-type']} carries {leaked}"
        assert not re.search(r"[0-9a-fA-F]{64}", text), f"{headers['ce-type']} carries a 64-hex-digit value"


def count_rows(db, database, table):
    with db(database).cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")
        return cur.fetchone()[0]


class Notifications(KitService):
    """The registry's RPC callers as their accounts see them (the real services are shells)."""

    name = "notifications"
    registry = RpcClient("registry", methods=("contact_details",))


class Distribution(KitService):
    name = "distribution"
    registry = RpcClient("registry", methods=("nik_belongs_to",))


def rpc_call(uri, service, method, *args, user_id=None, timeout=20):
    """nameko's RPC protocol by hand, as ``service``'s account in ``uri``
    (its ``user_id`` unless given); the reply body."""
    return rpc_call_raw(uri, service, method, {"args": list(args), "kwargs": {}}, user_id, timeout)


def rpc_call_raw(uri, service, method, body, user_id=None, timeout=20):
    exchange = kombu.Exchange("nameko-rpc", type="topic", durable=True, passive=True)
    routing_key = str(uuid.uuid4())
    user = kombu.Connection(uri).userid if user_id is None else user_id
    with kombu.Connection(uri) as conn:
        channel = conn.channel()
        reply = kombu.Queue(f"rpc.reply-{service}-{routing_key}", exchange=exchange, routing_key=routing_key,
                            exclusive=True, auto_delete=True)(channel)
        reply.declare()
        properties = {"reply_to": routing_key, "correlation_id": str(uuid.uuid4()),
                      "content_type": "application/json"}
        if user:
            properties["user_id"] = user
        channel.confirm_select()
        channel.basic_publish(amqp.Message(json.dumps(body), **properties),
                              exchange="nameko-rpc", routing_key=f"registry.{method}")
        message = wait_for(lambda: reply.get(no_ack=True), timeout, interval=0.05,
                           what=f"a reply to registry.{method}")
        return json.loads(message.body)


def finished_import(registry, bearer, import_id, timeout=120):
    """The import's state once it completed or failed."""
    def state():
        return requests.get(f"{registry.url}/imports/{import_id}", timeout=10,
                            headers={"Authorization": f"Bearer {bearer}"}).json()

    return wait_for(lambda: (s := state())["status"] in ("completed", "failed") and s, timeout, interval=0.2,
                    what=f"import {import_id} to end", state=state, services=[registry])


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
