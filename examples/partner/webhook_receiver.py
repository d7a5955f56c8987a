"""Setiakawan's webhooks, received: an HTTP server that verifies every
request with the published `standardwebhooks` package (HMAC-SHA256 over
id, timestamp and body, with the subscription's secret; a stale or
replayed request is refused) and handles each webhook id once.

    python webhook_receiver.py --port 8102 --subscribe http://127.0.0.1:8004 \\
        --token "$WAHANA_ADMIN_TOKEN" --event-type household.verified --region 62.13

With --subscribe it makes the subscription itself (POST /subscriptions on
the notifications service, with the NGO's own token) and keeps the secret
the answer holds; else give --secret. In production the platform sends
only to https addresses that are not private: put this behind a TLS
proxy with a public name."""
import argparse
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from standardwebhooks import Webhook, WebhookVerificationError


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8102)
    parser.add_argument("--secret", default=os.environ.get("WAHANA_WEBHOOK_SECRET"),
                        help="the subscription's whsec_… secret (default: $WAHANA_WEBHOOK_SECRET)")
    parser.add_argument("--subscribe", metavar="NOTIFICATIONS_URL", help="make the subscription first")
    parser.add_argument("--token", default=os.environ.get("WAHANA_ADMIN_TOKEN"),
                        help="the NGO admin's token, for --subscribe (default: $WAHANA_ADMIN_TOKEN)")
    parser.add_argument("--event-type", action="append", default=[], help="for --subscribe (repeatable)")
    parser.add_argument("--region", action="append", default=[], help="for --subscribe (repeatable)")
    parser.add_argument("--public-url", help="the address Setiakawan posts to (default http://HOST:PORT/webhooks)")
    parser.add_argument("--out", help="append each verified webhook as a JSON line (default: standard output)")
    args = parser.parse_args(argv)
    if not args.subscribe and not args.secret:
        parser.error("give --secret, or --subscribe to make a subscription")
    if args.subscribe and not args.token:
        parser.error("--subscribe needs --token (or WAHANA_ADMIN_TOKEN)")
    return args


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, out):
        super().__init__(address, Handler)
        self.out = out
        self.webhook = None  # set once the secret is known
        self.seen = set()
        self.lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.server.webhook is None:
            return self._answer(503)
        try:
            payload = self.server.webhook.verify(body, dict(self.headers.items()))
        except WebhookVerificationError as exc:
            print(f"refused a webhook: {exc}", file=sys.stderr, flush=True)
            return self._answer(401)
        webhook_id = self.headers["webhook-id"]
        with self.server.lock:
            first = webhook_id not in self.server.seen
            self.server.seen.add(webhook_id)
            if first:
                self.server.out.write(json.dumps({"webhook_id": webhook_id, "type": payload.get("type"),
                                                  "subject": payload.get("subject"), "event": payload},
                                                 ensure_ascii=False) + "\n")
                self.server.out.flush()
        self._answer(204)

    def _answer(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


def subscribe(args, url):
    answer = requests.post(args.subscribe.rstrip("/") + "/subscriptions", timeout=30,
                           headers={"Authorization": f"Bearer {args.token}"},
                           json={"url": url, "event_types": args.event_type or ["household.verified"],
                                 "region_codes": args.region or ["62.13"]})
    if answer.status_code != 201:
        sys.exit(f"the subscription was refused: {answer.status_code} {answer.text}")
    made = answer.json()
    print(f"subscribed: {made['id']} (keep the secret: it is shown only once)", file=sys.stderr, flush=True)
    return made["secret"]


def main(argv=None):
    args = parse_args(argv)
    out = open(args.out, "a", encoding="utf-8") if args.out else sys.stdout
    server = Receiver((args.host, args.port), out)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    url = args.public_url or f"http://{args.host}:{server.server_address[1]}/webhooks"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.webhook = Webhook(subscribe(args, url) if args.subscribe else args.secret)
    print(f"receiving webhooks at {url}", file=sys.stderr, flush=True)
    try:
        while not stop.wait(1):
            pass
    except KeyboardInterrupt:
        pass
    server.shutdown()

if __name__ == "__main__":
    main()
