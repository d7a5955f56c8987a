"""``python -m setiakawan_contract``: every installed event type with the
JSON Schema of its data, as JSON (what ``setiakawan contract --json`` prints);
``--asyncapi [FILE]``: this package's contract as an AsyncAPI 3.0 document
(YAML), on standard output or written to FILE."""
import argparse
import json
import sys

from .jsonschema import json_schema
from .types import event_types, exchange_name


def describe():
    return [{"type": t.name, "source": t.source_service, "exchange": exchange_name(t.source_service),
             "routing_key": t.name, "version": t.version, "dataschema": t.dataschema,
             "description": t.description, "example": t.example, "data": json_schema(t.schema)}
            for t in event_types]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m setiakawan_contract", description=__doc__.split("\n\n")[0])
    parser.add_argument("--asyncapi", nargs="?", const="-", metavar="FILE",
                        help="print (or write to FILE) the AsyncAPI 3.0 document instead")
    args = parser.parse_args(argv)
    if args.asyncapi is None:
        print(json.dumps(describe(), indent=2, ensure_ascii=False))
        return
    from .asyncapi import dump_yaml

    text = dump_yaml()
    if args.asyncapi == "-":
        sys.stdout.write(text)
    else:
        with open(args.asyncapi, "w", encoding="utf-8") as out:
            out.write(text)


if __name__ == "__main__":
    main()
