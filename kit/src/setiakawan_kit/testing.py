"""pytest fixtures for Setiakawan services and partner services, against a
real RabbitMQ and PostgreSQL.

Where they come from:

* a Docker engine running (and ``SETIAKAWAN_TEST_DOCKER`` not ``never``):
  pytest-docker starts both from the repository's ``docker-compose.yml``;
* else PostgreSQL is the local server (``DATABASE_URL``) and RabbitMQ a
  node started for the test session alone (``rabbitmq_node``: its own name,
  ports, data and management API; removed when the session ends), so the
  broker a developer works with is never touched and sessions can run side
  by side;
* where no such node can be started (``rabbitmq-server`` not installed), or
  with ``SETIAKAWAN_TEST_BROKER=local``, the local broker (``AMQP_URI``, an
  administrator; its management API if on, else ``rabbitmqctl``). Tests
  that restart the broker or cut its connections (fixture ``own_broker``)
  are then skipped, saying why and how to run them.

Each test gets its own vhost and its own databases, dropped afterwards, so
runs never collide. Services run as real processes (``python -m
setiakawan_kit.runner``), the way an operator runs them, so tests can kill
and restart them. ``wait_for`` is the one way tests wait for something.
"""
import atexit
import functools
import http.cookies
import importlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from . import auth, keys, migrate, postgres_node, rabbitmq_node
from .broker import (BrokerAdmin, Definitions, amqp_uri_for, any_source_bindings, exchanges_for, needs_of,
                     new_password, partner_grant, service_grant)
from .broker import partner_account as partner_account_name
from .db import database_dsn

LOCAL_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_AMQP_URI = "pyamqp://guest:guest@127.0.0.1:5672/"
BROKER_CHOICE = "SETIAKAWAN_TEST_BROKER"  # auto (default), own or local
BROKER_CHOICES = ("auto", "own", "local")


@functools.lru_cache(maxsize=None)
def docker_engine_running():
    if os.environ.get("SETIAKAWAN_TEST_DOCKER", "auto") == "never" or not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=15).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout=30, interval=0.1, what="the condition", services=(), state=None):
    """Call ``predicate`` every ``interval`` seconds until it returns
    something truthy, and return that. After ``timeout`` seconds fail
    (AssertionError) naming ``what``, with ``state()`` (what was seen
    last) and the log tails of ``services`` (``ServiceProcess``es)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    details = [f"{what}: not within {timeout}s"]
    if state is not None:
        details.append(f"last seen: {state()}")
    for service in services:
        details.append(f"--- {service.name} log tail ---\n{service.log_tail(40)}")
    raise AssertionError("\n".join(details))


@dataclass
class Broker:
    """The tests' RabbitMQ node. ``own``: started for this test session
    (a node of its own or its container), so tests may restart it; else
    ``shared_because`` says why the tests use a broker others use too."""

    host: str
    port: int
    management_url: str
    user: str = "guest"
    password: str = "guest"
    ctl: list = field(default_factory=lambda: ["rabbitmqctl"])
    own: bool = False
    shared_because: str = ""

    def uri(self, vhost):
        return f"pyamqp://{self.user}:{self.password}@{self.host}:{self.port}/{urllib.parse.quote(vhost, safe='')}"

    @property
    def admin(self):
        return BrokerAdmin(self.management_url, self.user, self.password, ctl=self.ctl)

    def add_vhost(self, name):
        self.admin.add_vhost(name)

    def delete_vhost(self, name):
        self.admin.delete_vhost(name)

    def restart(self, down_seconds=1.0):
        """Stop and start the broker application (all connections drop);
        only a broker of the session's own."""
        self.stop_app()
        time.sleep(down_seconds)  # the outage itself, not a wait for something
        self.start_app()

    def stop_app(self):
        if not self.own:
            raise RuntimeError(f"will not stop a broker others use ({self.shared_because})")
        self._ctl("stop_app")

    def start_app(self):
        self._ctl("start_app")
        self._ctl("await_startup")

    def cut_connections(self, vhost):
        """Close every client connection on ``vhost`` from the broker's side."""
        self.admin.close_connections(vhost, "fault injection by a test")

    def _ctl(self, *args, check=True):
        return subprocess.run([*self.ctl, *args], capture_output=True, timeout=120, check=check)


@dataclass
class Infrastructure:
    database_url: str
    broker: Broker


def _local_database():
    database_url = os.environ.get("DATABASE_URL", LOCAL_DATABASE_URL)
    try:
        psycopg2.connect(database_dsn(database_url, "postgres"), connect_timeout=5).close()
    except psycopg2.Error as exc:
        pytest.exit(f"PostgreSQL is not reachable at {database_url}: {exc}".strip(), returncode=3)
    return database_url


def _broker_choice():
    choice = os.environ.get(BROKER_CHOICE, "auto")
    if choice not in BROKER_CHOICES:
        pytest.exit(f"{BROKER_CHOICE}={choice}: use one of {', '.join(BROKER_CHOICES)}", returncode=4)
    return choice


def _own_node_unavailable():
    """Why no node of the session's own can be started here, or None."""
    if _broker_choice() == "local":
        return f"{BROKER_CHOICE}=local (unset it for a node of the session's own)"
    try:
        rabbitmq_node.scripts_dir()
    except rabbitmq_node.NodeUnavailable as exc:
        return str(exc)
    return None


def _local_broker(why):
    amqp = urllib.parse.urlsplit(os.environ.get("AMQP_URI", LOCAL_AMQP_URI))
    host, port = amqp.hostname or "127.0.0.1", amqp.port or 5672
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as exc:
        pytest.exit(f"RabbitMQ is not reachable at {host}:{port}: {exc}", returncode=3)
    management_url = os.environ.get("RABBITMQ_MANAGEMENT_URL") or f"http://{host}:15672"
    return Broker(host, port, management_url, urllib.parse.unquote(amqp.username or "guest"),
                  urllib.parse.unquote(amqp.password or "guest"),
                  shared_because=f"the tests use the RabbitMQ at {host}:{port} (AMQP_URI) since {why}")


def _own_node(request):
    """A RabbitMQ node started for this session, or None (and why) where it cannot be."""
    why = _own_node_unavailable()
    if why is None:
        try:
            node = rabbitmq_node.RabbitMQNode().start()
        except rabbitmq_node.NodeUnavailable as exc:
            warnings.warn(pytest.PytestWarning(f"no RabbitMQ node of the session's own: {exc}"))
            why = f"a RabbitMQ node of its own did not start ({str(exc).splitlines()[0]})"
        else:
            request.addfinalizer(node.stop)
            atexit.register(node.stop)  # the session may end without its finalizers
            return node, None
    if _broker_choice() == "own":
        pytest.exit(f"{BROKER_CHOICE}=own, but {why}", returncode=3)
    return None, why


def pytest_report_header(config):
    if docker_engine_running():
        return "setiakawan: RabbitMQ and PostgreSQL from docker-compose.yml (a Docker engine runs)"
    why = _own_node_unavailable()
    if why is None:
        return ("setiakawan: RabbitMQ a node of the session's own (started when a test needs it), "
                "PostgreSQL the local server (DATABASE_URL)")
    return (f"setiakawan: the local RabbitMQ (AMQP_URI) and PostgreSQL (DATABASE_URL), since {why}; "
            "tests that restart or cut the broker are skipped")


@pytest.fixture(scope="session")
def docker_compose_file(pytestconfig):
    return str(Path(str(pytestconfig.rootdir)) / "docker-compose.yml")


@pytest.fixture(scope="session")
def docker_compose_project_name():
    return f"setiakawan-test-{os.getpid()}"


@pytest.fixture(scope="session")
def docker_compose_command():
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
    return "docker compose" if probe.returncode == 0 else "docker-compose"


@pytest.fixture(scope="session")
def docker_setup():
    return ["up -d rabbitmq postgres"]


@pytest.fixture(scope="session")
def infrastructure(request):
    """Where the tests' RabbitMQ and PostgreSQL are (see the module's doc).
    With a broker of the session's own, ``RABBITMQ_MANAGEMENT_URL`` points
    at it for the session, so the ``setiakawan`` tools run by tests
    administer that broker."""
    environment = pytest.MonkeyPatch()
    request.addfinalizer(environment.undo)
    if not docker_engine_running():
        database_url = _local_database()
        node, why = _own_node(request)
        if node is None:
            return Infrastructure(database_url, _local_broker(why))
        broker = Broker(node.host, node.amqp_port, f"http://{node.host}:{node.management_port}", ctl=node.ctl,
                        own=True)
        environment.setenv("RABBITMQ_MANAGEMENT_URL", broker.management_url)
        return Infrastructure(database_url, broker)
    # Ports of our own, so a RabbitMQ or PostgreSQL already on this machine does not collide.
    for var in ("SETIAKAWAN_PG_PORT", "SETIAKAWAN_AMQP_PORT", "SETIAKAWAN_AMQP_MGMT_PORT", "SETIAKAWAN_AMQP_DIST_PORT"):
        os.environ.setdefault(var, str(free_port()))
    services = request.getfixturevalue("docker_services")
    compose = request.getfixturevalue("docker_compose_command").split()
    # host networking: the containers listen on these ports themselves (nothing to look up)
    pg_port, amqp_port, mgmt_port = (int(os.environ[var]) for var in
                                     ("SETIAKAWAN_PG_PORT", "SETIAKAWAN_AMQP_PORT", "SETIAKAWAN_AMQP_MGMT_PORT"))
    database_url = f"postgresql://postgres@127.0.0.1:{pg_port}/postgres"

    def ready():
        try:
            psycopg2.connect(database_dsn(database_url, "postgres"), connect_timeout=2).close()
            socket.create_connection(("127.0.0.1", amqp_port), timeout=2).close()
            return True
        except (psycopg2.Error, OSError):
            return False

    services.wait_until_responsive(check=ready, timeout=120, pause=1)
    file = request.getfixturevalue("docker_compose_file")
    project = request.getfixturevalue("docker_compose_project_name")
    ctl = [*compose, "-f", file, "-p", project, "exec", "-T", "rabbitmq", "rabbitmqctl"]
    broker = Broker("127.0.0.1", amqp_port, f"http://127.0.0.1:{mgmt_port}", ctl=ctl, own=True)
    environment.setenv("RABBITMQ_MANAGEMENT_URL", broker.management_url)
    return Infrastructure(database_url, broker)


@pytest.fixture
def own_broker(infrastructure):
    """The tests' broker, for a test that restarts it or cuts its
    connections: skipped, saying how to run it, unless the broker was
    started for this session."""
    broker = infrastructure.broker
    if not broker.own:
        pytest.skip(f"restarts or cuts the broker, so it runs only on a RabbitMQ node of the test session's own "
                    f"(or a Docker engine's), and {broker.shared_because}")
    return broker


@pytest.fixture
def own_postgres():
    """A PostgreSQL cluster of this test's own (``postgres_node``), for a
    test that stops the database; ``own_postgres.url`` is its server URL,
    ``database(migrations, prefix)`` makes and migrates a database on it.
    Skipped, saying why, where no cluster can be made; removed after the test."""
    try:
        cluster = postgres_node.PostgresCluster()
    except postgres_node.ClusterUnavailable as exc:
        pytest.skip(f"stops the database, so it runs only on a PostgreSQL cluster of its own, and {exc}")
    try:
        yield started_cluster(cluster)
    finally:
        cluster.remove()


def started_cluster(cluster):
    """``cluster`` started, with ``database(migrations, prefix)``."""
    cluster.start()
    cluster.database = functools.partial(_own_database, cluster)
    return cluster


def _own_database(cluster, service_migrations=None, prefix="t"):
    name = f"setiakawan_{prefix}_{uuid.uuid4().hex[:12]}"
    migrate.migrate(cluster.url, name, service_migrations)
    return name


@pytest.fixture
def vhost(infrastructure):
    name = f"setiakawan-test-{uuid.uuid4().hex[:12]}"
    infrastructure.broker.add_vhost(name)
    yield name
    infrastructure.broker.delete_vhost(name)


@pytest.fixture
def amqp_uri(infrastructure, vhost):
    return infrastructure.broker.uri(vhost)


@pytest.fixture
def make_database(infrastructure):
    """``make_database(migrations_dir=None)`` creates and migrates a fresh
    database; returns its DSN. All are dropped after the test."""
    created = []

    def make(service_migrations=None, prefix="t"):
        name = f"setiakawan_{prefix}_{uuid.uuid4().hex[:12]}"
        created.append(name)  # dropped even if a migration fails half-way
        migrate.migrate(infrastructure.database_url, name, service_migrations)
        return name

    yield make
    for name in created:
        migrate.drop_database(infrastructure.database_url, name)


@pytest.fixture(scope="session")
def token_keys(tmp_path_factory):
    """This test session's token issuer: a key pair made for it (``.jwks``
    is what services trust, ``.signing_key`` what ``token`` signs with)."""
    files = keys.KeyFiles(tmp_path_factory.mktemp("token-keys"))
    files.init()
    return files


@pytest.fixture
def token(token_keys):
    """``token(role="operator", regions=("62",), kind="province", agency=...)``."""
    signing_key = keys.load_signing_key(token_keys.signing_key)

    def issue(role="operator", regions=("62",), kind="province", agency="Dinas Sosial Kalimantan Tengah", **kw):
        return auth.issue_token(signing_key, agency, kind, role, list(regions), **kw)

    return issue


class BrokerAccounts:
    """Broker users of one test session (``<prefix><name>``, the prefix
    unique to the session, so sessions side by side never share one), each
    given on a test's vhost exactly what its service or partner grant
    allows. Users are node-wide: they are deleted when the session ends."""

    def __init__(self, broker, prefix):
        self.broker = broker
        self.prefix = prefix
        self.passwords = {}

    def user(self, name):
        return self.prefix + name

    def _grant(self, vhost, name, grant, exchanges=(), bindings=()):
        user = self.user(name)
        password = self.passwords.setdefault(user, new_password())
        self.broker.admin.apply(Definitions(
            vhost, users={user: password}, grants=[grant], exchanges=[(e, "topic") for e in exchanges],
            bindings=list(bindings)))
        return amqp_uri_for(self.broker.uri(vhost), user, password)

    def for_service(self, vhost, name, service_cls):
        """The AMQP URI of ``name``'s account on ``vhost``, allowed what
        ``service_cls`` needs; the exchanges it consumes from are made, as
        ``setiakawan broker setup`` makes them."""
        needs = needs_of(service_cls, name=_service_name(name, service_cls))
        return self._grant(vhost, name, service_grant(needs, self.user(name)),
                           exchanges_for([needs]), any_source_bindings([needs.service]))

    def for_partner(self, vhost, name, reads, publishes=False):
        account = partner_account_name(name)
        grant = partner_grant(name, self.user(account), reads, publishes)
        return self._grant(vhost, account, grant, sorted(reads))

    def delete_all(self):
        self.broker.admin.delete_users(self.passwords)


def _service_name(name, service_cls):
    # replicas run as "producer-0", "producer-1": one nameko service, one set of queues
    return getattr(service_cls, "name", None) or name


def service_class(target):
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


@pytest.fixture(scope="session")
def broker_accounts(infrastructure):
    accounts = BrokerAccounts(infrastructure.broker, f"t{uuid.uuid4().hex[:10]}-")
    yield accounts
    accounts.delete_all()


@pytest.fixture
def service_account(broker_accounts, vhost):
    """``service_account(name, "pkg.module:Class")``: the AMQP URI of the
    service's own account on this test's vhost."""

    def make(name, target):
        return broker_accounts.for_service(vhost, name, service_class(target) if isinstance(target, str) else target)

    return make


@pytest.fixture
def partner_account(broker_accounts, vhost):
    """``partner_account("wahana", {"registry.events": ("household.verified",)})``:
    the AMQP URI of partner wahana's account (``partner-wahana``) on this test's vhost."""

    def make(name, reads, publishes=False):
        return broker_accounts.for_partner(vhost, name, reads, publishes)

    return make


def wait_until_healthy(url, process, describe, timeout=60):
    """Wait until ``url``'s ``/health`` answers 200; RuntimeError naming
    ``describe()`` if ``process`` exits first or the time runs out."""

    def healthy():
        if process.poll() is not None:
            raise RuntimeError(f"exited ({process.returncode}): {describe()}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    try:
        wait_for(healthy, timeout, interval=0.2, what="healthy")
    except AssertionError:
        raise RuntimeError(f"not healthy after {timeout}s: {describe()}") from None


class ServiceProcess:
    """A service running as ``python -m setiakawan_kit.runner``."""

    def __init__(self, name, target, config, env=None, log_dir=None):
        self.name = name
        self.target = target
        self.config = config
        self.env = env or {}
        self.port = int(config["WEB_SERVER_ADDRESS"].rsplit(":", 1)[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._log_dir = Path(log_dir or tempfile.mkdtemp(prefix="setiakawan-test-"))
        self.log_path = self._log_dir / f"{name}.log"
        self.process = None

    def start(self, wait=True):
        config_path = self._log_dir / f"{self.name}.yaml"
        config_path.write_text(yaml.safe_dump(self.config))
        env = dict(os.environ, **self.env)
        env.setdefault("PYTHONPATH", os.pathsep.join(sys.path))
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "setiakawan_kit.runner", "--config", str(config_path), self.target],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        if wait:
            self.wait_healthy()
        return self

    def wait_healthy(self, timeout=60):
        wait_until_healthy(self.url, self.process, lambda: f"{self.name}:\n{self.log_tail()}", timeout)

    def kill(self):
        """SIGKILL: no cleanup, as in a crash."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self):
        self.ask_to_stop()
        self.wait_stopped()

    def ask_to_stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait_stopped(self, timeout=20):
        if self.process and self.process.poll() is None:
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def metric(self, name, **labels):
        """The sum of the samples of metric ``name`` (e.g.
        ``setiakawan_events_consumed_total``) on this service's ``/metrics``
        whose labels include ``labels``."""
        with urllib.request.urlopen(self.url + "/metrics", timeout=10) as response:
            text = response.read().decode()
        return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
                   if sample.name == name and labels.items() <= sample.labels.items())

    def log_tail(self, lines=60):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def service_config(name, amqp_uri, database_url, database_name, jwks, port=None, **extra):
    config = {
        "AMQP_URI": amqp_uri,
        "DATABASE_URL": database_url,
        "DATABASE_NAME": database_name,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{port or free_port()}",
        "TOKEN_ISSUERS": {auth.DEFAULT_ISSUER: str(jwks)},
        "max_workers": 10,
        "EVENT_RETRY": {"max_attempts": 3, "base_delay_ms": 100},
        "LOGGING": {"version": 1, "disable_existing_loggers": False,
                    "formatters": {"json": {"()": "setiakawan_kit.logs.RedactingJsonFormatter"}},
                    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
                    "root": {"level": "INFO", "handlers": ["console"]}},
    }
    config.update(extra)
    return config


@pytest.fixture
def run_service(infrastructure, amqp_uri, tmp_path, token_keys, broker_accounts, service_account):
    """``run_service(name, "pkg.module:Class", database_name, **config)``
    starts a service process on this test's vhost, connected as its own
    broker account (``own_account=False``: as the test's administrator,
    for a plain nameko service that declares others' exchanges); all are
    stopped after the test (their logs are in tmp_path)."""
    started = []

    def run(name, target, database_name, wait=True, env=None, own_account=True, **extra):
        uri = service_account(name, target) if own_account else amqp_uri
        extra.setdefault("BROKER_USER_PREFIX", broker_accounts.prefix)
        config = service_config(name, uri, infrastructure.database_url, database_name, token_keys.jwks, **extra)
        proc = ServiceProcess(name, target, config, env=env, log_dir=tmp_path)
        started.append(proc)
        return proc.start(wait=wait)

    yield run
    for proc in started:  # all at once: each takes a few seconds to stop gracefully
        proc.ask_to_stop()
    for proc in started:
        proc.wait_stopped()


@pytest.fixture
def db(infrastructure):
    """``db(name)``: a plain psycopg2 connection (autocommit) to one of the
    test databases, the same one each time it is asked for while it is open,
    so that a condition polled with it does not open a connection per poll."""
    opened = {}

    def open_(name):
        conn = opened.get(name)
        if conn is None or conn.closed:
            conn = opened[name] = psycopg2.connect(database_dsn(infrastructure.database_url, name))
            conn.autocommit = True
        return conn

    yield open_
    for conn in opened.values():
        conn.close()


class EventCapture:
    """Every event ``service`` publishes from now on, as (type, data):
    ``wait_for(n)`` returns once at least n new ones came."""

    def __init__(self, amqp_uri, service, services=()):
        import kombu

        from . import topology
        self.service, self.services = service, services
        self._conn = kombu.Connection(amqp_uri)
        self._channel = self._conn.channel()
        self._queue = kombu.Queue(f"capture-{service}-{uuid.uuid4().hex}", exchange=topology.event_exchange(service),
                                  routing_key="#", durable=False, auto_delete=False)
        self._queue(self._channel).declare()
        self.got = []
        self.ids = []  # the event id of each, as on the wire
        self.returned = 0

    def _drain(self):
        import json
        bound = self._queue(self._channel)
        while (message := bound.get(no_ack=True)) is not None:
            self.got.append((message.headers["ce-type"], json.loads(message.body)))
            self.ids.append(message.headers["ce-id"])

    def wait_for(self, count, timeout=30):
        wait_for(lambda: self._drain() or len(self.got) - self.returned >= count, timeout, interval=0.05,
                 what=f"{count} {self.service} events", state=lambda: [t for t, _ in self.got[self.returned:]],
                 services=self.services)
        new, self.returned = self.got[self.returned:], len(self.got)
        return new

    def of_type(self, event_type):
        return [data for kind, data in self.all() if kind == event_type]

    def all(self):
        self._drain()
        return list(self.got)

    def close(self):
        self._queue(self._channel).delete()
        self._conn.release()


@pytest.fixture
def capture_events(amqp_uri):
    """``capture_events(service, services=[process])``: an EventCapture on
    this test's broker, removed after the test."""
    made = []

    def make(service, services=()):
        made.append(EventCapture(amqp_uri, service, services))
        return made[-1]

    yield make
    for capture in made:
        capture.close()


class EventSender:
    """Publishes events as ``source`` would (``send``), and waits until the
    consuming service has applied them (``applied``: in its inbox)."""

    def __init__(self, amqp_uri, source, consumer, database, db, agency):
        import kombu
        self.source, self.consumer, self.database, self._db, self.agency = source, consumer, database, db, agency
        self._conn = kombu.Connection(amqp_uri)
        self._producer = self._conn.Producer()

    def send(self, event_type, data, subject, event_id=None, time=None, agency=None, agencykind=None):
        """``agency`` (default the sender's) and ``agencykind``: on whose behalf, as its token named it."""
        from setiakawan_contract import event_types, make_event, wire

        from . import topology
        event = make_event(event_types.get(self.source, event_type), subject, data, service=self.source,
                           agency=agency or self.agency, agencykind=agencykind, event_id=event_id, time=time)
        headers, content_type, body = wire.to_message(event)
        self._producer.publish(body, exchange=topology.exchange_name(self.source), routing_key=event.type,
                               headers=headers, content_type=content_type, content_encoding="utf-8", delivery_mode=2)
        return event

    def applied(self, *events, timeout=30):
        ids = [e.id for e in events]

        def seen():
            with self._db(self.database).cursor() as cur:
                cur.execute("SELECT count(*) FROM kit_inbox WHERE event_id = ANY(%s)", (ids,))
                return cur.fetchone()[0] == len(ids)

        wait_for(seen, timeout, interval=0.05, what=f"{len(ids)} {self.source} events applied",
                 services=[self.consumer])

    def close(self):
        self._conn.release()


@pytest.fixture
def send_events(amqp_uri, db):
    """``send_events(source, consumer_process, database, agency=...)``: an
    EventSender on this test's broker."""
    made = []

    def make(source, consumer, database, agency="Dinas Sosial Kabupaten Balangan"):
        made.append(EventSender(amqp_uri, source, consumer, database, db, agency))
        return made[-1]

    yield make
    for sender in made:
        sender.close()


class ApiClient:
    """An HTTP client of one service with a bearer token (None: without):
    JSON bodies, and the headers a call adds to the token's."""

    def __init__(self, url, token):
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

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

    def delete(self, path, headers=None, **kw):
        return requests.delete(self.url + path, headers=self._headers(headers), timeout=60, **kw)


PROBLEM_TYPE = "application/problem+json"


def assert_problem(response, status, label=""):
    """The RFC 9457 problem document of a refused request; returns it."""
    assert response.status_code == status, (label, response.status_code, response.text[:500])
    assert response.headers["Content-Type"] == PROBLEM_TYPE, (label, response.headers["Content-Type"])
    doc = response.json()
    assert doc["status"] == status, (label, doc)
    assert doc["type"].startswith("urn:setiakawan:problem:") and doc["title"], (label, doc)
    return doc


def database_state(conn, tables):
    """A fingerprint of what a request could change: each table's rows (an
    UPDATE changes it too), and the number of events in the outbox (its
    rows' sent_at changes as the relay sends them, so only their number)."""
    out = {}
    with conn.cursor() as cur:
        for table in tables:
            cur.execute(f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
                        f" FROM {table} t")
            out[table] = cur.fetchone()
        cur.execute("SELECT count(*) FROM kit_outbox")
        out["kit_outbox"] = cur.fetchone()[0]
    return out


class ConsoleBrowser:
    """A console's visitor as a browser on this machine is one: it keeps
    the cookies pages set (Secure ones too, as browsers do for localhost)
    and sends them back, and reads a page's CSRF field to send its forms."""

    CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')

    def __init__(self, url):
        self.url = url
        self.cookies = {}
        #: the Set-Cookie headers of the last answer, by cookie name (their attributes, lower-case)
        self.set_cookies = {}

    def _keep(self, answer):
        self.set_cookies = {}
        for header in answer.raw.headers.getlist("Set-Cookie"):
            jar = http.cookies.SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                self.set_cookies[name] = {"value": morsel.value, "header": header.lower()}
                if morsel["max-age"] == "0" or (morsel["expires"] and "1970" in morsel["expires"]):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return answer

    def _headers(self, extra):
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {**({"Cookie": cookie} if cookie else {}), **(extra or {})}

    def get(self, path, headers=None):
        return self._keep(requests.get(self.url + path, headers=self._headers(headers), allow_redirects=False,
                                       timeout=60))

    def post(self, path, form, headers=None, csrf=True):
        """``csrf=True``: the field as the last page gave it; a string: that value; False: none."""
        if csrf is True:
            csrf = self.csrf
        data = dict(form, **({"csrf": csrf} if csrf else {}))
        return self._keep(requests.post(self.url + path, data=data, headers=self._headers(headers),
                                        allow_redirects=False, timeout=60))

    def sign_in(self, token, next_path=""):
        page = self.get("/console/sign-in")
        self.csrf = self.CSRF.search(page.text)[1]
        return self.post("/console/sign-in", {"token": token, "next": next_path})

    def page(self, path, status=200):
        """A page's HTML, asserting its status; remembers the CSRF field it carries."""
        answer = self.get(path)
        assert answer.status_code == status, (answer.status_code, answer.headers.get("Location"), answer.text[:2000])
        found = self.CSRF.search(answer.text)
        if found:
            self.csrf = found[1]
        return answer.text
