"""The kit's unit of work on the real PostgreSQL: BEGIN, what waits and
COMMIT share round trips without changing what a transaction means, and a
prepared statement's plan follows its tables."""
import uuid
from types import SimpleNamespace
from datetime import datetime, timedelta, timezone

import psycopg2
import psycopg2.extras
import pytest

from tests.support.services import THING_HAPPENED
from setiakawan_contract import wire
from setiakawan_contract.types import InvalidEvent
from setiakawan_kit import context
from setiakawan_kit import db as kit_db
from setiakawan_kit.db import Database, database_dsn


@pytest.fixture
def scratch(infrastructure, make_database, db):
    """(Database of one connection, whose round trips are counted; its
    database's name), with a table ``t``."""
    name = make_database()
    db(name).cursor().execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
    database = Database(database_dsn(infrastructure.database_url, name), "producer", size=1)
    yield database, name
    database.close()


def count_round_trips(uow):
    """Wrap the unit of work's cursor so its round trips are counted in ``trips``."""
    trips = []
    execute = uow._cursor.execute

    def counted(query, params=None):
        trips.append(query if isinstance(query, str) else bytes(query).decode())
        return execute(query, params)

    uow._cursor.execute = counted
    return trips


def rows(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def test_begin_rides_with_the_first_statement_and_events_with_commit(scratch, db):
    database, name = scratch
    with database.transaction() as uow:
        trips = count_round_trips(uow)
        uow.execute("INSERT INTO t VALUES (1, 'a')")
        uow.publish(THING_HAPPENED, "thing", {"seq": 1})
        # another session sees nothing yet: the statement ran inside the transaction
        assert rows(db(name), "SELECT count(*) FROM t") == [(0,)]
    assert len(trips) == 2
    assert trips[0].startswith("BEGIN;\nINSERT INTO t")
    assert "INSERT INTO kit_outbox" in trips[1] and "pg_notify" in trips[1] and trips[1].endswith("COMMIT")
    assert rows(db(name), "SELECT id, v FROM t") == [(1, "a")]
    assert rows(db(name), "SELECT subject FROM kit_outbox") == [("thing",)]


def test_a_unit_of_work_that_asked_nothing_sends_nothing(scratch):
    database, _ = scratch
    with database.transaction() as uow:
        trips = count_round_trips(uow)
    assert trips == []


def test_an_error_in_a_statement_that_waited_is_raised_at_commit_and_nothing_stays(scratch, db):
    database, name = scratch
    db(name).cursor().execute("INSERT INTO t VALUES (1, 'there before')")
    with pytest.raises(psycopg2.errors.UniqueViolation), database.transaction() as uow:
        uow.later("INSERT INTO t VALUES (%s, %s)", (2, "new"))
        uow.publish(THING_HAPPENED, "thing", {"seq": 1})
        uow.later("INSERT INTO t VALUES (%s, %s)", (1, "clashes"))
    assert rows(db(name), "SELECT id, v FROM t") == [(1, "there before")]
    assert rows(db(name), "SELECT count(*) FROM kit_outbox") == [(0,)]
    with database.transaction() as uow:  # the connection went back to the pool clean
        assert uow.fetchone("SELECT count(*) AS n FROM t")["n"] == 1


def test_an_exception_rolls_back_what_was_sent_and_drops_what_waits(scratch, db):
    database, name = scratch
    with pytest.raises(RuntimeError), database.transaction() as uow:
        uow.execute("INSERT INTO t VALUES (1, 'sent')")
        uow.later("INSERT INTO t VALUES (2, 'waiting')")
        raise RuntimeError("the use case gave up")
    assert rows(db(name), "SELECT count(*) FROM t") == [(0,)]


def test_rolling_back_to_a_savepoint_drops_the_events_that_waited_after_it(scratch, db):
    database, name = scratch
    with database.transaction() as uow:
        uow.later("SAVEPOINT one")
        uow.execute("INSERT INTO t VALUES (1, 'undone')")
        uow.publish(THING_HAPPENED, "undone", {"seq": 1})
        uow.rollback_to("one")
        uow.publish(THING_HAPPENED, "kept", {"seq": 2})
    assert rows(db(name), "SELECT count(*) FROM t") == [(0,)]
    assert rows(db(name), "SELECT subject FROM kit_outbox") == [("kept",)]


def test_a_set_based_write_waits_for_the_commit_and_takes_its_rows_quoted(scratch, db):
    database, name = scratch
    with database.transaction() as uow:
        trips = count_round_trips(uow)
        uow.later_values("INSERT INTO t (id, v) VALUES %s ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v",
                         "(%(id)s, %(v)s)", [{"id": 1, "v": "Pulau Patai"}, {"id": 2, "v": "it's; DROP TABLE t"}])
        uow.later_values("INSERT INTO t (id, v) VALUES %s", "(%(id)s, %(v)s)", [])  # nothing to write: no statement
        assert trips == []
    assert len(trips) == 1 and trips[0].startswith("BEGIN;\nINSERT INTO t") and trips[0].endswith("COMMIT")
    assert rows(db(name), "SELECT id, v FROM t ORDER BY id") == [(1, "Pulau Patai"), (2, "it's; DROP TABLE t")]


def test_the_cursor_handed_to_psycopg2_helpers_sends_what_waits_first(scratch, db):
    database, name = scratch
    with database.transaction() as uow:
        uow.later("INSERT INTO t VALUES (1, 'first')")
        psycopg2.extras.execute_values(uow.cursor, "UPDATE t SET v = x.v FROM (VALUES %s) AS x(id, v) WHERE t.id = x.id",
                                       [(1, "then updated")])
        assert uow.cursor.rowcount == 1
    assert rows(db(name), "SELECT v FROM t") == [("then updated",)]


def plan_of(uow, name):
    return " ".join(r["QUERY PLAN"] for r in uow.fetchall(f"EXPLAIN EXECUTE {name} (1)"))


def test_a_prepared_statement_is_planned_again_for_the_tables_as_they_grew(scratch, db, monkeypatch):
    database, name = scratch
    statement = f"by_id_{uuid.uuid4().hex[:8]}"
    clock = [1000.0]
    monkeypatch.setattr(kit_db.time, "monotonic", lambda: clock[0])
    db(name).cursor().execute("ANALYZE t")  # empty: read whole is cheapest
    with database.transaction() as uow:
        uow.prepared(statement, "SELECT v FROM t WHERE id = $1", ("int",), (1,))
        assert "Seq Scan" in plan_of(uow, statement)
    db(name).cursor().execute("INSERT INTO t SELECT i, 'v' FROM generate_series(1, 50000) AS i")
    clock[0] += 0.75  # less than REPLAN_FIRST
    with database.transaction() as uow:  # the one plan the statement has is the one made for an empty table
        uow.prepared(statement, "SELECT v FROM t WHERE id = $1", ("int",), (1,))
        assert "Seq Scan" in plan_of(uow, statement)
    clock[0] += 0.5  # a young statement is planned again soon
    with database.transaction() as uow:
        assert uow.prepared(statement, "SELECT v FROM t WHERE id = $1", ("int",), (1,)).fetchone() == {"v": "v"}
        assert "Index Scan" in plan_of(uow, statement)
    schedule = []  # when the statement was prepared again, in seconds after its second preparation
    for _ in range(200):
        clock[0] += 0.5
        with database.transaction() as uow:
            before = prepared_at(uow, statement)
            uow.prepared(statement, "SELECT v FROM t WHERE id = $1", ("int",), (1,))
            if prepared_at(uow, statement) != before:
                schedule.append(clock[0] - 1001.25)
    # then after twice as long each time, up to REPLAN_AFTER
    assert kit_db.REPLAN_FIRST == 1.0 and kit_db.REPLAN_AFTER == 30.0
    assert schedule == [2.0, 6.0, 14.0, 30.0, 60.0, 90.0]


def prepared_at(uow, name):
    return uow.fetchone("SELECT prepare_time FROM pg_prepared_statements WHERE name = %s", (name,))["prepare_time"]


class Consumer:
    name = "consumer"


def batch(database, handlers):
    """Apply one event per handler in one transaction, as ``@handles`` does;
    returns the outcomes."""
    from types import SimpleNamespace

    from setiakawan_kit.consumer import _apply

    with database.transaction() as uow:
        return [_apply(Consumer(), uow, "consumer.things", handler,
                       SimpleNamespace(id=str(uuid.uuid4()), type="thing.happened", correlationid=None))
                for handler in handlers]


def test_an_error_in_what_an_event_left_waiting_fails_that_event_alone(scratch, db):
    from setiakawan_kit.consumer import Failed

    database, name = scratch

    def clashing(service, uow, event):
        uow.later("INSERT INTO t VALUES (1, 'first')")
        uow.later("INSERT INTO t VALUES (1, 'again')")  # fails once sent, after the handler returned

    def inserting(value):
        def handler(service, uow, event):
            uow.execute("INSERT INTO t VALUES (%s, 'ok')", (value,))
            uow.publish(THING_HAPPENED, f"thing-{value}", {"seq": value})
        return handler

    outcomes = batch(database, [inserting(2), clashing, inserting(3)])
    assert outcomes[0] == "applied" and isinstance(outcomes[1], Failed) and outcomes[2] == "applied"
    assert "duplicate key" in outcomes[1].error
    assert rows(db(name), "SELECT id FROM t ORDER BY id") == [(2,), (3,)]
    assert rows(db(name), "SELECT count(*) FROM kit_inbox") == [(2,)]
    assert rows(db(name), "SELECT subject FROM kit_outbox ORDER BY id") == [("thing-2",), ("thing-3",)]


def test_a_statement_that_cannot_be_prepared_fails_its_event_and_the_connection_goes_on(scratch, db):
    from setiakawan_kit.consumer import Failed

    database, name = scratch
    statement = f"broken_{uuid.uuid4().hex[:8]}"

    def broken(service, uow, event):
        uow.prepared(statement, "SELECT no_such_column FROM t WHERE id = $1", ("int",), (1,))

    def inserting(service, uow, event):
        uow.execute("INSERT INTO t VALUES (7, 'after')")

    outcomes = batch(database, [broken, inserting])
    assert isinstance(outcomes[0], Failed) and outcomes[1] == "applied"
    assert rows(db(name), "SELECT id FROM t") == [(7,)]
    outcomes = batch(database, [broken])  # not taken for prepared: PREPARE is tried again, and fails the same way
    assert isinstance(outcomes[0], Failed) and "no_such_column" in outcomes[0].error


SELECTED_THINGS = ("SELECT 'thing-' || id AS subject, jsonb_build_object('seq', id, 'note', v) AS data"
                   " FROM t WHERE id <= %(upto)s")


def outbox_messages(conn):
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute("SELECT exchange, routing_key, subject, headers, content_type, body FROM kit_outbox ORDER BY id")
        return cur.fetchall()


def test_events_published_from_a_select_are_the_messages_publish_makes(scratch, db):
    database, name = scratch
    db(name).cursor().execute("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'not selected')")
    before = datetime.now(timezone.utc)
    with database.transaction() as uow:
        uow.publish(THING_HAPPENED, "thing-0", {"seq": 0, "note": "one at a time"})
        assert uow.publish_select(THING_HAPPENED, SELECTED_THINGS, {"upto": 2}) == 2
        assert uow.publish_select(THING_HAPPENED, SELECTED_THINGS, {"upto": 0}) == 0
    after = datetime.now(timezone.utc)
    by_one, *by_select = outbox_messages(db(name))
    assert [m["subject"] for m in by_select] == ["thing-1", "thing-2"]
    events = [wire.from_message(m["headers"], m["content_type"], m["body"]) for m in [by_one, *by_select]]
    assert [e.data for e in events] == [{"seq": 0, "note": "one at a time"}, {"seq": 1, "note": "a"},
                                        {"seq": 2, "note": "b"}]
    for message, event in zip(by_select, events[1:]):
        assert set(message["headers"]) == set(by_one["headers"])
        assert (message["exchange"], message["routing_key"]) == (by_one["exchange"], by_one["routing_key"])
        assert (event.type, event.source, event.dataschema) == (events[0].type, events[0].source,
                                                                events[0].dataschema)
        assert event.subject == message["subject"] and event.id != events[0].id
        # the time the database wrote is the moment of the transaction, in UTC, as wire writes it
        assert before <= event.time <= after and event.time.utcoffset() == timedelta(0)
        written = event.time.isoformat(timespec="microseconds").replace("+00:00", "Z")
        assert message["headers"]["ce-time"] == written


def test_events_carry_the_kind_of_the_agency_whose_token_acted_and_none_when_the_service_acts(scratch, db):
    database, name = scratch
    db(name).cursor().execute("INSERT INTO t VALUES (1, 'a')")
    # what an HTTP call with a district's token sets (the kit's http entrypoint, from the token)
    acting = context.set_current(context.Context(agency="Dinas Sosial Kabupaten Barito Timur", agency_kind="district"))
    try:
        with database.transaction() as uow:
            uow.publish(THING_HAPPENED, "by-token", {"seq": 1})
            uow.publish_select(THING_HAPPENED, SELECTED_THINGS, {"upto": 1})
            # an event handled on the way acts for the service, with no kind
            with context.caused_by(SimpleNamespace(id="cause", correlationid="corr"), "producer"):
                uow.publish(THING_HAPPENED, "by-service", {"seq": 2})
    finally:
        context.reset(acting)
    events = [wire.from_message(m["headers"], m["content_type"], m["body"]) for m in outbox_messages(db(name))]
    assert [(e.subject, e.agency, e.agencykind) for e in events] == [
        ("by-token", "Dinas Sosial Kabupaten Barito Timur", "district"),
        ("thing-1", "Dinas Sosial Kabupaten Barito Timur", "district"),
        ("by-service", "producer", None)]


def test_a_select_whose_rows_do_not_match_the_schema_stores_nothing(scratch, db):
    database, name = scratch
    db(name).cursor().execute("INSERT INTO t VALUES (1, 'a')")
    wrong = "SELECT 'thing-' || id AS subject, jsonb_build_object('seq', v) AS data FROM t"
    with pytest.raises(InvalidEvent), database.transaction() as uow:
        uow.execute("INSERT INTO t VALUES (2, 'b')")
        uow.publish_select(THING_HAPPENED, wrong, {})
    assert rows(db(name), "SELECT count(*) FROM kit_outbox") == [(0,)]
    assert rows(db(name), "SELECT count(*) FROM t") == [(1,)]
