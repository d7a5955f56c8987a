"""Events on the wire: the CloudEvents RabbitMQ protocol binding, binary
content mode (``ce-`` headers, data as the JSON body, ``content_type`` holding
``datacontenttype``). nameko's ``@event_handler`` receives the body as usual."""
import json

from .envelope import Event, load_envelope
from .types import InvalidEvent, event_types

CE = "ce-"


def to_message(event):
    """(headers, content_type, body) for one event."""
    headers = {}
    for name, value in event.attributes().items():
        if value is None or name == "datacontenttype":
            continue
        if name == "time":
            value = value.isoformat().replace("+00:00", "Z")
        headers[CE + name] = str(value)
    body = json.dumps(event.data, separators=(",", ":"), ensure_ascii=False).encode()
    return headers, event.datacontenttype, body


def from_message(headers, content_type, body, types=event_types):
    """Parse and validate one message into an Event; raises InvalidEvent."""
    try:
        attributes = {k[len(CE):].lower(): _text(v) for k, v in (headers or {}).items()
                      if k.lower().startswith(CE)}
    except UnicodeDecodeError:
        raise InvalidEvent("a ce- header is not UTF-8 text") from None
    attributes["datacontenttype"] = content_type or "application/json"
    envelope = load_envelope(attributes)
    try:
        event_type = types.by_dataschema(envelope["dataschema"])
    except LookupError:
        raise InvalidEvent(f"unknown event type {envelope['type']!r} ({envelope['dataschema']})") from None
    if event_type.name != envelope["type"]:
        raise InvalidEvent(f"type {envelope['type']!r} does not match dataschema {envelope['dataschema']!r}")
    try:
        if isinstance(body, (bytes, bytearray, memoryview)):
            body = bytes(body).decode()
        data = json.loads(body, parse_constant=_not_json)
    except (ValueError, TypeError, RecursionError) as exc:
        raise InvalidEvent(f"body is not valid JSON: {type(exc).__name__}: {exc}") from None
    event_type.validate(data)  # the JSON as received is what the handler gets
    extra = {k: v for k, v in attributes.items() if k not in envelope}
    return Event(data=data, extra=extra, body=body, **envelope)


def _not_json(name):
    # Python's json reads NaN and Infinity, which JSON has not (and a range check lets NaN through)
    raise ValueError(f"{name} is not a JSON value")


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)
