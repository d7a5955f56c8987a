from datetime import datetime, timezone

import pytest
from marshmallow import Schema, fields

from setiakawan_contract import EventTypes, InvalidEvent, make_event, wire


class Sample(Schema):
    household_id = fields.UUID(required=True)
    size = fields.Integer(required=True)


@pytest.fixture
def types():
    registry = EventTypes()
    registry.define("household.registered", "registry", Sample,
                    example={"household_id": "7c0e7a34-5f55-4a4a-8d59-7e2f7c2a0a11", "size": 4})
    return registry


def sample_event(types, **data):
    event_type = types.get("registry", "household.registered")
    data = {"household_id": "7c0e7a34-5f55-4a4a-8d59-7e2f7c2a0a11", "size": 4, **data}
    return make_event(event_type, "hh-1", data, service="registry", agency="Dinsos Bartim",
                      causationid="cause-1")


def test_event_carries_cloudevents_attributes_and_extensions(types):
    event = sample_event(types)
    assert event.specversion == "1.0" and event.type == "household.registered"
    assert event.source == "/setiakawan/registry"
    assert event.dataschema == "urn:setiakawan:registry:household.registered:v1"
    assert event.correlationid == event.id  # a new chain starts with its own id
    assert event.data == {"household_id": "7c0e7a34-5f55-4a4a-8d59-7e2f7c2a0a11", "size": 4}
    assert event.time.tzinfo is not None


def test_event_that_does_not_match_its_schema_cannot_be_made(types):
    with pytest.raises(InvalidEvent) as info:
        sample_event(types, size="four")
    assert "size" in info.value.errors
    with pytest.raises(InvalidEvent):
        sample_event(types, extra_field=1)


def test_wire_round_trip_in_binary_mode(types):
    event = sample_event(types)
    headers, content_type, body = wire.to_message(event)
    assert headers["ce-id"] == event.id and headers["ce-causationid"] == "cause-1"
    assert headers["ce-time"].endswith("Z")
    assert "ce-datacontenttype" not in headers and content_type == "application/json"
    assert wire.from_message(headers, content_type, body, types) == event


def test_wire_rejects_what_is_not_the_contract(types):
    headers, content_type, body = wire.to_message(sample_event(types))
    with pytest.raises(InvalidEvent, match="not valid JSON"):
        wire.from_message(headers, content_type, b"{", types)
    with pytest.raises(InvalidEvent, match="envelope"):
        wire.from_message({k: v for k, v in headers.items() if k != "ce-source"}, content_type, body, types)
    with pytest.raises(InvalidEvent, match="unknown event type"):
        wire.from_message(dict(headers, **{"ce-dataschema": "urn:x:y:z:v1"}), content_type, body, types)
    with pytest.raises(InvalidEvent, match="does not match dataschema"):
        wire.from_message(dict(headers, **{"ce-type": "household.moved"}), content_type, body, types)
    with pytest.raises(InvalidEvent, match="schema"):
        wire.from_message(headers, content_type, b'{"size": 2}', types)


def test_registry_keeps_versions_apart_and_refuses_conflicting_definitions(types):
    v2 = types.define("household.registered", "registry", Sample, version=2,
                      example={"household_id": "7c0e7a34-5f55-4a4a-8d59-7e2f7c2a0a11", "size": 1})
    assert types.get("registry", "household.registered") is v2
    assert types.get("registry", "household.registered", 1).version == 1
    with pytest.raises(ValueError):
        types.define("household.registered", "registry", Schema, version=2, example={})
    with pytest.raises(ValueError, match="example"):
        types.define("household.moved", "registry", Sample)


def test_contract_examples_match_their_schemas():
    from setiakawan_contract import event_types

    for event_type in event_types:
        assert event_type.validate(event_type.example) is not None
        make_event(event_type, "s", event_type.example, service=event_type.source_service, agency="a",
                   time=datetime(2026, 1, 1, tzinfo=timezone.utc))


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_body_with_a_number_json_has_not_is_refused(constant):
    from setiakawan_contract import event_types

    event_type = next(t for t in event_types if t.name == "household.verified")
    event = make_event(event_type, "s", event_type.example, service=event_type.source_service, agency="a")
    headers, content_type, body = wire.to_message(event)
    broken = body.replace(b'"welfare_score":23.5', f'"welfare_score":{constant}'.encode())
    assert broken != body
    with pytest.raises(InvalidEvent, match="not a JSON value"):
        wire.from_message(headers, content_type, broken)
