"""A PostgreSQL cluster of a test's own, for tests that stop the database:
its own data folder and port, made with the installed server's ``initdb``
and ``pg_ctl`` and removed afterwards, so the server a developer works
with is never stopped. ``initdb`` refuses to run as root; as root the
cluster runs as the ``postgres`` user."""
import glob
import os
import pwd
import shutil
import subprocess
import tempfile

import psycopg2

from .rabbitmq_node import free_ports


class ClusterUnavailable(RuntimeError):
    """No cluster of a test's own can be made here."""


def server_bin():
    """The folder of the newest installed server's ``initdb`` and ``pg_ctl``."""
    for folder in (os.environ.get("SETIAKAWAN_PG_BIN"), *sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                                                                key=_version, reverse=True)):
        if folder and os.access(os.path.join(folder, "initdb"), os.X_OK):
            return folder
    found = shutil.which("initdb")
    if found:
        return os.path.dirname(found)
    raise ClusterUnavailable("no PostgreSQL server programs (initdb, pg_ctl) are installed "
                             "(Debian: postgresql; or set SETIAKAWAN_PG_BIN)")


def _version(folder):
    try:
        return int(folder.split("/")[-2])
    except ValueError:
        return 0


def _run_as():
    """As root, the command prefix that runs as ``postgres``; else none."""
    if os.geteuid() != 0:
        return [], None
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        raise ClusterUnavailable("running as root and there is no postgres user for initdb") from None
    return ["runuser", "-u", "postgres", "--"], user


class PostgresCluster:
    """``start()``, ``stop()`` (fast: clients are cut off, as in a failover)
    and ``start()`` again, then ``remove()``; ``url`` is the server URL."""

    def __init__(self):
        self.bin = server_bin()
        self.prefix, self.user = _run_as()
        self.port = free_ports(1)[0]
        self.folder = tempfile.mkdtemp(prefix="setiakawan-pg-")
        self.data = os.path.join(self.folder, "data")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        if self.user is not None:
            os.chown(self.folder, self.user.pw_uid, self.user.pw_gid)
        self._pg("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync")

    def _pg(self, program, *args):
        result = subprocess.run([*self.prefix, os.path.join(self.bin, program), *args], capture_output=True,
                                text=True, timeout=120)
        if result.returncode != 0:
            raise ClusterUnavailable(f"{program} failed: {(result.stderr or result.stdout).strip()[-500:]}")

    def start(self):
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg("pg_ctl", "-D", self.data, "-o", options, "-l", os.path.join(self.folder, "server.log"),
                 "-w", "start")
        return self

    def stop(self):
        self._pg("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    @property
    def running(self):
        try:
            psycopg2.connect(self.url, connect_timeout=2).close()
            return True
        except psycopg2.OperationalError:
            return False

    def log_tail(self, lines=40):
        try:
            with open(os.path.join(self.folder, "server.log"), errors="replace") as log:
                return "".join(log.readlines()[-lines:])
        except OSError:
            return ""

    def remove(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            try:
                self.stop()
            except ClusterUnavailable:
                pass
        shutil.rmtree(self.folder, ignore_errors=True)
