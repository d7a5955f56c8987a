"""The outbox checks events before sending, and consumers on receipt, with
a JSON Schema compiled from each marshmallow schema (the one definition).
The two must agree on every event type of the contract: on its example, and
on broken copies of it (missing, unknown and mistyped keys, impossible
dates, malformed references, values out of range)."""
import copy

import pytest
from marshmallow import ValidationError

from setiakawan_contract import event_types
from setiakawan_contract.types import InvalidEvent, _instance


def mutations(example):
    """Broken copies: each required key dropped, an unknown key added, each
    value replaced by one of the wrong type, recursively into objects and lists."""
    def walk(node, path):
        if isinstance(node, dict):
            for key in list(node):
                yield path + [key], "drop", None
                yield path + [key], "set", {"not": "this"}
                if isinstance(node[key], str):
                    yield path + [key], "set", "2026-02-31"
                    yield path + [key], "set", "2026-12-31T23:59:60Z"
                    yield path + [key], "set", "2026-12-31T23:59:59"
                    yield path + [key], "set", "not 62.13"
                elif isinstance(node[key], int) and not isinstance(node[key], bool):
                    yield path + [key], "set", -1
                    yield path + [key], "set", 10 ** 13
                yield from walk(node[key], path + [key])
            yield path + ["unexpected_field"], "set", 1
        elif isinstance(node, list) and node:
            yield from walk(node[0], path + [0])

    for path, action, value in walk(example, []):
        broken = copy.deepcopy(example)
        target = broken
        for key in path[:-1]:
            target = target[key]
        if action == "drop":
            del target[path[-1]]
        else:
            target[path[-1]] = value
        yield ".".join(map(str, path)) + f":{action}", broken


def marshmallow_accepts(event_type, data):
    try:
        _instance(event_type.schema).load(data)
        return True
    except ValidationError:
        return False


def compiled_accepts(event_type, data):
    try:
        event_type.dump(data)
        return True
    except InvalidEvent:
        return False


@pytest.mark.parametrize("event_type", list(event_types), ids=lambda t: t.dataschema)
def test_compiled_schema_and_marshmallow_agree(event_type):
    assert marshmallow_accepts(event_type, event_type.example)
    assert compiled_accepts(event_type, event_type.example)
    for label, broken in mutations(event_type.example):
        assert marshmallow_accepts(event_type, broken) == compiled_accepts(event_type, broken), label
