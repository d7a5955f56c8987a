"""``python -m setiakawan_contract``: every installed event type with the
JSON Schema of its data, as JSON (what ``setiakawan contract --json`` prints)."""
import json

from .jsonschema import json_schema
from .types import event_types, exchange_name


def describe():
    return [{"type": t.name, "source": t.source_service, "exchange": exchange_name(t.source_service),
             "routing_key": t.name, "version": t.version, "dataschema": t.dataschema,
             "description": t.description, "example": t.example, "data": json_schema(t.schema)}
            for t in event_types]


if __name__ == "__main__":
    print(json.dumps(describe(), indent=2, ensure_ascii=False))
