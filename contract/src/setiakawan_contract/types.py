"""Event types: each kind of event on the wire, with the versioned
marshmallow schema of its data, and the registry that knows them all.

The registry loads every installed contract (the packages that name a
module under the ``setiakawan.contracts`` entry point: this package's own,
and a partner's) the first time it is asked, so whether a message is valid
never depends on which modules a process happened to import."""
import json
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from importlib.metadata import entry_points

from fastjsonschema import JsonSchemaException

from .jsonschema import validator

#: the source of an event type any service may publish (``diagnostic.ping``)
ANY = "any"
ENTRY_POINT_GROUP = "setiakawan.contracts"
_DATASCHEMA = re.compile(r"^urn:setiakawan:(?P<source>[^:]+):(?P<name>[^:]+):v(?P<version>\d+)$")


class UnknownEventType(LookupError):
    pass


class InvalidEvent(ValueError):
    """An event whose envelope or data does not match the contract."""

    def __init__(self, message, errors=None):
        super().__init__(message)
        self.errors = errors or {}


def exchange_name(service):
    """The topic exchange a service publishes its events to (routing key:
    the event type). Events of ``any`` source also reach ``any.events``."""
    return f"{service}.events"


@dataclass(frozen=True)
class EventType:
    """One kind of event on the wire: its CloudEvents type (also the AMQP
    routing key), the service whose exchange carries it (``ANY``: every
    service may publish it, on its own exchange), a schema version and the
    marshmallow schema of its ``data``."""

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
        return self.dataschema_for(self.source_service)

    def dataschema_for(self, service):
        """``urn:setiakawan:<service>:<type>:v<version>``, as an event from ``service`` carries it."""
        return f"urn:setiakawan:{service}:{self.name}:v{self.version}"

    def may_be_published_by(self, service):
        return self.source_service in (service, ANY)

    def validate(self, data):
        """Check data as received (JSON values) against the compiled JSON
        Schema, the check ``dump`` makes before sending and the contract
        partners hold: a marshmallow load of a nested snapshot costs a
        consumer more than the rest of handling the event."""
        return self.dump(data, plain=True)

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

    def __init__(self, load_installed=False):
        self._types = {}
        self._to_load = load_installed

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
        """The given version, or the newest one when version is None; a type
        of ``ANY`` source answers for every service."""
        self._load_installed()
        for source in (source_service, ANY):
            candidates = [t for (s, n, v), t in self._types.items()
                          if s == source and n == name and version in (None, v)]
            if candidates:
                return max(candidates, key=lambda t: t.version)
        raise UnknownEventType(f"{source_service}:{name}" + (f" v{version}" if version else ""))

    def by_dataschema(self, dataschema):
        match = _DATASCHEMA.match(dataschema or "")
        if match is None:
            raise UnknownEventType(dataschema)
        return self.get(match["source"], match["name"], int(match["version"]))

    def __iter__(self):
        self._load_installed()
        return iter(sorted(self._types.values(), key=lambda t: (t.source_service, t.name, t.version)))

    def _load_installed(self):
        if self._to_load:
            self._to_load = False
            for entry in entry_points(group=ENTRY_POINT_GROUP):
                entry.load()


#: Every event type of every installed contract.
event_types = EventTypes(load_installed=True)

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
