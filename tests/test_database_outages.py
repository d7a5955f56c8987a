"""Outages told apart from a service's own errors, and the kit's database
pool healing after a restart, on a PostgreSQL cluster of the test's own."""
import logging
import uuid

import psycopg2
import pytest

from setiakawan_kit import outages
from setiakawan_kit.db import Database, database_dsn


def raised(conn, sqlstate):
    """The error PostgreSQL raises with ``sqlstate``."""
    with pytest.raises(psycopg2.Error) as caught, conn.cursor() as cur:
        cur.execute(f"DO $$ BEGIN RAISE EXCEPTION 'on purpose' USING ERRCODE = '{sqlstate}'; END $$")
    return caught.value


@pytest.fixture
def database(own_postgres):
    db = Database(database_dsn(own_postgres.url, "postgres"), f"outage-test-{uuid.uuid4().hex[:8]}", size=3)
    yield db
    db.close()


OUTAGE_STATES = ["40001", "40P01", "53100", "53300", "57P01", "57P03", "08006", "58030", "55P03"]
# the same every time: 57014 a statement over statement_timeout, 53400 a configured limit, 54000 a row too big
OWN_STATES = ["23505", "23503", "22012", "22P02", "42P01", "54000", "53400", "57014", "P0001", "XX000"]


@pytest.mark.parametrize("sqlstate", OUTAGE_STATES + OWN_STATES)
def test_an_outage_is_told_from_an_error_of_the_service_s_own(db, sqlstate):
    error = raised(db("postgres"), sqlstate)  # raised by the server, as it would raise it; nothing changes
    assert error.pgcode == sqlstate
    assert outages.dependency_of(error) == (outages.DATABASE if sqlstate in OUTAGE_STATES else None)


def test_lost_connections_broker_errors_and_unanswered_calls_are_outages():
    import amqp.exceptions
    import kombu.exceptions

    try:
        psycopg2.connect("host=127.0.0.1 port=1 dbname=x", connect_timeout=2)
    except psycopg2.OperationalError as exc:
        assert outages.dependency_of(exc) == outages.DATABASE
    assert outages.dependency_of(psycopg2.InterfaceError("connection already closed")) == outages.DATABASE
    assert outages.dependency_of(psycopg2.InterfaceError("cursor already closed")) is None  # the caller's doing
    assert outages.dependency_of(amqp.exceptions.RecoverableConnectionError("gone")) == outages.BROKER
    assert outages.dependency_of(kombu.exceptions.OperationalError("gone")) == outages.BROKER
    assert outages.dependency_of(outages.DependencyUnavailable("registry", "no answer")) == "registry"
    for own in (ValueError("bad"), KeyError("x"), OSError("a file"), ConnectionRefusedError("a webhook")):
        assert outages.dependency_of(own) is None


def test_the_pool_heals_after_a_restart_nobody_saw(own_postgres, database):
    assert database.ping()
    own_postgres.stop()
    own_postgres.start()
    # the pooled connection died with the old server; the pool notices before handing it out
    assert database.ping()
    assert database.health.failures == 0


def test_an_outage_is_logged_once_each_way_and_counted(own_postgres, database, caplog):
    caplog.set_level(logging.INFO, logger="setiakawan_kit.outages")
    assert database.ping()
    own_postgres.stop()
    for _ in range(5):
        with pytest.raises(psycopg2.OperationalError) as caught:
            database.ping()
        assert outages.dependency_of(caught.value) == outages.DATABASE
    assert not database.health.available
    assert database.health.failures == 5
    own_postgres.start()
    assert database.ping() and database.ping()
    assert database.health.available
    lines = [r.getMessage() for r in caplog.records if r.name == "setiakawan_kit.outages"]
    assert len(lines) == 2, lines
    assert lines[0].startswith("database unavailable: OperationalError")
    assert lines[1].startswith("database available again after")


def test_a_deadlock_is_counted_but_the_database_is_not_down(database):
    with pytest.raises(psycopg2.errors.DeadlockDetected) as caught:
        with database.transaction() as uow:
            uow.execute("DO $$ BEGIN RAISE EXCEPTION 'on purpose' USING ERRCODE = '40P01'; END $$")
    assert outages.dependency_of(caught.value) == outages.DATABASE  # try again later: a 503, an event held
    assert database.health.available and database.health.failures == 0
    assert database.ping()


def test_an_error_of_the_caller_s_own_leaves_the_connection_and_the_state_alone(database):
    with pytest.raises(psycopg2.errors.DivisionByZero):
        with database.transaction() as uow:
            uow.execute("SELECT 1 / 0")
    assert database.health.available and database.health.failures == 0
    assert database.ping()
