"""The test harness itself: the tests' RabbitMQ is a node of the session's
own, administered through its management API; the tools' ``rabbitmqctl``
path works as well; and without a node of its own a session uses the local
broker and skips the tests that would restart or cut it, saying why."""
import os
import subprocess
import sys
import textwrap

import kombu
import pytest

from setiakawan_kit.broker import BrokerAdmin, Definitions, Grant
from setiakawan_kit.testing import free_port, wait_for


def test_the_session_broker_is_its_own_and_the_tools_administer_it(own_broker):
    assert own_broker.admin.api_available()
    assert os.environ["RABBITMQ_MANAGEMENT_URL"] == own_broker.management_url


def test_broker_admin_works_with_rabbitmqctl_where_the_management_api_is_off(own_broker):
    admin = BrokerAdmin(f"http://127.0.0.1:{free_port()}", own_broker.user, own_broker.password, ctl=own_broker.ctl)
    assert not admin.api_available()
    vhost, user = "harness-ctl-probe", "harness-ctl-probe-user"
    admin.add_vhost(vhost)
    try:
        admin.apply(Definitions(vhost, users={user: "secret"}, grants=[Grant(user, ".*", ".*", ".*")]))
        assert admin.user_tags([user]) == {user: {"setiakawan"}}
        with kombu.Connection(own_broker.uri(vhost).replace("guest:guest", f"{user}:secret")) as conn:
            conn.connect()
            assert admin.connection_users(vhost) == [user]
            admin.close_connections(vhost, "probe")
            with pytest.raises(conn.connection_errors, match="probe"):
                conn.drain_events(timeout=10)  # and answers close-ok: the broker waits 30 s for it
            wait_for(lambda: admin.connection_users(vhost) == [], what="the connection closed")
    finally:
        admin.delete_users([user])
        admin.delete_vhost(vhost)


PROBE = '''
def test_a_service_account_works(service_account):
    assert service_account("registry", "setiakawan_registry.service:RegistryService")


def test_cuts_the_broker(own_broker):
    own_broker.restart()
'''


@pytest.mark.parametrize("setting, reason", [
    ({"SETIAKAWAN_TEST_BROKER": "local"}, "since SETIAKAWAN_TEST_BROKER=local (unset it"),
    ({"SETIAKAWAN_TEST_RABBITMQ_BIN": "/nonexistent"}, "since SETIAKAWAN_TEST_RABBITMQ_BIN=/nonexistent holds no"),
])
def test_without_a_node_of_its_own_a_session_skips_what_would_cut_the_broker(own_broker, tmp_path, setting, reason):
    # the "local" broker of this inner session is the outer session's own node
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["setiakawan_kit.testing"]\n')
    (tmp_path / "test_probe.py").write_text(textwrap.dedent(PROBE))
    env = dict(os.environ, SETIAKAWAN_TEST_DOCKER="never", AMQP_URI=own_broker.uri("/"),
               RABBITMQ_MANAGEMENT_URL=own_broker.management_url, **setting)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-ra", "-p", "no:cacheprovider", "-p",
                             "no:pytest_nameko", "-W", "ignore::DeprecationWarning", str(tmp_path)],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 1 skipped" in result.stdout
    skipped = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1 and "restarts or cuts the broker" in skipped[0] and reason in skipped[0], skipped
