"""Events published by the notifications service (exchange ``notifications.events``).

A message names its recipient by an opaque id only: a person's
``person_ref``, an agency staff contact's id, or a partner's subscription
id; never a number, an address or a name."""
from marshmallow import Schema, fields, validate

from .types import event_types

CHANNELS = ("whatsapp", "sms", "email", "webhook")
RECIPIENT_KINDS = ("household", "person", "staff", "partner")


class MessageOutcome(Schema):
    message_id = fields.UUID(required=True)
    event_id = fields.String(required=True, metadata={"description": "The event the message was made from"})
    event_type = fields.String(required=True)
    recipient_kind = fields.String(required=True, validate=validate.OneOf(RECIPIENT_KINDS))
    recipient_id = fields.UUID(required=True, metadata={
        "description": "A household_id (its head got it), a person_ref, a staff contact's id or a subscription's id"})
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS),
                            metadata={"description": "The channel it went (or last failed) over"})
    agency = fields.String(required=True, metadata={"description": "The agency responsible for the event"})
    attempts = fields.Integer(required=True, validate=validate.Range(min=0))


class MessageSent(MessageOutcome):
    sent_at = fields.AwareDateTime(required=True)


class MessageFailed(MessageOutcome):
    reason = fields.String(required=True, metadata={"description": "Why it was given up: the last answer, an "
                                                                   "opt-out, no contact details …"})


class SubscriptionSuspended(Schema):
    subscription_id = fields.UUID(required=True)
    agency = fields.String(required=True, metadata={"description": "The subscribing agency (told by email)"})
    url = fields.String(required=True)
    event_types = fields.List(fields.String(), required=True)
    failures = fields.Integer(required=True, validate=validate.Range(min=1),
                              metadata={"description": "Attempts that failed in a row"})
    reason = fields.String(required=True, metadata={"description": "The last answer"})
    suspended_at = fields.AwareDateTime(required=True)


_OUTCOME = {"message_id": "3d6e9f10-2a4b-4c5d-8e7f-9a0b1c2d3e4f", "event_id": "8b1f6c2e-0f3a-4d5b-9c7e-1a2b3c4d5e6f",
            "event_type": "household.verified", "recipient_kind": "person",
            "recipient_id": "0b6f4a8e-2f3c-4a51-9f0d-5d1c7f9e2a10", "channel": "sms",
            "agency": "Dinas Sosial Kabupaten Barito Timur", "attempts": 1}

MESSAGE_SENT = event_types.define(
    "message.sent", "notifications", MessageSent, example=dict(_OUTCOME, sent_at="2026-12-04T01:02:03+00:00"),
    description="A message left for its recipient: the gateway, the mail server or the partner took it.")
MESSAGE_FAILED = event_types.define(
    "message.failed", "notifications", MessageFailed,
    example=dict(_OUTCOME, attempts=8, reason="gateway answered 503 Service Unavailable"),
    description="A message was given up: every attempt failed, the recipient opted out or has no contact details.")
SUBSCRIPTION_SUSPENDED = event_types.define(
    "subscription.suspended", "notifications", SubscriptionSuspended,
    example={"subscription_id": "9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "agency": "Yayasan Peduli Kalimantan",
             "url": "https://hooks.peduli.or.id/setiakawan", "event_types": ["entitlement.issued"],
             "failures": 10, "reason": "partner answered 500 Internal Server Error",
             "suspended_at": "2026-12-04T01:02:03+00:00"},
    description="A partner's webhook subscription kept failing and was suspended; its owner is told.")
