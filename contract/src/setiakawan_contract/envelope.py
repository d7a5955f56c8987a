"""The event envelope: CloudEvents 1.0 attributes plus Setiakawan's
extensions (``correlationid``, ``causationid``, ``agency``, and
``agencykind`` when the agency acted with a token that names its kind)."""
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from marshmallow import Schema, ValidationError, fields, validate

from .types import InvalidEvent, _instance

SPECVERSION = "1.0"
DATACONTENTTYPE = "application/json"
EXTENSIONS = ("correlationid", "causationid", "agency", "agencykind")
#: the kinds of agency a token names
AGENCY_KINDS = ("province", "district", "village", "ngo", "csr")


class EnvelopeSchema(Schema):
    id = fields.String(required=True, validate=validate.Length(1, 200))
    source = fields.String(required=True, validate=validate.Length(1, 500))
    type = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"))
    specversion = fields.String(required=True, validate=validate.Equal(SPECVERSION))
    time = fields.AwareDateTime(required=True, format="iso")
    subject = fields.String(required=True, validate=validate.Length(1, 500))
    datacontenttype = fields.String(load_default=DATACONTENTTYPE, validate=validate.Equal(DATACONTENTTYPE))
    dataschema = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9+.-]*:"))
    correlationid = fields.String(required=True, validate=validate.Length(1, 200))
    causationid = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 200))
    agency = fields.String(required=True, validate=validate.Length(1, 200))
    agencykind = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(AGENCY_KINDS))


def new_id():
    return str(uuid.uuid4())


def utcnow():
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Event:
    """An event: envelope attributes plus validated data."""

    id: str
    source: str
    type: str
    time: datetime
    subject: str
    dataschema: str
    correlationid: str
    agency: str
    data: dict
    causationid: str = None
    agencykind: str = None
    specversion: str = SPECVERSION
    datacontenttype: str = DATACONTENTTYPE
    extra: dict = field(default_factory=dict)
    #: the data as it came on the wire (JSON text), for a consumer that stores it as it is
    body: str = field(default=None, compare=False, repr=False)

    def attributes(self):
        return {
            "id": self.id, "source": self.source, "type": self.type,
            "specversion": self.specversion, "time": self.time, "subject": self.subject,
            "datacontenttype": self.datacontenttype, "dataschema": self.dataschema,
            "correlationid": self.correlationid, "causationid": self.causationid,
            "agency": self.agency, "agencykind": self.agencykind,
        }

    def with_data(self, data):
        return replace(self, data=data)


def source_of(service):
    """The CloudEvents ``source`` of a service's events."""
    return f"/setiakawan/{service}"


def make_event(event_type, subject, data, *, service, agency, correlationid=None,
               causationid=None, event_id=None, time=None, plain=False, agencykind=None):
    """Build an event of ``event_type`` from ``service``; refuses data that
    fails the schema, and a type the service may not publish."""
    if not event_type.may_be_published_by(service):
        raise ValueError(f"{service} cannot publish {event_type.source_service}'s {event_type.name}")
    checked = event_type.dump(data, plain=plain)
    event_id = event_id or new_id()
    return Event(
        id=event_id, source=source_of(service), type=event_type.name,
        time=time or utcnow(), subject=str(subject), dataschema=event_type.dataschema_for(service),
        correlationid=correlationid or event_id, causationid=causationid,
        agency=agency, agencykind=agencykind, data=checked,
    )


def load_envelope(attributes):
    """Validate envelope attributes (strings as on the wire) into a dict."""
    try:
        return _instance(EnvelopeSchema).load(attributes, unknown="exclude")
    except ValidationError as exc:
        raise InvalidEvent("envelope does not match the CloudEvents contract",
                           exc.normalized_messages()) from None
