"""The real peers the notifications service talks to in its tests and its
benchmark: the SMS/WhatsApp gateway (``Gateway``), a partner's webhook
receiver (``Receiver``) and an SMTP server (``Mailbox``). Each runs on
127.0.0.1 on a free port, in a background thread of the test process.
An HTTP peer is served by the standard library's threading server, or with
``serve="asyncio"`` by an asyncio loop parsing with httptools (C) in one
thread: the same answers for a fifth of the CPU (bench/README.md), which
matters where the peer shares the machine with what it measures.

``python notifications_peers.py gateway --port N --token T`` serves the
gateway the asyncio way in the foreground, in a process of its own, for the
benchmark: it prints ``ready <url>`` once it answers and stops on SIGTERM
or SIGINT.
"""
import argparse
import asyncio
import email
import email.policy
import json
import signal
import socket
import threading
import time
import uuid
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httptools
import requests
from aiosmtpd.controller import Controller
from standardwebhooks import Webhook, WebhookVerificationError

from setiakawan_kit.testing import free_port, wait_for

HOST = "127.0.0.1"
POLL_INTERVAL = 0.02
CHANNELS = ("sms", "whatsapp")
SERVERS = ("threads", "asyncio")


class _Server(ThreadingHTTPServer):
    """A threading HTTP/1.1 server that knows its peer and can cut its
    keep-alive connections, so a stopped peer answers nothing more."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, address, handler, peer):
        self.peer = peer
        self.connections = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request_thread(self, request, client_address):
        with self.connections_lock:
            self.connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.connections_lock:
                self.connections.discard(request)

    def close_connections(self):
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format, *args):
        pass

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def route(self):
        body = self.body() if self.command == "POST" else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        answer = self.server.peer.route(self.command, self.path, headers, body)
        self.wfile.write(_response(*answer, keep_alive=not self.close_connection))

    do_GET = do_POST = route


def _response(status, payload=None, headers=(), keep_alive=True):
    """An answer's bytes: ``payload`` as JSON, ``headers`` (name, value) pairs added."""
    body = b"" if payload is None else json.dumps(payload).encode()
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:  # a test may have a peer answer a status of its own
        reason = ""
    lines = [f"HTTP/1.1 {status} {reason}"]
    if payload is not None:
        lines.append("Content-Type: application/json")
    if status not in (204, 304):
        lines.append(f"Content-Length: {len(body)}")
    if not keep_alive:
        lines.append("Connection: close")
    lines.extend(f"{name}: {value}" for name, value in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class _Exchange(asyncio.Protocol):
    """One connection to an asyncio-served peer: httptools calls the
    ``on_*`` methods as it parses; each complete request is answered by
    the peer's ``route`` in order."""

    def __init__(self, server):
        self.server = server
        self.parser = httptools.HttpRequestParser(self)
        self.transport = None
        self.url, self.headers, self.body = b"", {}, []

    def connection_made(self, transport):
        self.transport = transport
        self.server.transports.add(transport)

    def connection_lost(self, exc):
        self.server.transports.discard(self.transport)

    def data_received(self, data):
        try:
            self.parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade):
            self.transport.write(_response(400, {"error": "bad_request"}, keep_alive=False))
            self.transport.close()

    def on_message_begin(self):
        self.url, self.headers, self.body = b"", {}, []

    def on_url(self, url):
        self.url += url

    def on_header(self, name, value):
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body):
        self.body.append(body)

    def on_message_complete(self):
        keep_alive = self.parser.should_keep_alive()
        method = self.parser.get_method().decode("ascii")
        answer = self.server.peer.route(method, self.url.decode("latin-1"), self.headers, b"".join(self.body))
        self.transport.write(_response(*answer, keep_alive=keep_alive))
        if not keep_alive:
            self.transport.close()


class _AsyncServer:
    """A peer served by an asyncio loop in a thread of its own; ``close``
    also cuts the kept-alive connections, as ``_Server.close_connections``."""

    def __init__(self, address, peer):
        self.peer = peer
        self.transports = set()
        self.loop = asyncio.new_event_loop()
        self._server = self.loop.run_until_complete(self.loop.create_server(
            lambda: _Exchange(self), *address, backlog=1024, reuse_address=True))
        self.thread = threading.Thread(target=self.loop.run_forever, name=f"{type(peer).__name__}:{address[1]}",
                                       daemon=True)
        self.thread.start()

    def close(self):
        def stop():
            self._server.close()
            for transport in list(self.transports):
                transport.abort()
            self.loop.stop()

        self.loop.call_soon_threadsafe(stop)
        self.thread.join(timeout=10)
        self.loop.run_until_complete(self._server.wait_closed())
        self.loop.close()


class _HttpPeer:
    """Start, stop and wait for an HTTP peer answering by its ``route``."""

    path = ""

    def __init__(self, port=None, serve="threads"):
        if serve not in SERVERS:
            raise ValueError(f"serve is one of {SERVERS}, not {serve!r}")
        self.port = port or free_port()
        self.serve = serve
        self.lock = threading.Lock()
        self._server = None
        self._thread = None

    @property
    def url(self):
        return f"http://{HOST}:{self.port}{self.path}"

    def route(self, method, path, headers, body):
        """The answer (status, payload[, headers]) to one request;
        ``headers`` by lower-case name."""
        raise NotImplementedError

    def start(self):
        if self.serve == "asyncio":
            self._server = _AsyncServer((HOST, self.port), self)
            return self
        self._server = _Server((HOST, self.port), _Handler, self)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"{type(self).__name__}:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is None:
            return
        if self.serve == "asyncio":
            self._server.close()
        else:
            self._server.shutdown()
            self._server.close_connections()
            self._server.server_close()
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def _wait_for(self, records, count, timeout, what):
        def enough():
            with self.lock:
                return len(records()) >= count

        wait_for(enough, timeout=timeout, interval=POLL_INTERVAL, what=f"{count} {what} at {self.url}",
                 state=lambda: f"{len(records())}: {records()[-3:]}")
        with self.lock:
            return list(records())


class Gateway(_HttpPeer):
    """The SMS/WhatsApp gateway: ``POST /messages`` with a bearer token and
    an ``Idempotency-Key``, answering by ``mode`` ("ok", "error",
    "rate_limited", "refused"), with ``not_on_whatsapp`` numbers refused on
    WhatsApp. In order: "error" (503) wins; then a key already taken gets
    its first 200 again (``duplicates``); then ``not_on_whatsapp`` (422);
    then "rate_limited" (429) and "refused" (400). ``taken`` holds each
    message accepted, once (with ``at``, the time.time() it was taken);
    ``requests`` counts every POST /messages. ``GET /stats``, ``GET
    /taken`` (``taken`` as a JSON list) and ``POST /reset`` (records and
    counts, not ``mode`` or ``not_on_whatsapp``) serve the benchmark."""

    def __init__(self, token="gateway-token", port=None, serve="threads"):
        super().__init__(port, serve)
        self.token = token
        self.mode = "ok"
        self.not_on_whatsapp = set()
        self.reset()

    def reset(self):
        with self.lock:
            self.taken = []
            self.requests = 0
            self.duplicates = 0
            self._answers = {}

    def route(self, method, path, headers, body):
        if (method, path) == ("GET", "/stats"):
            return 200, self.stats()
        if (method, path) == ("GET", "/taken"):
            return 200, self.taken_records()
        if (method, path) == ("POST", "/reset"):
            self.reset()
            return 200, {"reset": True}
        if (method, path) == ("POST", "/messages"):
            return self.take(headers.get("authorization"), headers.get("idempotency-key"), body)
        return 404, {"error": "not_found"}

    def stats(self):
        with self.lock:
            return {"taken": len(self.taken), "requests": self.requests, "duplicates": self.duplicates,
                    "first_at": self.taken[0]["at"] if self.taken else None,
                    "last_at": self.taken[-1]["at"] if self.taken else None}

    def taken_records(self):
        """A copy of ``taken``, oldest first."""
        with self.lock:
            return list(self.taken)

    def take(self, authorization, key, body):
        """The answer (status, payload, headers) to one POST /messages."""
        with self.lock:
            self.requests += 1
        if authorization != f"Bearer {self.token}":
            return 401, {"error": "unauthorized"}
        try:
            message = json.loads(body)
            fields = [message[name] for name in ("channel", "to", "text", "reference")]
        except (ValueError, TypeError, KeyError):
            return 400, {"error": "bad_request"}
        if message["channel"] not in CHANNELS or not all(isinstance(value, str) for value in fields):
            return 400, {"error": "bad_request"}
        with self.lock:
            if self.mode == "error":
                return 503, {"error": "unavailable"}
            if key is not None and key in self._answers:
                self.duplicates += 1
                return 200, self._answers[key]
            if message["channel"] == "whatsapp" and message["to"] in self.not_on_whatsapp:
                return 422, {"error": "not_on_whatsapp"}
            if self.mode == "rate_limited":
                return 429, {"error": "rate_limited", "retry_after": 1}, [("Retry-After", "1")]
            if self.mode == "refused":
                return 400, {"error": "invalid_number"}
            answer = {"id": f"gw-{uuid.uuid4().hex}", "status": "accepted"}
            if key is not None:
                self._answers[key] = answer
            self.taken.append({"id": answer["id"], "key": key, "channel": message["channel"], "to": message["to"],
                               "text": message["text"], "reference": message["reference"], "at": time.time()})
            return 200, answer

    def wait_for(self, count, timeout=30):
        """``taken`` once it holds ``count`` messages or more."""
        return self._wait_for(lambda: self.taken, count, timeout, "messages taken by the gateway")

    @staticmethod
    def callback(url, secret, payload, msg_id=None):
        """POST ``payload`` to ``url`` as the gateway calls back (receipts,
        replies), signed the Standard Webhooks way under ``secret``."""
        msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
        now = datetime.now(timezone.utc)
        body = json.dumps(payload)
        headers = {"Content-Type": "application/json", "webhook-id": msg_id,
                   "webhook-timestamp": str(int(now.timestamp())),
                   "webhook-signature": Webhook(secret).sign(msg_id, now, body)}
        return requests.post(url, data=body.encode(), headers=headers, timeout=10)


class Receiver(_HttpPeer):
    """A partner's webhook receiver at ``/hooks``, verifying every POST
    with the ``standardwebhooks`` library under ``secret``. A request that
    fails goes to ``rejected`` (401); one that verifies counts in
    ``attempts`` and is answered ``status``; when that is 2xx, a new
    webhook-id goes to ``accepted`` (and ``seen_ids``), a known one counts
    in ``replays``. A verified body that is not JSON is rejected with 400."""

    path = "/hooks"

    def __init__(self, secret, port=None, serve="threads"):
        super().__init__(port, serve)
        self.secret = secret
        self.status = 204
        self.accepted = []
        self.rejected = []
        self.seen_ids = set()
        self.attempts = 0
        self.replays = 0

    def route(self, method, path, headers, body):
        if method != "POST" or path.split("?")[0] != "/hooks":
            return 404, {"error": "not_found"}
        return self.receive(headers, body)

    def receive(self, headers, body):
        """The answer (status, payload) to one POST."""
        try:
            Webhook(self.secret).verify(body, headers, json_parse=False)
        except WebhookVerificationError as error:
            with self.lock:
                self.rejected.append({"headers": headers, "body": body, "error": str(error)})
            return 401, {"error": "invalid_signature"}
        try:
            parsed = json.loads(body)
        except ValueError as error:
            with self.lock:
                self.rejected.append({"headers": headers, "body": body, "error": f"not JSON: {error}"})
            return 400, {"error": "not_json"}
        with self.lock:
            self.attempts += 1
            status = self.status
            if 200 <= status < 300:
                msg_id = headers["webhook-id"]
                if msg_id in self.seen_ids:
                    self.replays += 1
                else:
                    self.seen_ids.add(msg_id)
                    self.accepted.append({"id": msg_id, "headers": headers, "body": parsed, "raw": body})
        return (status,)

    def wait_for(self, count, timeout=30):
        """``accepted`` once it holds ``count`` webhooks or more."""
        return self._wait_for(lambda: self.accepted, count, timeout, "webhooks accepted")

    @staticmethod
    def post(url, body, headers):
        """POST ``body`` (bytes) with ``headers`` as they are, to replay or tamper with a webhook."""
        return requests.post(url, data=body, headers=headers, timeout=10)


class Mailbox:
    """The SMTP server the service sends email through (aiosmtpd, no
    authentication, no TLS). ``messages`` holds ``{"from", "to",
    "message"}`` per email, ``message`` an ``email.message.EmailMessage``."""

    def __init__(self, port=None):
        self.host = HOST
        self.port = port or free_port()
        self.messages = []
        self.lock = threading.Lock()
        self._controller = None

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "message": parsed})
        return "250 Message accepted for delivery"

    def start(self):
        self._controller = Controller(self, hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def wait_for(self, count, timeout=30):
        """``messages`` once it holds ``count`` emails or more."""
        def enough():
            with self.lock:
                return len(self.messages) >= count

        wait_for(enough, timeout=timeout, interval=POLL_INTERVAL,
                 what=f"{count} emails at smtp://{self.host}:{self.port}",
                 state=lambda: [(m["from"], m["to"], m["message"]["Subject"]) for m in self.messages[-3:]])
        with self.lock:
            return list(self.messages)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    gateway = commands.add_parser("gateway", help="serve the SMS/WhatsApp gateway until SIGTERM or SIGINT")
    gateway.add_argument("--port", type=int, default=0, help="0: a free port")
    gateway.add_argument("--token", default="gateway-token")
    args = parser.parse_args(argv)
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    with Gateway(token=args.token, port=args.port or None, serve="asyncio") as peer:
        print(f"ready {peer.url}", flush=True)
        signal.sigwait(stop_signals)


if __name__ == "__main__":
    main()
