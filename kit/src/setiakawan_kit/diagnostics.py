"""The operator's connectivity check, mixed into every Setiakawan service:
``POST /diagnostics/ping`` sends a ``diagnostic.ping`` through this service's
outbox; every service records the pings it receives from any service (they
meet on ``any.events``), readable at ``GET /diagnostics/pings``."""
import uuid

from marshmallow import Schema, fields, validate
from setiakawan_contract.diagnostic import PING
from setiakawan_contract.types import ANY

from .consumer import handles
from .http import api

ROLES = ("admin", "operator")


class PingRequest(Schema):
    message = fields.String(load_default="ping", validate=validate.Length(1, 500))


class PingSent(Schema):
    event_id = fields.String()
    correlation_id = fields.String()


class PingReceived(Schema):
    event_id = fields.String()
    source = fields.String()
    agency = fields.String()
    message = fields.String()
    sent_by = fields.String()
    sent_at = fields.DateTime()
    received_at = fields.DateTime()


def record_ping(uow, event):
    uow.execute("INSERT INTO kit_pings (event_id, source, agency, message, sent_by, sent_at)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (event.id, event.source, event.agency, event.data["message"], event.data["sent_by"], event.time))


class DiagnosticsMixin:
    @api("POST", "/diagnostics/ping", body=PingRequest, response=PingSent, roles=ROLES, status=202,
          summary="Send a diagnostic.ping event to every service")
    def send_ping(self, call):
        with self.db.transaction() as uow:
            event = uow.publish(PING, f"ping/{uuid.uuid4()}",
                                {"message": call.body["message"], "sent_by": call.identity.agency})
        return 202, {"event_id": event.id, "correlation_id": event.correlationid}

    @api("GET", "/diagnostics/pings", roles=ROLES, response=[PingReceived],
          summary="The latest diagnostic pings this service received")
    def list_pings(self, call):
        with self.db.transaction() as uow:
            return uow.fetchall("SELECT * FROM kit_pings ORDER BY received_at DESC LIMIT 100")

    @handles(ANY, "diagnostic.ping", name="pings")
    def on_ping(self, uow, event):
        record_ping(uow, event)
