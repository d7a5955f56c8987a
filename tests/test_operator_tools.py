"""The operator's view of a running platform (`setiakawan queues`, `outbox`,
`status`, `dead list`, `dead replay`), run as an operator runs them: the
command line in a process of its own, as the broker's administrator, on
this test's vhost."""
import json
import os
import subprocess
import sys

from setiakawan_kit import operate, outbox
from setiakawan_kit.testing import free_port, wait_for
from setiakawan_registry import SERVICE as REGISTRY

from tests.test_event_flow import applied_rows, publish

THING_QUEUE = "evt-producer-thing.happened--consumer.on_thing"
DEAD_QUEUE = THING_QUEUE + ".dead"


def setiakawan(*args, amqp_uri, database_url=None, check=True, **env):
    environment = dict(os.environ, AMQP_URI=amqp_uri, PYTHONPATH=os.pathsep.join(sys.path), **env)
    if database_url:
        environment["DATABASE_URL"] = database_url
    result = subprocess.run([sys.executable, "-m", "setiakawan_kit.cli", *args], env=environment,
                            capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_dead_letters_are_listed_and_replayed_after_the_fix_one_then_all(pair, token, db, amqp_uri):
    producer, consumer, _, consumer_db = pair()
    assert publish(producer, token, count=6, start=500, subjects=6, refuse=[501, 502, 504]).status_code == 201
    wait_for(lambda: operate.peek_count(amqp_uri, DEAD_QUEUE) == 3, timeout=60,
             what="three refused events dead-lettered", services=[consumer])
    assert [r[0] for r in applied_rows(db, consumer_db)] == [500, 503, 505]

    listed = setiakawan("dead", "list", amqp_uri=amqp_uri).stdout
    assert f"      3  {DEAD_QUEUE}" in listed.splitlines()
    queues = json.loads(setiakawan("queues", "consumer", "--json", amqp_uri=amqp_uri).stdout)
    (handler,) = [h for group in queues for h in group["handlers"] if h["name"] == THING_QUEUE]
    assert handler["dead"] == 3 and handler["consumers"] == 1 and handler["ready"] == 0
    letters = json.loads(setiakawan("dead", "list", DEAD_QUEUE, "--json", amqp_uri=amqp_uri).stdout)
    assert [letter["event_type"] for letter in letters] == ["thing.happened"] * 3
    assert all("refused on purpose" in letter["error"] and letter["attempts"] == 3 for letter in letters)
    text = setiakawan("dead", "list", DEAD_QUEUE, "--limit", "1", amqp_uri=amqp_uri).stdout
    assert letters[0]["event_id"] in text and letters[1]["event_id"] not in text
    assert operate.peek_count(amqp_uri, DEAD_QUEUE) == 3  # listing takes nothing

    # the fix is deployed: the consumer now accepts what it refused
    consumer.stop()
    consumer.env["CONSUMER_ACCEPTS_REFUSED"] = "1"
    consumer.start()
    one = setiakawan("dead", "replay", DEAD_QUEUE, "--id", letters[1]["event_id"], amqp_uri=amqp_uri)
    assert f"replayed 1 message(s) to {THING_QUEUE}" in one.stdout
    wait_for(lambda: len(applied_rows(db, consumer_db)) == 4, what="the replayed event applied", services=[consumer])
    assert operate.peek_count(amqp_uri, DEAD_QUEUE) == 2
    rest = setiakawan("dead", "replay", DEAD_QUEUE, "--all", amqp_uri=amqp_uri)
    assert "replayed 2 message(s)" in rest.stdout and "replaying" in rest.stderr  # the progress bar
    wait_for(lambda: len(applied_rows(db, consumer_db)) == 6, what="every event applied", services=[consumer])
    assert [(r[0], r[1]) for r in applied_rows(db, consumer_db)] == [(s, 1) for s in range(500, 506)]
    assert setiakawan("dead", "list", amqp_uri=amqp_uri).stdout.strip() == "no dead-lettered messages"


def test_replay_refuses_what_it_cannot_do_and_changes_nothing(pair, token, amqp_uri):
    producer, consumer, _, _ = pair()
    assert publish(producer, token, count=1, start=700, refuse=[700]).status_code == 201
    wait_for(lambda: operate.peek_count(amqp_uri, DEAD_QUEUE) == 1, timeout=60, what="the refused event dead",
             services=[consumer])
    usage = setiakawan("dead", "replay", DEAD_QUEUE, amqp_uri=amqp_uri, check=False)
    assert usage.returncode == 2 and "--id" in usage.stderr
    unknown = setiakawan("dead", "replay", DEAD_QUEUE, "--id", "no-such-event", amqp_uri=amqp_uri, check=False)
    assert unknown.returncode == 1 and "not in" in unknown.stderr and "no-such-event" in unknown.stderr
    not_dead = setiakawan("dead", "list", THING_QUEUE, amqp_uri=amqp_uri, check=False)
    assert not_dead.returncode == 1 and "is not a dead-letter queue" in not_dead.stderr
    missing = setiakawan("dead", "list", "evt-x-y.z--nobody.h.dead", amqp_uri=amqp_uri, check=False)
    assert missing.returncode == 1 and "no queue" in missing.stderr
    assert operate.peek_count(amqp_uri, DEAD_QUEUE) == 1


def test_outbox_backlog_and_status_of_the_installed_services(make_database, db, amqp_uri, infrastructure,
                                                              run_service, tmp_path):
    registry_db = make_database(REGISTRY.migrations, prefix="registry")
    env = {"REGISTRY_DATABASE": registry_db, "DISTRIBUTION_DATABASE": "setiakawan_no_such_database",
           "TRAINING_DATABASE": "setiakawan_no_such_database",
           "NOTIFICATIONS_DATABASE": "setiakawan_no_such_database",
           "COORDINATION_DATABASE": "setiakawan_no_such_database",
           # nothing listens there (a platform started by `make run` on the default ports is not theirs)
           **{f"{name}_HTTP_ADDRESS": f"127.0.0.1:{free_port()}" for name in ("DISTRIBUTION", "TRAINING",
                                                                             "NOTIFICATIONS", "COORDINATION")}}
    with db(registry_db).cursor() as cur:  # two events committed while the relay is away
        for n in range(2):
            cur.execute("INSERT INTO kit_outbox (event_id, exchange, routing_key, subject, headers, content_type,"
                        " body, attempts, last_error) VALUES (gen_random_uuid(), 'registry.events', 'x', %s,"
                        " '{}', 'application/json', '{}', %s, %s)",
                        (f"s{n}", n, "broker unreachable" if n else None))
    backlog = json.loads(setiakawan("outbox", "registry", "--json", amqp_uri=amqp_uri,
                                    database_url=infrastructure.database_url, **env).stdout)
    assert backlog[0]["unsent"] == 2 and backlog[0]["failing"] == 1
    assert backlog[0]["last_error"] == "broker unreachable"
    with db(registry_db).cursor() as cur:
        assert outbox.backlog(cur) == 2

    registry = run_service("registry", REGISTRY.module, registry_db, IMPORT_DIR=str(tmp_path / "imports"),
                           **REGISTRY.test_config)
    with db(registry_db).cursor() as cur:
        wait_for(lambda: outbox.backlog(cur) == 0, what="the relay publishing the backlog", services=[registry])
    report = setiakawan("status", "--json", amqp_uri=amqp_uri, database_url=infrastructure.database_url,
                        check=False, REGISTRY_HTTP_ADDRESS=registry.url.removeprefix("http://"), **env)
    assert report.returncode == 1, report.stderr  # three services are not running
    status = {s["service"]: s for s in json.loads(report.stdout)["services"]}
    assert status["registry"]["health"] == "ok" and status["registry"]["outbox_unsent"] == 0
    assert status["registry"]["database"] == "ok" and status["registry"]["handlers"] >= 1
    assert status["training"]["health"] == "unreachable"
    assert status["training"]["outbox_problem"].startswith("no database setiakawan_no_such_database")
    text = setiakawan("status", amqp_uri=amqp_uri, database_url=infrastructure.database_url, check=False,
                      REGISTRY_HTTP_ADDRESS=registry.url.removeprefix("http://"), **env).stdout
    assert any(line.split()[:2] == ["registry", "ok"] for line in text.splitlines())

    # the images' health check: one service's /health, and a failure where one does not answer
    healthy = setiakawan("health", "registry", amqp_uri=amqp_uri, check=False,
                         REGISTRY_HTTP_ADDRESS=registry.url.removeprefix("http://"), **env)
    assert healthy.returncode == 0 and healthy.stdout.startswith("registry: ok"), healthy.stdout + healthy.stderr
    down = setiakawan("health", amqp_uri=amqp_uri, check=False,
                      REGISTRY_HTTP_ADDRESS=registry.url.removeprefix("http://"), **env)
    assert down.returncode == 1 and "training: unreachable" in down.stdout, down.stdout + down.stderr

    # the containers' health check: the same question, the standard library only
    def container_check(address):
        return subprocess.run([sys.executable, "-m", "setiakawan_kit.healthcheck", "registry"], capture_output=True,
                              text=True, timeout=60, env=dict(os.environ, REGISTRY_HTTP_ADDRESS=address))

    port = registry.url.rsplit(":", 1)[1]
    assert container_check(f"0.0.0.0:{port}").returncode == 0  # listening everywhere: asked on this host
    assert container_check(f"127.0.0.1:{free_port()}").returncode == 1
