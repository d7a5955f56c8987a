import json
import time

import kombu
import pytest
import requests

from setiakawan_kit import topology
from setiakawan_registry import SERVICE

from registry_samples import household_body  # noqa: F401 - the integration tests import it from here


@pytest.fixture
def capture(amqp_uri):
    """Every event the registry publishes during the test, as (type, data)."""
    conn = kombu.Connection(amqp_uri)
    channel = conn.channel()
    queue = kombu.Queue(f"capture-registry-{time.monotonic_ns()}", exchange=topology.event_exchange("registry"),
                        routing_key="#", durable=False, auto_delete=False)
    queue(channel).declare()

    class Capture:
        def events(self, settle=0.5):
            time.sleep(settle)
            out = []
            bound = queue(channel)
            while (message := bound.get(no_ack=True)) is not None:
                out.append((message.headers["ce-type"], json.loads(message.body)))
            return out

        def wait_for(self, count, timeout=20):
            got, deadline = [], time.monotonic() + timeout
            while len(got) < count and time.monotonic() < deadline:
                got += self.events(settle=0.1)
            return got

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


def count_rows(db, database, table):
    with db(database).cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")
        return cur.fetchone()[0]


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
