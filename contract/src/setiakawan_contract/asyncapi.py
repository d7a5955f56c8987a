"""The contract as an AsyncAPI 3.0 document (``contracts/asyncapi.yaml`` in
the repository): every event type of this package with the JSON Schema of
its data, the exchange and routing key that carry it, and the headers of
the CloudEvents RabbitMQ binding (binary mode). Generated, never edited:
``python -m setiakawan_contract --asyncapi`` writes it, and the contract's
tests fail when the file and the schemas disagree."""
import yaml

from .envelope import AGENCY_KINDS, SPECVERSION, source_of
from .jsonschema import json_schema
from .types import ANY, event_types, exchange_name

_PACKAGE = __name__.rpartition(".")[0]
ASYNCAPI_VERSION = "3.0.0"
AMQP_BINDING_VERSION = "0.3.0"
DOCUMENT_VERSION = "1.0.0"

DESCRIPTION = f"""\
The events Setiakawan's services publish on RabbitMQ, for partners who
consume them (with kombu, nameko or any AMQP 0-9-1 client) or publish their own.

**Where events are.** Each service publishes to its own durable topic
exchange `<service>.events` (`registry.events`, `training.events`,
`distribution.events`, `notifications.events`), with the event type as the
routing key (`household.verified`). `diagnostic.ping`, which any service
may send on its own exchange, also reaches `any.events`.

**How to bind a queue.** Your broker account (`partner-<name>`, made by
`setiakawan broker grant-partner`) may declare durable queues named
`partner-<name>.<anything>` and bind them to the exchanges and routing keys
it was granted: declare the exchange passively (it exists), declare your
queue, and bind it with the event type as routing key
(`queue_bind(queue, exchange="registry.events", routing_key="household.verified")`).
Consume with manual acknowledgement; ack once the event is handled; handle each `ce-id`
once (events are delivered at least once, and may arrive out of
order: snapshots carry a `version`, keep the highest).

**The message.** CloudEvents {SPECVERSION}, RabbitMQ protocol binding in
binary content mode: the attributes are AMQP headers prefixed `ce-`, the
AMQP `content_type` property is the `datacontenttype` (`application/json`),
and the body is the event's `data` as JSON. `ce-dataschema`
(`urn:setiakawan:<service>:<type>:v<version>`) names the schema the data
follows; a new incompatible version gets a new number, published beside
the old one while consumers move. Events carry opaque references and keyed
hashes, never a NIK, a name or a phone number.
"""


def document():
    """The AsyncAPI document, as a dict (keys in a stable order)."""
    types = [t for t in event_types if t.schema.__module__.startswith(_PACKAGE + ".")]
    channels, operations, messages = {}, {}, {}
    for event_type in types:
        key = _key(event_type)
        channel_id = f"{exchange_name(event_type.source_service)}/{event_type.name}"
        messages[key] = _message(event_type)
        channels[channel_id] = {
            "address": event_type.name,
            "title": f"{event_type.name} on {exchange_name(event_type.source_service)}",
            "description": (f"Routing key `{event_type.name}` on the topic exchange "
                            f"`{exchange_name(event_type.source_service)}`"
                            + (": every service sends it on its own `<service>.events`, bound to `any.events`."
                               if event_type.source_service == ANY else ".")),
            "messages": {key: {"$ref": f"#/components/messages/{key}"}},
            "bindings": {"amqp": {
                "is": "routingKey",
                "exchange": {"name": exchange_name(event_type.source_service), "type": "topic",
                             "durable": True, "autoDelete": False, "vhost": "/"},
                "bindingVersion": AMQP_BINDING_VERSION}},
        }
        operations[f"publish.{key}"] = {
            "action": "send",
            "title": f"Publish {event_type.name}",
            "summary": event_type.description or event_type.name,
            "channel": {"$ref": f"#/channels/{_escape(channel_id)}"},
            "messages": [{"$ref": f"#/channels/{_escape(channel_id)}/messages/{key}"}],
            "bindings": {"amqp": {"deliveryMode": 2, "ack": True, "bindingVersion": AMQP_BINDING_VERSION}},
        }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Setiakawan events",
            "version": DOCUMENT_VERSION,
            "description": DESCRIPTION,
            "license": {"name": "Apache-2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0"},
        },
        "defaultContentType": "application/json",
        "servers": {
            "rabbitmq": {
                "host": "{host}:{port}",
                "protocol": "amqp",
                "protocolVersion": "0.9.1",
                "description": "The platform's RabbitMQ. Each service and partner has an account of its own, "
                               "allowed only the exchanges and routing keys it needs.",
                "variables": {"host": {"default": "127.0.0.1"}, "port": {"default": "5672"}},
                "security": [{"$ref": "#/components/securitySchemes/brokerAccount"}],
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "securitySchemes": {"brokerAccount": {
                "type": "userPassword",
                "description": "A broker account per service and partner (`setiakawan broker setup`, "
                               "`setiakawan broker grant-partner`)."}},
        },
    }


class _Dumper(yaml.SafeDumper):
    pass


def _text(dumper, value):
    # multi-line text as a literal block, readable in the file and in a diff
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _text)


def dump_yaml(doc=None):
    return yaml.dump(document() if doc is None else doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     width=100)


def _key(event_type):
    return f"{event_type.name}.v{event_type.version}"


def _escape(channel_id):
    # a JSON Pointer token: '~' then '/' escaped (RFC 6901)
    return channel_id.replace("~", "~0").replace("/", "~1")


def _message(event_type):
    return {
        "name": event_type.name,
        "title": f"{event_type.name} v{event_type.version}",
        "summary": event_type.description or event_type.name,
        "contentType": "application/json",
        "correlationId": {"description": "The request or import that led to the event.",
                          "location": "$message.header#/ce-correlationid"},
        "headers": _headers(event_type),
        "payload": json_schema(event_type.schema),
        "examples": [{"name": "example", "headers": _example_headers(event_type),
                      "payload": event_type.example}],
        "bindings": {"amqp": {"messageType": event_type.name, "bindingVersion": AMQP_BINDING_VERSION}},
    }


def _headers(event_type):
    any_source = event_type.source_service == ANY
    source = ({"type": "string", "pattern": "^/setiakawan/[a-z0-9_-]+$"} if any_source
              else {"const": source_of(event_type.source_service)})
    dataschema = ({"type": "string", "pattern": rf"^urn:setiakawan:[a-z0-9_-]+:{event_type.name}:v{event_type.version}$"}
                  if any_source else {"const": event_type.dataschema})
    properties = {
        "ce-id": {"type": "string", "minLength": 1, "maxLength": 200,
                  "description": "Unique per event: handle each id once."},
        "ce-source": dict(source, description="/setiakawan/<publishing service>"),
        "ce-type": {"const": event_type.name},
        "ce-specversion": {"const": SPECVERSION},
        "ce-time": {"type": "string", "format": "date-time"},
        "ce-subject": {"type": "string", "minLength": 1, "maxLength": 500,
                       "description": "The id of the thing the event is about."},
        "ce-dataschema": dict(dataschema, description="urn:setiakawan:<service>:<type>:v<version>"),
        "ce-correlationid": {"type": "string", "minLength": 1, "maxLength": 200},
        "ce-causationid": {"type": "string", "minLength": 1, "maxLength": 200,
                           "description": "The event that caused this one, if any."},
        "ce-agency": {"type": "string", "minLength": 1, "maxLength": 200,
                      "description": "The agency on whose behalf the event was published."},
        "ce-agencykind": {"enum": list(AGENCY_KINDS),
                          "description": "The kind of that agency, as its token names it; absent when a "
                                         "service acted on its own (an event handled, a timer)."},
    }
    required = [name for name in properties if name not in ("ce-causationid", "ce-agencykind")]
    return {"type": "object", "properties": properties, "required": required}


def _example_headers(event_type):
    service = "registry" if event_type.source_service == ANY else event_type.source_service
    return {
        "ce-id": "0b6f3c1e-6a43-4d39-9f7e-3f1d2a7c5e10",
        "ce-source": source_of(service),
        "ce-type": event_type.name,
        "ce-specversion": SPECVERSION,
        "ce-time": "2026-12-03T02:15:00Z",
        "ce-subject": "example",
        "ce-dataschema": event_type.dataschema_for(service),
        "ce-correlationid": "0b6f3c1e-6a43-4d39-9f7e-3f1d2a7c5e10",
        "ce-agency": "Dinas Sosial Kabupaten Barito Timur",
        "ce-agencykind": "district",
    }
