"""A service of both kinds for the outage tests (tests/test_outages.py): it
serves HTTP writes and applies the producer's events."""
from marshmallow import Schema, fields

from setiakawan_kit.consumer import handles
from setiakawan_kit.http import api
from setiakawan_kit.service import KitService

from .services import THING_HAPPENED  # noqa: F401 - the type this service reads (its contract, for the test)


class MarkRequest(Schema):
    n = fields.Integer(required=True)


class Ledger(KitService):
    name = "ledger"

    @api("POST", "/marks", body=MarkRequest, roles=("operator",), status=201)
    def mark(self, call):
        with self.db.transaction() as uow:
            uow.execute("INSERT INTO marks (n) VALUES (%s) ON CONFLICT DO NOTHING", (call.body["n"],))
        return 201, {"n": call.body["n"]}

    @handles("producer", "thing.happened", name="on_thing")
    def on_thing(self, uow, event):
        uow.execute("INSERT INTO applied (event_id, seq, subject, correlation_id) VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT (event_id) DO UPDATE SET applications = applied.applications + 1",
                    (event.id, event.data["seq"], event.subject, event.correlationid))
