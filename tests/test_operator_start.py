"""How an operator starts Setiakawan: in development `setiakawan run` (what
`make run` calls) needs no configuration and makes its keys and broker
accounts once, in a git-ignored folder; in production nothing secret has a
default, and a start without keys fails with one line naming what is
missing."""
import os
import signal
import stat
import subprocess
import sys
import time

import requests

from setiakawan_kit import migrate
from setiakawan_kit.testing import free_port, wait_until_healthy
from setiakawan_registry import SERVICE
from tests.support.supervised import clean_env, service_pids


def setiakawan(*args, env, timeout=120):
    return subprocess.run([sys.executable, "-m", "setiakawan_kit.cli", *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_a_service_without_keys_refuses_to_start_in_one_line():
    for env in (clean_env(SETIAKAWAN_ENV="production"), clean_env()):
        result = subprocess.run([sys.executable, "-m", "setiakawan_kit.runner", "--config", str(SERVICE.config),
                                 SERVICE.module], env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 2
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("Error: RegistryService cannot start: ")
        assert "REGISTRY_AMQP_URI" in line and "SETIAKAWAN_TOKEN_ISSUERS" in line


def test_setiakawan_run_in_production_makes_nothing_and_names_what_is_missing(tmp_path):
    result = setiakawan("run", env=clean_env(SETIAKAWAN_ENV="production", SETIAKAWAN_HOME=str(tmp_path / "home")))
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: cannot start in production: ")
    for name in ("SETIAKAWAN_TOKEN_ISSUERS", "REGISTRY_AMQP_URI", "DISTRIBUTION_AMQP_URI", "TRAINING_AMQP_URI",
                 "NOTIFICATIONS_AMQP_URI", "COORDINATION_AMQP_URI"):
        assert name in line
    assert not (tmp_path / "home").exists()
    served = setiakawan("serve", "registry", env=clean_env(SETIAKAWAN_ENV="production"))  # a container's command
    assert served.returncode == 1
    (line,) = served.stderr.strip().splitlines()
    assert line.startswith("Error: registry cannot start: ")
    assert "REGISTRY_AMQP_URI" in line and "SETIAKAWAN_TOKEN_ISSUERS" in line
    guest = setiakawan("run", "registry", env=clean_env(
        SETIAKAWAN_ENV="production", SETIAKAWAN_TOKEN_ISSUERS=str(tmp_path / "jwks.json"),
        REGISTRY_AMQP_URI="pyamqp://guest:guest@127.0.0.1:5672/"))
    assert guest.returncode == 1 and "logs in as guest" in guest.stderr and "does not exist" in guest.stderr


def test_development_run_makes_its_keys_and_accounts_once(tmp_path, amqp_uri, infrastructure, broker_accounts):
    home = tmp_path / "home"
    prefix = broker_accounts.prefix + "dev-"
    database = f"setiakawan_dev_{os.getpid()}_{time.monotonic_ns() % 10**8}"
    address = f"127.0.0.1:{free_port()}"
    env = clean_env(SETIAKAWAN_HOME=str(home), AMQP_URI=amqp_uri, SETIAKAWAN_BROKER_USER_PREFIX=prefix,
                    DATABASE_URL=infrastructure.database_url, REGISTRY_DATABASE=database,
                    REGISTRY_HTTP_ADDRESS=address)
    log = tmp_path / "run.log"
    try:
        for round_ in (1, 2):
            with open(log, "w") as out:
                process = subprocess.Popen([sys.executable, "-m", "setiakawan_kit.cli", "run", "registry"], env=env,
                                           stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            try:
                wait_until_healthy(f"http://{address}", process, log.read_text, timeout=90)
                token = setiakawan("token", "--agency", "Dinas Sosial Barito Timur", "--kind", "district", "--role",
                                   "operator", "--regions", "62.13", env=env).stdout.strip()
                pings = requests.get(f"http://{address}/diagnostics/pings", timeout=10,
                                     headers={"Authorization": f"Bearer {token}"})
                assert pings.status_code == 200, pings.text
            finally:
                process.send_signal(signal.SIGINT)
                assert process.wait(timeout=60) == 0
            said = log.read_text()
            if round_ == 1:
                assert "made a development signing key" in said and "made development broker accounts" in said
                key_mode = stat.S_IMODE((home / "keys" / "signing-key.pem").stat().st_mode)
                assert key_mode == 0o600 and stat.S_IMODE((home / "broker.env").stat().st_mode) == 0o600
                assert stat.S_IMODE(home.stat().st_mode) == 0o700
                accounts = (home / "broker.env").read_text()
            else:
                assert "made" not in said
                assert (home / "broker.env").read_text() == accounts
    finally:
        infrastructure.broker.admin.delete_users([prefix + "registry"])
        migrate.drop_database(infrastructure.database_url, database)


def _running(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat_file:
            return stat_file.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _answers(url):
    try:
        return requests.get(url + "/health", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def test_a_killed_service_is_restarted_while_the_others_keep_answering(tmp_path, amqp_uri, infrastructure,
                                                                        broker_accounts):
    names = ("registry", "distribution", "training", "notifications", "coordination")
    prefix = broker_accounts.prefix + "sup-"
    tag = f"{os.getpid()}_{time.monotonic_ns() % 10**8}"
    urls = {name: f"http://127.0.0.1:{free_port()}" for name in names}
    env = clean_env(SETIAKAWAN_HOME=str(tmp_path / "home"), AMQP_URI=amqp_uri, SETIAKAWAN_BROKER_USER_PREFIX=prefix,
                    DATABASE_URL=infrastructure.database_url,
                    **{f"{n.upper()}_DATABASE": f"setiakawan_sup_{n}_{tag}" for n in names},
                    **{f"{n.upper()}_HTTP_ADDRESS": url.removeprefix("http://") for n, url in urls.items()},
                    SANDBOX_HTTP_ADDRESS=f"127.0.0.1:{free_port()}", SANDBOX_SMTP_ADDRESS=f"127.0.0.1:{free_port()}")
    log = tmp_path / "run.log"
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "-m", "setiakawan_kit.cli", "run"], env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        for url in urls.values():
            wait_until_healthy(url, process, log.read_text, timeout=120)
        killed = service_pids(process.pid)["setiakawan_registry"]
        others = [urls[n] for n in names if n != "registry"]
        unanswered, polls = [], 0
        os.kill(killed, signal.SIGKILL)
        killed_at = time.monotonic()
        while time.monotonic() - killed_at < 60:
            for url in others:
                polls += 1
                if not _answers(url):
                    unanswered.append((round(time.monotonic() - killed_at, 1), url))
            if service_pids(process.pid).get("setiakawan_registry") not in (None, killed) and \
                    _answers(urls["registry"]):
                break
            time.sleep(0.1)
        back_after = time.monotonic() - killed_at
        said = log.read_text()
        assert back_after < 60, said
        assert "registry exited with status -9 (SIGKILL)" in said and "restarting it in 1 s" in said, said
        assert polls >= 3 * len(others) and unanswered == [], (unanswered, said)
        print(f"registry healthy again {back_after:.1f} s after SIGKILL; the others answered {polls} polls")

        services = service_pids(process.pid).values()
        stopping_at = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole process group
        assert process.wait(timeout=30) == 0
        stopped_after = time.monotonic() - stopping_at
        # each service gets 8 s to stop before it is killed; a machine this busy takes some more to say so
        assert stopped_after < 20 and not any(_running(pid) for pid in services), log.read_text()
        print(f"Ctrl-C stopped everything in {stopped_after:.1f} s")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        infrastructure.broker.admin.delete_users([prefix + name for name in names])
        for name in names:
            migrate.drop_database(infrastructure.database_url, f"setiakawan_sup_{name}_{tag}")
