"""``diagnostic.ping``: an operator's connectivity check. Any service, ours
or a partner's, may send one on its own exchange; `setiakawan broker setup`
binds every service's exchange to ``any.events`` for it, where every
service listens, so an operator sees the whole event path work end to end."""
from marshmallow import Schema, fields, validate

from .types import ANY, event_types


class PingSchema(Schema):
    message = fields.String(required=True, validate=validate.Length(1, 500))
    sent_by = fields.String(required=True, validate=validate.Length(1, 200))


PING = event_types.define(
    "diagnostic.ping", ANY, PingSchema,
    description="Operator connectivity check, sent by any service on its own exchange.",
    example={"message": "halo dari Barito Timur", "sent_by": "Dinas Sosial Kabupaten Barito Timur"})
