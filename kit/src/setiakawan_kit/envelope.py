"""The event envelope: CloudEvents 1.0 attributes plus Setiakawan's
extensions, and the registry of event types with their versioned schemas."""
import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from decimal import Decimal

from fastjsonschema import JsonSchemaException
from marshmallow import Schema, ValidationError, fields, validate

from .jsonschema import validator

SPECVERSION = "1.0"
DATACONTENTTYPE = "application/json"
EXTENSIONS = ("correlationid", "causationid", "agency")


class UnknownEventType(LookupError):
    pass


class InvalidEvent(ValueError):
    """An event whose envelope or data does not match the contract."""

    def __init__(self, message, errors=None):
        super().__init__(message)
        self.errors = errors or {}


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


@dataclass(frozen=True)
class EventType:
    """One kind of event on the wire: its CloudEvents type (also the AMQP
    routing key), the service whose exchange carries it, a schema version and
    the marshmallow schema of its ``data``."""

    name: str
    source_service: str
    version: int
    schema: type
    description: str = ""
    example: dict = None  # sample data, for the published contract and its tests

    def __hash__(self):
        return hash((self.source_service, self.name, self.version))

    @property
    def dataschema(self):
        return f"urn:setiakawan:{self.source_service}:{self.name}:v{self.version}"

    def validate(self, data):
        try:
            return _instance(self.schema).load(data)
        except ValidationError as exc:
            raise InvalidEvent(f"{self.name} v{self.version}: data does not match its schema",
                               exc.normalized_messages()) from None

    def dump(self, data, plain=False):
        """Data as JSON values (UUIDs and dates as strings), after checking
        the JSON form against the schema's compiled JSON Schema: what is
        checked is what is sent. ``plain=True`` says ``data`` holds only JSON
        values already (str, int, float, bool, None, lists, dicts)."""
        if not plain:
            data = json.loads(json.dumps(data, default=_json_value))
        try:
            validator(self.schema)(data)
        except JsonSchemaException as exc:
            raise InvalidEvent(f"{self.name} v{self.version}: data does not match its schema",
                               {(exc.name or "data").removeprefix("data.") or "data": [exc.message]}) from None
        return data


class EventTypes:
    """Registry of event types, keyed by (publishing service, name, version)."""

    def __init__(self):
        self._types = {}

    def register(self, event_type):
        key = (event_type.source_service, event_type.name, event_type.version)
        existing = self._types.get(key)
        if existing is not None and existing != event_type:
            raise ValueError(f"event type {key} registered twice with different definitions")
        self._types[key] = event_type
        return event_type

    def define(self, name, source_service, schema, version=1, description="", example=None):
        if example is None:
            raise ValueError(f"event type {name} needs an example of its data")
        return self.register(EventType(name, source_service, version, schema, description, example))

    def get(self, source_service, name, version=None):
        """The given version, or the newest one when version is None."""
        candidates = [t for (s, n, v), t in self._types.items()
                      if s == source_service and n == name and version in (None, v)]
        if not candidates:
            raise UnknownEventType(f"{source_service}:{name}" + (f" v{version}" if version else ""))
        return max(candidates, key=lambda t: t.version)

    def by_dataschema(self, dataschema):
        for event_type in self._types.values():
            if event_type.dataschema == dataschema:
                return event_type
        raise UnknownEventType(dataschema)

    def __iter__(self):
        return iter(sorted(self._types.values(), key=lambda t: (t.source_service, t.name, t.version)))


#: Every event type of the published contract; importing
#: ``setiakawan_kit.contract`` fills it.
event_types = EventTypes()


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
    specversion: str = SPECVERSION
    datacontenttype: str = DATACONTENTTYPE
    extra: dict = field(default_factory=dict)

    def attributes(self):
        return {
            "id": self.id, "source": self.source, "type": self.type,
            "specversion": self.specversion, "time": self.time, "subject": self.subject,
            "datacontenttype": self.datacontenttype, "dataschema": self.dataschema,
            "correlationid": self.correlationid, "causationid": self.causationid,
            "agency": self.agency,
        }

    def with_data(self, data):
        return replace(self, data=data)


def source_of(service):
    """The CloudEvents ``source`` of a service's events."""
    return f"/setiakawan/{service}"


def make_event(event_type, subject, data, *, service, agency, correlationid=None,
               causationid=None, event_id=None, time=None, plain=False):
    """Build an event of ``event_type``; refuses data that fails the schema."""
    checked = event_type.dump(data, plain=plain)
    event_id = event_id or new_id()
    return Event(
        id=event_id, source=source_of(service), type=event_type.name,
        time=time or utcnow(), subject=str(subject), dataschema=event_type.dataschema,
        correlationid=correlationid or event_id, causationid=causationid,
        agency=agency, data=checked,
    )


def load_envelope(attributes):
    """Validate envelope attributes (strings as on the wire) into a dict."""
    try:
        return _instance(EnvelopeSchema).load(attributes, unknown="exclude")
    except ValidationError as exc:
        raise InvalidEvent("envelope does not match the CloudEvents contract",
                           exc.normalized_messages()) from None


_instances = {}


def _instance(schema_class):
    # Building a marshmallow schema copies its fields: do it once per class.
    instance = _instances.get(schema_class)
    if instance is None:
        instance = _instances[schema_class] = schema_class()
    return instance


def _json_value(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not a JSON value")
