from pathlib import Path

import pytest

SUPPORT_MIGRATIONS = Path(__file__).parent / "support" / "migrations"


@pytest.fixture
def pair(make_database, run_service):
    """A running producer and consumer on this test's vhost and databases."""

    def start(consumer_env=None, **consumer_config):
        producer_db = make_database(prefix="producer")
        consumer_db = make_database(SUPPORT_MIGRATIONS, prefix="consumer")
        consumer = run_service("consumer", "tests.support.services:Consumer", consumer_db,
                               env=consumer_env, **consumer_config)
        producer = run_service("producer", "tests.support.services:Producer", producer_db)
        return producer, consumer, producer_db, consumer_db

    return start
