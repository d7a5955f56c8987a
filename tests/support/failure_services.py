"""Services for the fault-injection tests (tests/test_failures.py)."""
import os
import time

from setiakawan_kit.consumer import handles

from .services import Consumer


class GatedConsumer(Consumer):
    """The test consumer, but each handler, having written its effect, waits
    inside its transaction until the file ``CONSUMER_GATE`` exists: the test
    decides when in-flight handlers finish (commit, then ack)."""

    name = "consumer"

    @handles("producer", "thing.happened", name="on_thing")
    def on_thing(self, uow, event):
        uow.execute("INSERT INTO applied (event_id, seq, subject, correlation_id)"
                    " VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT (event_id) DO UPDATE SET applications = applied.applications + 1",
                    (event.id, event.data["seq"], event.subject, event.correlationid))
        gate = os.environ["CONSUMER_GATE"]
        while not os.path.exists(gate):
            time.sleep(0.02)
