"""The kit's unit of work on the real PostgreSQL: BEGIN, what waits and
COMMIT share round trips without changing what a transaction means, and a
prepared statement's plan follows its tables."""
import uuid

import psycopg2
import psycopg2.extras
import pytest

from tests.support.services import THING_HAPPENED
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
    assert trips[0].startswith("BEGIN; INSERT INTO t")
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
    db(name).cursor().execute("ANALYZE t")  # empty: read whole is cheapest
    with database.transaction() as uow:
        uow.prepared(statement, "SELECT v FROM t WHERE id = $1", ("int",), (1,))
        assert "Seq Scan" in plan_of(uow, statement)
    db(name).cursor().execute("INSERT INTO t SELECT i, 'v' FROM generate_series(1, 50000) AS i")
    with database.transaction() as uow:  # the one plan the statement has is the one made for an empty table
        uow.prepared(statement, "SELECT v FROM t WHERE id = $1", ("int",), (1,))
        assert "Seq Scan" in plan_of(uow, statement)
    monkeypatch.setattr(kit_db, "REPLAN_AFTER", 0.0)
    with database.transaction() as uow:
        assert uow.prepared(statement, "SELECT v FROM t WHERE id = $1", ("int",), (1,)).fetchone() == {"v": "v"}
        assert "Index Scan" in plan_of(uow, statement)
