import json
import logging

import pytest
from click.testing import CliRunner

from setiakawan_kit import auth, logs, topology
from setiakawan_kit.cli import main
from setiakawan_kit.outbox import _sent_in_order
from setiakawan_kit.problems import field_errors


def test_field_errors_are_flat_and_named():
    messages = {"members": {0: {"nik": ["Not valid."]}}, "kk": ["Missing data for required field."],
                "_schema": ["Bad."]}
    assert field_errors(messages) == [
        {"field": "members.0.nik", "message": "Not valid."},
        {"field": "kk", "message": "Missing data for required field."},
        {"field": "_schema", "message": "Bad."},
    ]
    assert field_errors(["Invalid input type."]) == [{"field": "_body", "message": "Invalid input type."}]


def test_retry_delays_double_and_queues_are_named_by_delay():
    assert [topology.retry_delay_ms(n, 1000) for n in (1, 2, 3, 4)] == [1000, 2000, 4000, 8000]
    queue = topology.retry_queue("c", "evt-a-b--c.d", 2, 500)
    assert queue.name == "evt-a-b--c.d.retry.1000ms"
    # back through the consuming service's own exchange: no service may publish to the default one
    assert queue.queue_arguments == {"x-message-ttl": 1000, "x-dead-letter-exchange": "c.retry",
                                     "x-dead-letter-routing-key": "evt-a-b--c.d"}
    assert queue.exchange.name == "c.retry" and queue.routing_key == queue.name
    assert topology.handler_queue_name("registry", "household.verified", "distribution", "on_verified") == \
        "evt-registry-household.verified--distribution.on_verified"


def test_unconfirmed_row_holds_back_later_rows_of_its_subject_only():
    rows = [(1, None, None, None, "a"), (2, None, None, None, "b"), (3, None, None, None, "a"),
            (4, None, None, None, "b"), (5, None, None, None, "c")]
    assert _sent_in_order(rows, acked={1, 2, 3, 4, 5}) == [1, 2, 3, 4, 5]
    assert _sent_in_order(rows, acked={1, 3, 4, 5}) == [1, 3, 5]  # 2 failed: 4 (same subject) waits
    assert _sent_in_order(rows, acked=set()) == []


def test_logs_are_json_with_correlation_and_without_nik_or_phone(capsys):
    from setiakawan_kit import context

    handler = logging.StreamHandler()
    handler.setFormatter(logs.RedactingJsonFormatter())
    logger = logging.getLogger("redaction-test")
    logger.addHandler(handler)
    logger.propagate = False
    token = context.set_current(context.Context(correlation_id="corr-42"))
    try:
        logger.warning("member 6213014107900003 phone +6281234567890 or 0812-3456-7890 or 081234567890")
    finally:
        context.reset(token)
        logger.removeHandler(handler)
    record = json.loads(capsys.readouterr().err)
    assert record["correlation_id"] == "corr-42" and record["level"] == "WARNING"
    text = record["message"]
    assert "6213014107900003" not in text and "6213************" in text
    assert "81234567890" not in text and "3456-7890" not in text
    assert text.count("[phone]") == 3


def test_cli_token_prints_a_valid_token(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["keys", "init", "--dir", str(tmp_path / "keys")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["token", "--agency", "Dinsos Bartim", "--kind", "district", "--role", "operator",
                                  "--regions", "62.13,62.13.01.2003", "--key", str(tmp_path / "keys" / "signing-key.pem")])
    assert result.exit_code == 0, result.output
    verifier = auth.TokenVerifier({"setiakawan": str(tmp_path / "keys" / "jwks.json")})
    identity = verifier.read(result.stdout.strip())
    assert "signed by issuer 'setiakawan' with key" in result.stderr
    assert identity.regions == ("62.13", "62.13.01.2003")


def test_cli_token_without_a_signing_key_says_how_to_make_one(tmp_path, monkeypatch):
    monkeypatch.setenv("SETIAKAWAN_HOME", str(tmp_path / "nothing-here"))
    monkeypatch.delenv("SETIAKAWAN_SIGNING_KEY", raising=False)
    result = CliRunner().invoke(main, ["token", "--agency", "x", "--kind", "district", "--role", "operator",
                                       "--regions", "62"])
    assert result.exit_code == 1
    assert "no signing key" in result.output and "setiakawan keys init" in result.output


def test_cli_token_refuses_unknown_regions_and_kinds():
    runner = CliRunner()
    result = runner.invoke(main, ["token", "--agency", "x", "--kind", "district", "--role", "operator",
                                  "--regions", "62.13.01.2001"])
    assert result.exit_code == 2 and "not a Kemendagri region" in result.output
    result = runner.invoke(main, ["token", "--agency", "x", "--kind", "guild", "--role", "operator",
                                  "--regions", "62"])
    assert result.exit_code == 2
    for args in (["--help"], ["token", "--help"], ["run", "--help"], ["migrate", "--help"], ["contract", "--help"],
                 ["keys", "init", "--help"], ["keys", "rotate", "--help"], ["broker", "setup", "--help"],
                 ["broker", "grant-partner", "--help"], ["broker", "revoke-partner", "--help"]):
        assert runner.invoke(main, args).exit_code == 0


def test_cli_contract_lists_every_event_type():
    result = CliRunner().invoke(main, ["contract", "--json"])
    assert result.exit_code == 0, result.output
    items = json.loads(result.output)
    (ping,) = [i for i in items if i["routing_key"] == "diagnostic.ping"]
    assert ping["source"] == "any" and ping["exchange"] == "any.events"  # any service sends it, everyone hears it
    assert ping["data"]["properties"]["message"]["type"] == "string"
    assert {"any.events", "registry.events"} <= {i["exchange"] for i in items}


def test_copy_lines_escape_what_postgres_copy_text_format_needs():
    from setiakawan_kit.outbox import copy_row, copy_text

    assert copy_row(["a\\b", None, 3, "x\ny", "r\rs"]) == "a\\\\b\t\\N\t3\tx\\ny\tr\\rs\n"
    assert copy_text("t\tab") == "t\\tab" and copy_text(None) == "\\N"


def test_a_failed_event_leaves_no_published_events_behind_in_its_batch():
    """The savepoint rollback drops a failed handler's outbox rows and the
    relay's wake-up sent with the first of them; the unit of work must
    forget them too, so that the next event's publish notifies again."""
    from types import SimpleNamespace

    from setiakawan_kit.consumer import Failed, _apply

    class Uow:
        published = []
        cursor = SimpleNamespace(rowcount=1)

        def execute(self, sql, params=None):
            return self.cursor

        def later(self, sql, params=None):
            pass

        def rollback_to(self, savepoint):
            pass

        def publish(self):
            self.published.append("event")

    def handler(service, uow, event):
        uow.publish()
        raise RuntimeError("half-way")

    class Service:
        name = "consumer"

    service = Service()
    event = SimpleNamespace(id="e-1", type="thing.happened", correlationid="c-1")
    uow = Uow()
    assert isinstance(_apply(service, uow, "consumer.on_thing", handler, event), Failed)
    assert uow.published == []


def test_an_api_method_must_take_its_routes_variables():
    from setiakawan_kit.http import check_parameters

    class Service:
        def deliver(self, call, entitlement_id):
            pass

        def misnamed(self, call, id):  # noqa: A002 - the mistake under test
            pass

    check_parameters(Service.deliver, "POST", "/entitlements/<uuid:entitlement_id>/delivery")
    with pytest.raises(TypeError, match=r"Service.misnamed cannot answer POST .*\(self, call, entitlement_id\)"):
        check_parameters(Service.misnamed, "POST", "/entitlements/<uuid:entitlement_id>/delivery")
    with pytest.raises(TypeError):
        check_parameters(Service.deliver, "GET", "/entitlements")
