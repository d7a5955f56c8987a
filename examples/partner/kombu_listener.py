"""Setiakawan's events with kombu alone: no nameko and no Setiakawan kit,
only the contract package (to read and check each message) and the
partner account the platform's operator gave (`setiakawan broker
grant-partner wahana --read registry.events:household.verified`), which
may bind its own queues (partner-wahana.…) to the routing keys granted.

    python kombu_listener.py --amqp-uri "$PARTNER_WAHANA_AMQP_URI" \\
        --bind registry.events:household.verified --district 62.13

Each event is printed as one JSON line (or appended to --out) and acked;
one that does not follow the contract is rejected (our queue has no
dead-letter exchange, so it is dropped, and said so on stderr)."""
import argparse
import json
import os
import signal
import socket
import sys

import kombu
from setiakawan_contract import wire
from setiakawan_contract.types import InvalidEvent


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--amqp-uri", default=os.environ.get("PARTNER_WAHANA_AMQP_URI"),
                        help="the partner account's AMQP URI (default: $PARTNER_WAHANA_AMQP_URI)")
    parser.add_argument("--queue", default="partner-wahana.verified-households",
                        help="a durable queue of the partner's own (partner-<name>.…)")
    parser.add_argument("--bind", action="append", default=[], metavar="EXCHANGE:ROUTING_KEY",
                        help="what to bind the queue to (repeatable; default registry.events:household.verified)")
    parser.add_argument("--district", default="62.13", help="keep events of households of this regency only")
    parser.add_argument("--out", help="append each event as a JSON line to this file (default: standard output)")
    args = parser.parse_args(argv)
    if not args.amqp_uri:
        parser.error("--amqp-uri (or PARTNER_WAHANA_AMQP_URI) is required")
    args.bind = args.bind or ["registry.events:household.verified"]
    return args


def queue_of(args):
    bindings = []
    for item in args.bind:
        exchange, _, routing_key = item.partition(":")
        # passive: the exchange is the platform's; the partner may bind to it, not declare it
        bindings.append(kombu.binding(kombu.Exchange(exchange, type="topic", passive=True), routing_key=routing_key))
    return kombu.Queue(args.queue, bindings=bindings, durable=True, auto_delete=False)


def in_district(event, district):
    household = event.data.get("household") or {}
    return household.get("regency_code") == district or str(household.get("village_code", "")).startswith(
        district + ".")


def summary(event):
    household = event.data.get("household") or {}
    return {"id": event.id, "type": event.type, "source": event.source, "subject": event.subject,
            "time": event.time.isoformat(), "agency": event.agency, "household_id": household.get("household_id"),
            "village_code": household.get("village_code"), "decile": household.get("decile"),
            "version": household.get("version")}


def main(argv=None):
    args = parse_args(argv)
    out = open(args.out, "a", encoding="utf-8") if args.out else sys.stdout
    seen = set()  # a real partner keeps the ids it handled in its database: delivery is at least once
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))

    def on_message(message):
        try:
            event = wire.from_message(message.headers, message.content_type, message.body)
        except InvalidEvent as exc:
            print(f"rejected a message that does not follow the contract: {exc}", file=sys.stderr, flush=True)
            message.reject(requeue=False)
            return
        if event.id not in seen and in_district(event, args.district):
            out.write(json.dumps(summary(event), ensure_ascii=False) + "\n")
            out.flush()
        seen.add(event.id)
        message.ack()

    with kombu.Connection(args.amqp_uri, heartbeat=30) as conn:
        with conn.Consumer(queue_of(args), on_message=on_message, prefetch_count=50):
            print(f"listening on {args.queue}", file=sys.stderr, flush=True)
            while not stopping:
                try:
                    conn.drain_events(timeout=1)
                except socket.timeout:
                    conn.heartbeat_check()
                except KeyboardInterrupt:
                    break


if __name__ == "__main__":
    main()
