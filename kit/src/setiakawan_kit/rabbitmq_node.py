"""A RabbitMQ node of one's own on this machine, started for a test session
and removed after it: its own node name, ports, configuration, Erlang
cookie, data and logs in one folder, so tests may restart it or cut its
connections, and two sessions may run side by side, without touching the
RabbitMQ a developer works with (never named by any command here).

RabbitMQ's own scripts are taken from ``SETIAKAWAN_TEST_RABBITMQ_BIN`` (a
folder holding ``rabbitmq-server`` and ``rabbitmqctl``), else
``/usr/lib/rabbitmq/bin`` (the Debian and RPM packages: the wrappers they
put on PATH serve only root and ``rabbitmq``), else the folder of
``rabbitmq-server`` on PATH (Homebrew, the generic Unix build). Started by
root, the node runs as the ``rabbitmq`` user (when there is one); started
by anyone else, as that user.

The folder's own ``rabbitmq.conf`` sets the listeners, since a system
``/etc/rabbitmq/rabbitmq.conf`` may pin ``listeners.tcp.*`` (which
``RABBITMQ_NODE_PORT`` does not override), and an empty
``rabbitmq-env.conf`` keeps the system's node name out.
"""
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from base64 import b64encode
from pathlib import Path

import amqp

from .processes import alive

BIN_VARIABLE = "SETIAKAWAN_TEST_RABBITMQ_BIN"
FOLDER_PREFIX = "setiakawan-rabbitmq-"
HOST = "127.0.0.1"


class NodeUnavailable(RuntimeError):
    """No node of one's own can be started here; the message says why."""


def scripts_dir():
    """The folder of ``rabbitmq-server`` and ``rabbitmqctl``; NodeUnavailable if there is none."""
    configured = os.environ.get(BIN_VARIABLE)
    if configured:
        candidates = [configured]
    else:
        on_path = shutil.which("rabbitmq-server", path=os.pathsep.join(
            [os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin", "/opt/homebrew/sbin"]))
        candidates = ["/usr/lib/rabbitmq/bin", os.path.dirname(on_path) if on_path else None]
    for folder in filter(None, candidates):
        if all(os.access(Path(folder) / name, os.X_OK) for name in ("rabbitmq-server", "rabbitmqctl")):
            return Path(folder)
    if configured:
        raise NodeUnavailable(f"{BIN_VARIABLE}={configured} holds no executable rabbitmq-server and rabbitmqctl")
    raise NodeUnavailable(f"rabbitmq-server is not installed (Debian: apt-get install rabbitmq-server; "
                          f"or set {BIN_VARIABLE} to the folder of rabbitmq-server and rabbitmqctl)")


def _run_as():
    """The user the node runs as: ``rabbitmq`` when root starts it, else the caller (None)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("rabbitmq")
    except KeyError:
        return None
    return "rabbitmq" if shutil.which("runuser") else None


def free_ports(count):
    """``count`` distinct ports free on the loopback interface right now."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class RabbitMQNode:
    """``RabbitMQNode().start()``; ``.amqp_port``, ``.management_port``,
    ``.ctl`` (``rabbitmqctl`` bound to this node) and ``.stop()``, which
    also removes its folder. The administrator is ``guest``/``guest``, on
    the loopback interface only."""

    def __init__(self, management=True, name=None):
        self.bin = scripts_dir()
        self.user = _run_as()
        self.management = management
        self.name = name or f"setiakawan-test-{os.getpid()}-{secrets.token_hex(3)}@localhost"
        self.host = HOST
        self.folder = None
        self.process = None
        self.amqp_port = self.management_port = self.dist_port = None

    def __repr__(self):
        return f"RabbitMQNode({self.name}, amqp {self.amqp_port}, management {self.management_port}, {self.folder})"

    @property
    def _prefix(self):
        return ["runuser", "-u", self.user, "--"] if self.user else []

    @property
    def ctl(self):
        """The ``rabbitmqctl`` command line for this node (with its own cookie)."""
        return [*self._prefix, "env", f"HOME={self.folder / 'home'}", str(self.bin / "rabbitmqctl"),
                "-n", self.name]

    def start(self, timeout=90):
        reap_orphans()
        for attempt in range(3):
            try:
                return self._start(timeout)
            except _PortTaken:  # another process took a port between our probe and the node's bind
                self.stop()
        raise NodeUnavailable("RabbitMQ found its ports taken three times in a row")

    def _start(self, timeout):
        self.folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX))
        (self.folder / "owner").write_text(f"{os.getpid()}\n")
        for sub in ("mnesia", "log", "home"):
            (self.folder / sub).mkdir()
        self.amqp_port, self.management_port, self.dist_port = free_ports(3)
        config = [f"listeners.tcp.local = {HOST}:{self.amqp_port}"]
        if self.management:
            config += [f"management.tcp.port = {self.management_port}", f"management.tcp.ip = {HOST}"]
        (self.folder / "rabbitmq.conf").write_text("\n".join(config) + "\n")
        (self.folder / "enabled_plugins").write_text("[rabbitmq_management].\n" if self.management else "[].\n")
        (self.folder / "rabbitmq-env.conf").write_text("")
        if self.user:
            for path in [self.folder, *self.folder.rglob("*")]:
                shutil.chown(path, self.user, self.user)
        settings = {
            "HOME": self.folder / "home",
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_CONF_ENV_FILE": self.folder / "rabbitmq-env.conf",
            "RABBITMQ_CONFIG_FILE": self.folder / "rabbitmq",
            "RABBITMQ_ENABLED_PLUGINS_FILE": self.folder / "enabled_plugins",
            "RABBITMQ_DIST_PORT": self.dist_port,
            "RABBITMQ_MNESIA_BASE": self.folder / "mnesia",
            "RABBITMQ_LOG_BASE": self.folder / "log",
            "RABBITMQ_PID_FILE": self.folder / "pid",
            "ERL_EPMD_ADDRESS": HOST,
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }
        # the developer's RABBITMQ_* settings describe their own node, not this one
        env = {k: v for k, v in os.environ.items() if not k.startswith("RABBITMQ_")}
        command = [*self._prefix, "env", *(f"{k}={v}" for k, v in settings.items()),
                   str(self.bin / "rabbitmq-server")]
        with open(self.folder / "server.out", "wb") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self.process.poll() is not None:
                said = self.log_tail()
                if "eaddrinuse" in said:
                    raise _PortTaken()
                self.stop()
                raise NodeUnavailable(f"rabbitmq-server exited ({self.process.returncode}):\n{said}")
            if time.monotonic() > deadline:
                said = self.log_tail()
                self.stop()
                raise NodeUnavailable(f"RabbitMQ node {self.name} did not answer within {timeout}s:\n{said}")
            time.sleep(0.1)
        return self

    def _answers(self):
        connection = amqp.Connection(f"{HOST}:{self.amqp_port}", userid="guest", password="guest",
                                     connect_timeout=2)
        try:
            connection.connect()
        except (OSError, amqp.exceptions.AMQPError):
            return False
        finally:
            connection.collect()
        if not self.management:
            return True
        request = urllib.request.Request(f"http://{HOST}:{self.management_port}/api/overview", headers={
            "Authorization": "Basic " + b64encode(b"guest:guest").decode()})
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return response.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def log_tail(self, lines=40):
        try:
            text = (self.folder / "server.out").read_text(errors="replace")
        except (OSError, TypeError):
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self):
        """Stop the node (it holds nothing worth a graceful stop) and remove its folder."""
        if self.process is not None and self.process.poll() is None:
            _kill(_beam_pid(self.folder), self.folder)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


class _PortTaken(Exception):
    pass


def _beam_pid(folder):
    try:
        return int((Path(folder) / "pid").read_text().strip())
    except (OSError, ValueError, TypeError):
        return None


def _kill(pid, folder):
    """SIGKILL the Erlang VM ``pid`` if it is the node of ``folder`` (pids are reused)."""
    if pid is None:
        return
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        cmdline = None
    if cmdline is not None and str(folder).encode() not in cmdline:
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass




def reap_orphans(tmp=None):
    """Stop and remove the nodes whose test session died without stopping
    them (killed with SIGKILL, say); returns the folders removed."""
    removed = []
    for folder in Path(tmp or tempfile.gettempdir()).glob(FOLDER_PREFIX + "*"):
        try:
            owner = int((folder / "owner").read_text().strip())
        except (OSError, ValueError):
            continue
        if alive(owner):
            continue
        _kill(_beam_pid(folder), folder)
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            removed.append(folder)
    return removed
