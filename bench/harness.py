"""What the benchmarks share: their output, the infrastructure of one run and
the measurements they take of it.

A bench script imports this module before anything of the project's: it puts
the repository's root on ``sys.path`` (the scripts run as files, so only
``bench/`` is there) and quiets eventlet's deprecation warning.

* ``context`` and ``figure`` print the two kinds of lines every bench prints;
  ``BenchFailure`` is a failed check, ``run_main`` turns it into exit status 1;
* ``Setup``: the vhosts, databases, broker accounts, token keys and service
  processes of one run on the local RabbitMQ and PostgreSQL (``DATABASE_URL``,
  ``AMQP_URI`` override them); ``close``, or leaving its ``with`` block,
  undoes them all;
* ``scalar``, ``wait_progress``, ``percentile``: a query's one value, polling a
  count until it is reached, a nearest-rank percentile;
* ``CpuMeter``: CPU seconds per part of the run (Linux /proc);
  ``report_service_warnings``: what the services logged at WARNING or above.
"""
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg2  # noqa: E402

from setiakawan_kit import keys, migrate  # noqa: E402
from setiakawan_kit.db import database_dsn  # noqa: E402
from setiakawan_kit.testing import (LOCAL_AMQP_URI, LOCAL_DATABASE_URL, Broker, BrokerAccounts,  # noqa: E402
                                    ServiceProcess, service_class, service_config)


class BenchFailure(Exception):
    pass


def context(line=""):
    print(f"# {line}" if line else "#", flush=True)


def figure(name, value):
    print(f"{name}: {value}", flush=True)


def run_main(main):
    """Exit with ``main()``'s status; a BenchFailure is said on stderr and exits 1."""
    try:
        sys.exit(main())
    except BenchFailure as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        sys.exit(1)


# -- infrastructure ---------------------------------------------------------------
class Setup:
    """Vhosts, databases, broker accounts, token keys and service processes of
    one run; ``close`` undoes them all. As a context manager it closes on the
    way out; on a failure it prints each service's last log lines first and
    keeps the logs.

    ``queue_version``: set a classic queue storage version policy on every
    vhost (None: the broker's default)."""

    def __init__(self, queue_version=None, keep_logs=False):
        self.queue_version, self.keep_logs = queue_version, keep_logs
        self.database_url = os.environ.get("DATABASE_URL", LOCAL_DATABASE_URL)
        amqp = urllib.parse.urlsplit(os.environ.get("AMQP_URI", LOCAL_AMQP_URI))
        self.broker = Broker(amqp.hostname, amqp.port or 5672,
                             os.environ.get("RABBITMQ_MANAGEMENT_URL") or f"http://{amqp.hostname}:15672",
                             urllib.parse.unquote(amqp.username or "guest"),
                             urllib.parse.unquote(amqp.password or "guest"))
        self.run_id = uuid.uuid4().hex[:10]
        self.log_dir = Path(tempfile.mkdtemp(prefix=f"setiakawan-bench-{self.run_id}-"))
        self.vhosts, self.databases, self.services, self.connections = [], [], [], []
        self.token_keys = keys.KeyFiles(self.log_dir / "keys")  # the bench's own token issuer
        self.signing_key, _ = self.token_keys.init()
        self.accounts = BrokerAccounts(self.broker, f"bench-{self.run_id}-")  # services run as their own users
        self._accounts = {}  # (vhost, account name): its AMQP URI

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            for proc in self.services:
                tail = proc.log_tail(20)
                if tail:
                    print(f"--- {proc.name} log (last lines) ---\n{tail}", file=sys.stderr)
        self.close(keep_logs=self.keep_logs or exc_type is not None)
        return False

    def banner(self, bench):
        """The run's first context line: the machine, its load and the servers used."""
        return (f"setiakawan {bench} bench, run {self.run_id}: {os.cpu_count()} CPUs, "
                f"load average {os.getloadavg()[0]:.2f}, "
                f"broker {self.broker.host}:{self.broker.port}, database {self.database_url}")

    def vhost(self, purpose):
        """A fresh vhost: (its name, the broker's URI on it)."""
        name = f"setiakawan-bench-{purpose}-{self.run_id}"
        self.vhosts.append(name)  # deleted even if adding it fails half-way
        self.broker.add_vhost(name)
        if self.queue_version:
            # A policy, as an operator would set it: classic queue storage version.
            quoted = urllib.parse.quote(name, safe="")
            self.broker.admin._api("PUT", f"policies/{quoted}/bench-queue-version",
                                   {"pattern": ".*", "apply-to": "queues",
                                    "definition": {"queue-version": self.queue_version}})
        return name, self.broker.uri(name)

    def database(self, prefix, migrations=None):
        name = f"setiakawan_bench_{prefix}_{self.run_id}"
        self.databases.append(name)
        migrate.migrate(self.database_url, name, migrations)
        return name

    def connect(self, database, autocommit=False, server_url=None):
        conn = psycopg2.connect(database_dsn(server_url or self.database_url, database))
        conn.autocommit = autocommit
        self.connections.append(conn)
        return conn

    def service(self, name, target, vhost, database, log_level="WARNING", account=None, shares_port=False, **extra):
        """Start ``target`` as service ``name`` under a broker account of its
        own on ``vhost`` (``account``: the name of that account, one for every
        replica of a service, as in production; default ``name``); waits
        until it is up: its ``/health`` answers, or, for a replica that
        ``shares_port`` with another (``port=``), it listens on that port
        (the other would answer its ``/health``)."""
        key = (vhost, account or name)
        if key not in self._accounts:
            self._accounts[key] = self.accounts.for_service(vhost, account or name, service_class(target))
        account = self._accounts[key]
        config = service_config(name, account, self.database_url, database, self.token_keys.jwks,
                                BROKER_USER_PREFIX=self.accounts.prefix, **extra)
        config["LOGGING"]["root"]["level"] = log_level
        env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               "PYTHONWARNINGS": "ignore"}
        proc = ServiceProcess(name, target, config, env=env, log_dir=self.log_dir)
        self.services.append(proc)
        if not shares_port:
            return proc.start(wait=True)
        proc.start(wait=False)
        wait_listening(proc)
        return proc

    def scaled(self, name, target, vhost, database, count, log_level="WARNING", **extra):
        """``count`` processes of one service, as ``docker compose up --scale
        name=count`` runs them: one broker account and one database, one
        HTTP port (``SO_REUSEPORT``: the kernel spreads the connections).
        The first is ``name``, the others ``name-2``, ``name-3``…; returns
        them all, each up."""
        first = self.service(name, target, vhost, database, log_level, **extra)
        return [first, *(self.service(f"{name}-{i}", target, vhost, database, log_level, account=name,
                                      port=first.port, shares_port=True, **extra) for i in range(2, count + 1))]

    def close(self, keep_logs=False):
        for conn in self.connections:
            try:
                conn.close()
            except psycopg2.Error:
                pass
        for proc in reversed(self.services):
            try:
                proc.stop()
            except Exception as exc:  # noqa: BLE001 - clean up the rest regardless
                context(f"could not stop {proc.name}: {exc}")
        for name in self.databases:
            try:
                migrate.drop_database(self.database_url, name)
            except psycopg2.Error as exc:
                context(f"could not drop database {name}: {exc}")
        for name in self.vhosts:
            try:
                self.broker.delete_vhost(name)
            except Exception as exc:  # noqa: BLE001
                context(f"could not delete vhost {name}: {exc}")
        try:
            self.accounts.delete_all()
        except Exception as exc:  # noqa: BLE001
            context(f"could not delete the bench's broker users: {exc}")
        if keep_logs:
            context(f"service logs kept in {self.log_dir}")
        else:
            shutil.rmtree(self.log_dir, ignore_errors=True)


def wait_listening(proc, timeout=60.0):
    """Wait until ``proc``'s process holds a socket listening on its port."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.process.poll() is not None:
            raise BenchFailure(f"{proc.name} exited ({proc.process.returncode}): {proc.log_tail()}")
        if holds_socket(proc.process.pid, listening_inodes(proc.port)):
            return
        if time.monotonic() > deadline:
            raise BenchFailure(f"{proc.name} not listening on port {proc.port} after {timeout:.0f}s: {proc.log_tail()}")
        time.sleep(0.2)


def code_version(paths):
    """The commit, and how many files under ``paths`` (of the repository)
    differ from it, for comparing runs."""
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
        changed = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", *paths],
                                 capture_output=True, text=True, timeout=10).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "code: not a git checkout"
    return f"code: {head}" + (f", {len(changed)} files changed or new under {', '.join(paths)}" if changed else "")


def report_service_warnings(setup):
    """Warnings the services logged during the run (e.g. relay retries), as context."""
    for proc in setup.services:
        try:
            lines = [line for line in proc.log_path.read_text(errors="replace").splitlines()
                     if '"WARNING"' in line or '"ERROR"' in line or "Traceback" in line]
        except OSError:
            continue
        if lines:
            context(f"{proc.name} logged {len(lines)} warnings/errors, last: {lines[-1][:300]}")


# -- measuring --------------------------------------------------------------------
def scalar(conn, sql, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()[0]


def wait_progress(count, want, what, stall_timeout, services=(), poll=0.1):
    """Poll ``count()`` until it reaches ``want``; BenchFailure after
    ``stall_timeout`` seconds without progress (with the last log lines of
    ``services``). Returns time.time() when it did."""
    seen, progress_at = -1, time.monotonic()
    while True:
        n = count()
        if n >= want:
            return time.time()
        if n != seen:
            seen, progress_at = n, time.monotonic()
        elif time.monotonic() - progress_at > stall_timeout:
            tails = "".join(f"\n--- {s.name} log tail ---\n{s.log_tail(30)}" for s in services)
            raise BenchFailure(f"{what}: {n} of {want}, no progress for {stall_timeout:.0f}s{tails}")
        time.sleep(poll)


def wait_declared(amqp, queue, services=()):
    """Wait until the service has declared its queue ``queue`` on the
    connection ``amqp`` (a kombu Connection)."""
    from setiakawan_kit.testing import wait_for

    def declared():
        channel = amqp.channel()
        try:
            channel.queue_declare(queue, passive=True)
            return True
        except amqp.channel_errors:  # 404: not there yet (the refusal closes the channel)
            return False
        finally:
            try:
                channel.close()
            except Exception:  # noqa: BLE001 - closed by the broker already
                pass

    wait_for(declared, 60, interval=0.2, what=f"the service's queue {queue}", services=services)


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


#: CPU use between two snapshots: ``parts``, [(part, CPU seconds)] biggest first,
#: then ``(everything else on the machine)`` (empty without /proc); ``total``,
#: the parts' sum; ``machine``, the machine's busy seconds (None without
#: /proc); ``seconds``, the wall-clock time between the snapshots
CpuUse = collections.namedtuple("CpuUse", "parts total machine seconds")


def listening_inodes(port):
    """Inodes of the sockets listening on ``port`` (Linux /proc): a
    process holding one of them listens there."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[1].rsplit(":", 1)[1] == f"{port:04X}" and fields[3] == "0A":  # LISTEN
                inodes.add(fields[9])
    return inodes


def holds_socket(pid, inodes):
    """Whether process ``pid`` holds one of the sockets ``inodes``."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}")[len("socket:["):-1] in inodes:
                return True
        except OSError:
            continue
    return False


class CpuMeter:
    """CPU seconds used by each part of a run (Linux /proc), to show where a
    request's or an event's cost goes. RabbitMQ's and PostgreSQL's figures
    include whatever else they serve.

    ``databases``: {database name: label} of the PostgreSQL backends to name;
    ``this_process``: the label of the bench's own process; ``extra_pids``:
    {pid: label} of other processes (may grow during the run);
    ``other_postgres``: the label of the backends of other databases (None:
    not counted); ``every_broker_node``: count every RabbitMQ node on the
    machine as the broker, rather than only the one listening on the run's
    broker port (a test session may run a node of its own beside it)."""

    def __init__(self, setup, databases, this_process, extra_pids=None, other_postgres=None,
                 every_broker_node=False):
        self.setup = setup
        self.databases = databases
        self.this_process = this_process
        self.extra_pids = extra_pids or {}
        self.other_postgres = other_postgres
        self.every_broker_node = every_broker_node
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.listening = set() if every_broker_node else listening_inodes(setup.broker.port)
        self.brokers = {}  # pid -> whether it is our broker node

    def _is_our_broker(self, pid):
        if self.every_broker_node:
            return True
        if pid not in self.brokers:
            self.brokers[pid] = holds_socket(pid, self.listening)
        return self.brokers[pid]

    def _parts(self):
        parts = {proc.process.pid: f"{proc.name} service" for proc in self.setup.services if proc.process}
        parts[os.getpid()] = self.this_process
        parts.update(self.extra_pids)
        for pid in filter(str.isdigit, os.listdir("/proc")):
            if int(pid) in parts:
                continue
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if "beam.smp" in cmdline and self._is_our_broker(pid):
                parts[int(pid)] = "rabbitmq"
            elif cmdline.startswith("postgres:"):
                label = next((lbl for name, lbl in self.databases.items() if f" {name} " in cmdline),
                             self.other_postgres)
                if label is not None:
                    parts[int(pid)] = label
        return parts

    def snapshot(self):
        totals = {}
        try:
            for pid, part in self._parts().items():
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                totals[(pid, part)] = (int(fields[11]) + int(fields[12])) / self.tick
            # Machine-wide busy time, to show what else ran meanwhile.
            cpu = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
            busy = sum(int(v) for i, v in enumerate(cpu[:8]) if i not in (3, 4))  # minus idle, iowait
            totals[(0, "machine")] = busy / self.tick
        except OSError:  # no /proc: no figures
            pass
        totals[(0, "wall")] = time.monotonic()
        return totals

    def use(self, before, after):
        """The CpuUse between two snapshots."""
        used = {}
        for key, value in after.items():
            used[key[1]] = used.get(key[1], 0.0) + value - before.get(key, 0.0)
        machine = used.pop("machine", None)
        seconds = used.pop("wall")
        total = sum(used.values())
        if used and machine is not None:
            used["(everything else on the machine)"] = max(0.0, machine - total)
        parts = sorted(used.items(), key=lambda kv: (kv[0].startswith("("), -kv[1]))
        return CpuUse(parts, total, machine, seconds)


class RequestCpuMeter(CpuMeter):
    """CPU seconds used by each part, to show where a request's cost goes."""

    def __init__(self, setup, databases):
        super().__init__(setup, databases, "bench clients (this process)",
                         other_postgres="postgres (background, other databases)")

    def report(self, before, after, units, label, unit="request"):
        use = self.use(before, after)
        if not use.parts or not units or use.seconds <= 0:
            return
        if use.machine is not None:
            context(f"{label}: the machine was {use.machine / use.seconds / (os.cpu_count() or 1) * 100:.0f}% busy "
                    f"over {use.seconds:.1f}s ({os.cpu_count()} CPUs); CPU per {unit}:")
        for part, value in use.parts:
            if value > 0.005:
                context(f"  {part:40s} {value / units * 1e6:7.0f} us/{unit}  "
                        f"({value / use.seconds * 100:3.0f}% of a core)")
