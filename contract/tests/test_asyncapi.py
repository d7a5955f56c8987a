"""contracts/asyncapi.yaml is the contract package, published: the file in
the repository is what the generator makes from the schemas now, and every
message it describes (headers and payload) is one the wire accepts."""
import json
from pathlib import Path

import fastjsonschema
import pytest
import yaml
from setiakawan_contract import wire
from setiakawan_contract.asyncapi import dump_yaml
from setiakawan_contract.types import event_types

PUBLISHED = Path(__file__).resolve().parents[2] / "contracts" / "asyncapi.yaml"
PACKAGE_TYPES = [t for t in event_types if t.schema.__module__.startswith("setiakawan_contract.")]


@pytest.fixture(scope="module")
def published():
    if not PUBLISHED.exists():
        pytest.fail(f"{PUBLISHED} is missing: run 'make asyncapi'")
    return yaml.safe_load(PUBLISHED.read_text(encoding="utf-8"))


def test_the_published_document_is_what_the_schemas_make_now():
    assert PUBLISHED.read_text(encoding="utf-8") == dump_yaml(), (
        "contracts/asyncapi.yaml and the contract package disagree: run 'make asyncapi' and commit the file")


def test_every_event_type_has_a_channel_an_operation_and_a_message(published):
    messages = published["components"]["messages"]
    assert set(messages) == {f"{t.name}.v{t.version}" for t in PACKAGE_TYPES}
    for event_type in PACKAGE_TYPES:
        key = f"{event_type.name}.v{event_type.version}"
        exchange = "any.events" if event_type.source_service == "any" else f"{event_type.source_service}.events"
        channel = published["channels"][f"{exchange}/{event_type.name}"]
        assert channel["address"] == event_type.name
        assert channel["bindings"]["amqp"]["exchange"]["name"] == exchange
        assert channel["bindings"]["amqp"]["exchange"]["type"] == "topic"
        assert published["operations"][f"publish.{key}"]["action"] == "send"
        assert messages[key]["payload"]["additionalProperties"] is False


def test_every_reference_resolves(published):
    def refs(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    found = list(refs(published))
    assert found
    for ref in found:
        assert ref.startswith("#/")
        node = published
        for token in ref[2:].split("/"):
            node = node[token.replace("~1", "/").replace("~0", "~")]
        assert isinstance(node, dict), ref


@pytest.mark.parametrize("event_type", PACKAGE_TYPES, ids=lambda t: f"{t.name}.v{t.version}")
def test_each_example_follows_the_document_and_is_accepted_on_the_wire(published, event_type):
    message = published["components"]["messages"][f"{event_type.name}.v{event_type.version}"]
    (example,) = message["examples"]
    fastjsonschema.compile(message["payload"])(example["payload"])
    fastjsonschema.compile(message["headers"])(example["headers"])
    event = wire.from_message(example["headers"], message["contentType"],
                              json.dumps(example["payload"]).encode())
    assert event.type == event_type.name
    assert event.data == example["payload"]


def test_the_headers_refuse_what_the_wire_refuses(published):
    verified = event_types.get("registry", "household.verified")
    message = published["components"]["messages"][f"household.verified.v{verified.version}"]
    headers_schema = fastjsonschema.compile(message["headers"])
    headers = dict(message["examples"][0]["headers"])
    del headers["ce-agency"]
    with pytest.raises(fastjsonschema.JsonSchemaException):
        headers_schema(headers)
    with pytest.raises(wire.InvalidEvent):
        wire.from_message(headers, "application/json", json.dumps(message["examples"][0]["payload"]).encode())
