"""``diagnostic.ping``: an operator's connectivity check. Every service can
send one through its outbox and every service records the pings it receives,
so an operator sees the whole event path work end to end."""
from marshmallow import Schema, fields, validate

from ..envelope import event_types

SERVICES = ("registry", "distribution", "training", "notifications")


class PingSchema(Schema):
    message = fields.String(required=True, validate=validate.Length(1, 500))
    sent_by = fields.String(required=True, validate=validate.Length(1, 200))


PING = {
    service: event_types.define(
        "diagnostic.ping", service, PingSchema,
        description=f"Operator connectivity check sent by the {service} service.",
        example={"message": "halo dari Barito Timur", "sent_by": "Dinas Sosial Kabupaten Barito Timur"})
    for service in SERVICES
}
