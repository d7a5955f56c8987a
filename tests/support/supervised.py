"""The platform as an operator runs it, for end-to-end tests: ``setiakawan
run`` (the supervisor ``make run`` calls) with the five services and the
sandbox as processes of their own, on a test's vhost, with databases, broker
users and ports of its own, trusting the test session's token issuer."""
import os
import signal
import subprocess
import sys
import time

from setiakawan_kit import migrate
from setiakawan_kit.testing import free_port, wait_for, wait_until_healthy

SERVICES = ("registry", "distribution", "training", "notifications", "coordination")
SECRET_SETTINGS = ("SETIAKAWAN_TOKEN_ISSUERS", "SETIAKAWAN_SIGNING_KEY", "AMQP_URI", "REGISTRY_AMQP_URI",
                   "DISTRIBUTION_AMQP_URI", "TRAINING_AMQP_URI", "NOTIFICATIONS_AMQP_URI",
                   "COORDINATION_AMQP_URI")


def clean_env(**extra):
    """This process's environment without the settings a test must choose itself."""
    env = {k: v for k, v in os.environ.items() if k not in SECRET_SETTINGS and k != "SETIAKAWAN_ENV"}
    env.setdefault("PYTHONPATH", os.pathsep.join(sys.path))
    env.update(extra)
    return env


def service_pids(parent):
    """{service package or "sandbox": pid} of the processes the supervisor ``parent`` started."""
    found = {}
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as stat_file:
                ppid = int(stat_file.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline_file:
                argv = cmdline_file.read().decode().split("\0")
        except (OSError, ValueError, IndexError):
            continue
        if ppid != parent:
            continue
        if "setiakawan_kit.runner" in argv:
            found[argv[-2].split(".")[0]] = int(entry)
        elif "sandbox" in argv:
            found["sandbox"] = int(entry)
    return found


class SupervisedPlatform:
    def __init__(self, tmp_path, admin_uri, database_url, user_prefix, jwks, **settings):
        self.tag = f"{os.getpid()}_{time.monotonic_ns() % 10**8}"
        self.database_url, self.user_prefix = database_url, user_prefix
        self.urls = {name: f"http://127.0.0.1:{free_port()}" for name in (*SERVICES, "sandbox")}
        self.log = tmp_path / "platform.log"
        self.env = clean_env(
            SETIAKAWAN_HOME=str(tmp_path / "home"), AMQP_URI=admin_uri, SETIAKAWAN_BROKER_USER_PREFIX=user_prefix,
            DATABASE_URL=database_url, SETIAKAWAN_TOKEN_ISSUERS=str(jwks), EVENT_RETRY_BASE_MS="200",
            SANDBOX_HTTP_ADDRESS=self.urls["sandbox"].removeprefix("http://"),
            SANDBOX_SMTP_ADDRESS=f"127.0.0.1:{free_port()}",
            **{f"{n.upper()}_DATABASE": f"setiakawan_e2e_{n}_{self.tag}" for n in SERVICES},
            **{f"{n.upper()}_HTTP_ADDRESS": self.urls[n].removeprefix("http://") for n in SERVICES}, **settings)
        self.process = None

    def start(self):
        with open(self.log, "w") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "setiakawan_kit.cli", "run"], env=self.env,
                                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        for url in self.urls.values():
            wait_until_healthy(url, self.process, self.log.read_text, timeout=120)
        return self

    def pids(self):
        return service_pids(self.process.pid)

    def kill(self, name):
        """SIGKILL the service's process; returns once the supervisor has started it again and it is healthy."""
        killed = self.pids()[f"setiakawan_{name}"]
        os.kill(killed, signal.SIGKILL)
        wait_for(lambda: self.pids().get(f"setiakawan_{name}") not in (None, killed), timeout=60,
                 what=f"the supervisor to start {name} again", state=lambda: self.log.read_text()[-2000:])
        wait_until_healthy(self.urls[name], self.process, self.log.read_text, timeout=120)
        return killed

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        for name in SERVICES:
            migrate.drop_database(self.database_url, f"setiakawan_e2e_{name}_{self.tag}")
