"""Setiakawan's event contract: every event type its services put on the
wire, each with a versioned marshmallow schema for its data and an example;
the CloudEvents envelope and its RabbitMQ binding (binary mode); the JSON
Schema of every type. It needs neither nameko nor eventlet: a partner
installs it alone to read or publish events, and registers event types of
its own from its own package (entry point group ``setiakawan.contracts``)."""
from .envelope import Event, make_event, source_of
from .types import ANY, EventType, EventTypes, InvalidEvent, UnknownEventType, event_types, exchange_name

__version__ = "1.0.0"

__all__ = ["ANY", "Event", "EventType", "EventTypes", "InvalidEvent", "UnknownEventType", "event_types",
           "exchange_name", "make_event", "source_of"]
