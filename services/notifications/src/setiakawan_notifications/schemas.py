"""HTTP bodies and answers of the notifications service (the OpenAPI
document describes them from these schemas)."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from lokal import normalize_phone

from setiakawan_contract.notifications import CHANNELS as ALL_CHANNELS, RECIPIENT_KINDS
from setiakawan_kit.regions import region

from .rules import messages as templates, routing

STATUSES = ("queued", "sent", "delivered", "failed", "dead")
LANGUAGE = fields.String(load_default="id", validate=validate.OneOf(templates.LANGUAGES),
                         metadata={"description": "id (Bahasa Indonesia) or en"})


def _not_blank(text):
    if not text.strip():
        raise ValidationError("Must not be blank.")


TEXT = validate.And(validate.Length(1, 200), _not_blank)


class RuleIn(Schema):
    channels = fields.List(fields.String(validate=validate.OneOf(routing.CHANNELS)), required=True,
                           validate=validate.Length(1, 3), metadata={"description": "Tried in this order"})
    template = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 100),
                             metadata={"description": "The event type whose template is used (default: this one)"})
    language = LANGUAGE
    urgent = fields.Boolean(load_default=False, metadata={"description": "Goes out in quiet hours (21:00-06:00) too"})
    enabled = fields.Boolean(load_default=True)


class RuleOut(Schema):
    event_type = fields.String()
    recipient = fields.String(metadata={"enum": list(routing.RECIPIENTS)})
    channels = fields.List(fields.String())
    template = fields.String()
    language = fields.String()
    urgent = fields.Boolean()
    enabled = fields.Boolean()
    updated_by = fields.String()
    updated_at = fields.DateTime()


class ContactIn(Schema):
    name = fields.String(required=True, validate=TEXT, metadata={"description": "Who or which desk, e.g. Bidang Linjamsos"})
    channel = fields.String(required=True, validate=validate.OneOf(routing.CHANNELS))
    address = fields.String(required=True, validate=validate.Length(3, 254),
                            metadata={"description": "An email address, or a phone number for sms/whatsapp"})
    language = LANGUAGE
    region_codes = fields.List(fields.String(validate=region), load_default=list, validate=validate.Length(max=50),
                               metadata={"description": "Only events in these regions (empty: all)"})
    event_types = fields.List(fields.String(validate=validate.OneOf(routing.ROUTABLE)), load_default=list,
                              validate=validate.Length(max=50), metadata={"description": "Only these (empty: all)"})

    @validates_schema
    def address_fits_channel(self, data, **kwargs):
        if data["channel"] == "email":
            try:
                validate.Email(error="Not an email address.")(data["address"])
            except ValidationError as exc:
                raise ValidationError({"address": exc.messages}) from None
        elif normalize_phone(data["address"]) is None:
            raise ValidationError({"address": ["Not an Indonesian phone number."]})


class ContactOut(Schema):
    id = fields.UUID()
    agency = fields.String()
    name = fields.String()
    channel = fields.String()
    address = fields.String()
    language = fields.String()
    region_codes = fields.List(fields.String())
    event_types = fields.List(fields.String())
    created_at = fields.DateTime()


class SubscriptionIn(Schema):
    url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False, validate=validate.Length(max=2000),
                     metadata={"description": "Receives a POST of each event (structured CloudEvent, Standard "
                                              "Webhooks headers); HTTPS to a public address in production"})
    event_types = fields.List(fields.String(validate=validate.OneOf(routing.SUBSCRIBABLE)), required=True,
                              validate=validate.Length(1, 50))
    region_codes = fields.List(fields.String(validate=region), required=True, validate=validate.Length(1, 50),
                               metadata={"description": "Events in these regions (within your agency's)"})


class SubscriptionOut(Schema):
    id = fields.UUID()
    agency = fields.String()
    url = fields.String()
    event_types = fields.List(fields.String())
    region_codes = fields.List(fields.String())
    status = fields.String(metadata={"enum": ["active", "suspended"]})
    failures = fields.Integer(metadata={"description": "Deliveries failed in a row"})
    suspended_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class SubscriptionCreated(SubscriptionOut):
    secret = fields.String(metadata={"description": "whsec_…: verify each webhook with it (shown only now)"})


class OptOutIn(Schema):
    person_ref = fields.UUID(required=True)
    channels = fields.List(fields.String(validate=validate.OneOf(routing.PHONE_CHANNELS)), required=True,
                           validate=validate.Length(1, 2))


class OptOutChannel(Schema):
    channel = fields.String()
    source = fields.String(metadata={"enum": ["api", "reply"]})
    recorded_by = fields.String()
    recorded_at = fields.DateTime()


class OptOutsOut(Schema):
    person_ref = fields.UUID()
    channels = fields.List(fields.Nested(OptOutChannel))


class MessageQuery(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    event_type = fields.String(validate=validate.Length(1, 100))
    channel = fields.String(validate=validate.OneOf(ALL_CHANNELS))
    recipient_id = fields.UUID()
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 500))


class MessageOut(Schema):
    id = fields.UUID()
    event_id = fields.String()
    event_type = fields.String()
    recipient_kind = fields.String(metadata={"enum": list(RECIPIENT_KINDS)})
    recipient_id = fields.UUID()
    route = fields.String()
    channels = fields.List(fields.String())
    channel = fields.String()
    language = fields.String()
    urgent = fields.Boolean()
    agency = fields.String()
    village_code = fields.String(allow_none=True)
    subject = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(STATUSES)})
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime()
    masked_address = fields.String(allow_none=True, metadata={"description": "0812****7890, b***@example.org or a "
                                                                             "webhook's host; never the whole"})
    answer = fields.String(allow_none=True, metadata={"description": "The last answer of the gateway, mail server "
                                                                     "or partner"})
    gateway_id = fields.String(allow_none=True)
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime()


class MessagePage(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    items = fields.List(fields.Nested(MessageOut))


class InboundOut(Schema):
    outcome = fields.String(metadata={"enum": ["recorded", "already recorded", "unknown message", "opted out",
                                               "ignored"]})
