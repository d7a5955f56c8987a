"""JSON Schema of a marshmallow schema (apispec's converter, made strict:
no properties beyond the declared ones, as marshmallow refuses them), and a
compiled validator for it (fastjsonschema). The marshmallow schema stays the
one definition; this is how the contract is published to partners, and how
the outbox checks events at a few microseconds each instead of the
hundred-odd a marshmallow load of a nested schema costs."""
import re
from datetime import datetime

import fastjsonschema
from apispec.ext.marshmallow.openapi import OpenAPIConverter

_converter = OpenAPIConverter("3.1.0", lambda schema: None, None)
_compiled = {}


def json_schema(schema_class):
    return _strict(_converter.schema2jsonschema(schema_class))


def validator(schema_class):
    compiled = _compiled.get(schema_class)
    if compiled is None:
        compiled = _compiled[schema_class] = fastjsonschema.compile(json_schema(schema_class),
                                                                    formats={"date-time": _date_time})
    return compiled


_DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)$")


def _date_time(value):
    """RFC 3339 with its offset, and a time that exists (no leap second, as
    marshmallow's AwareDateTime and Python's datetime have none)."""
    if not _DATE_TIME.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _strict(node):
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            node["additionalProperties"] = False
        for value in node.values():
            _strict(value)
    elif isinstance(node, list):
        for value in node:
            _strict(value)
    return node
