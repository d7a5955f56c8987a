"""The notifications service's peers for development, demos and the compose
stack: an SMS/WhatsApp gateway that writes messages down instead of sending
them (the gateway log) and an SMTP server that keeps every email (the mail
catcher), both readable over HTTP. ``setiakawan sandbox`` serves them;
``setiakawan run`` starts it in development when no gateway is configured.

The gateway speaks what the notifications service's gateway channel speaks:
``POST /messages`` with a bearer token and an ``Idempotency-Key`` (a key
taken before gets its first answer again), and, where it knows the service's
callback URL and secret, a signed delivery receipt for each message taken
(Standard Webhooks, as a real gateway signs them)."""
import email
import email.policy
import html
import json
import logging
import queue
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
from aiosmtpd.controller import Controller
from standardwebhooks import Webhook

log = logging.getLogger(__name__)

CHANNELS = ("sms", "whatsapp")
#: a receipt is sent this long after the message is taken (the service writes its sending down first)
RECEIPT_DELAY_S = 2
#: how long a receipt the service is not ready for (409: sending not yet written down) is tried again
RECEIPT_PATIENCE_S = 120


class Records:
    """What the sandbox took, in order, each also appended to a JSON-lines file when a folder is given."""

    def __init__(self, folder=None):
        self.lock = threading.Lock()
        self.messages, self.emails = [], []
        self._answers = {}
        self.folder = Path(folder) if folder else None
        if self.folder:
            self.folder.mkdir(parents=True, exist_ok=True)

    def take_message(self, key, message):
        """The gateway's answer to a message: the first answer again for a key taken before."""
        with self.lock:
            if key and key in self._answers:
                return self._answers[key], False
            answer = {"id": f"sandbox-{uuid.uuid4().hex}", "status": "accepted"}
            if key:
                self._answers[key] = answer
            record = {"id": answer["id"], "at": _now(), "channel": message["channel"], "to": message["to"],
                      "text": message["text"], "reference": message["reference"]}
            self.messages.append(record)
            self._append("messages.jsonl", record)
            return answer, True

    def take_email(self, sender, recipients, raw):
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        body = parsed.get_body(preferencelist=("plain", "html"))
        record = {"at": _now(), "from": sender, "to": list(recipients), "subject": str(parsed["subject"] or ""),
                  "message_id": str(parsed["message-id"] or ""), "text": body.get_content().replace("\r\n", "\n") if body else ""}
        with self.lock:
            self.emails.append(record)
            self._append("emails.jsonl", record)

    def snapshot(self):
        with self.lock:
            return list(self.messages), list(self.emails)

    def _append(self, name, record):
        if self.folder:
            with open(self.folder / name, "a", encoding="utf-8") as out:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")


class Receipts:
    """Delivery receipts posted to the notifications service from a thread
    of their own, signed with the gateway's inbound secret."""

    def __init__(self, callback_url, secret):
        self.url, self.webhook = callback_url, Webhook(secret)
        self.pending = queue.Queue()
        threading.Thread(target=self._run, name="sandbox-receipts", daemon=True).start()

    def delivered(self, gateway_id, reference):
        now = time.monotonic()
        self.pending.put((now + RECEIPT_DELAY_S, now + RECEIPT_PATIENCE_S, gateway_id, reference))

    def _run(self):
        while True:
            send_at, give_up_at, gateway_id, reference = self.pending.get()
            time.sleep(max(0.0, send_at - time.monotonic()))
            body = json.dumps({"type": "receipt", "id": gateway_id, "reference": reference, "status": "delivered"})
            while True:
                status = self._post(body)
                if status is not None and (status < 300 or status not in (409, 429) and status < 500):
                    break
                if time.monotonic() > give_up_at:
                    log.warning("gave up the receipt of %s (last answer %s)", gateway_id, status)
                    break
                time.sleep(1)  # the service writes the sending down, or comes back

    def _post(self, body):
        msg_id, now = f"msg_{uuid.uuid4().hex}", datetime.now(timezone.utc)
        headers = {"Content-Type": "application/json", "webhook-id": msg_id,
                   "webhook-timestamp": str(int(now.timestamp())),
                   "webhook-signature": self.webhook.sign(msg_id, now, body)}
        try:
            return requests.post(self.url, data=body.encode(), headers=headers, timeout=10).status_code
        except requests.RequestException:
            return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        sandbox = self.server.sandbox
        messages, emails = sandbox.records.snapshot()
        path = self.path.split("?")[0]
        if path == "/health":
            self._answer(200, {"status": "ok", "messages": len(messages), "emails": len(emails)})
        elif path == "/messages":
            self._answer(200, messages)
        elif path == "/emails":
            self._answer(200, emails)
        elif path == "/":
            self._answer(200, page(messages, emails).encode(), "text/html; charset=utf-8")
        else:
            self._answer(404, {"error": "not_found"})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != "/messages":
            return self._answer(404, {"error": "not_found"})
        sandbox = self.server.sandbox
        if self.headers.get("Authorization") != f"Bearer {sandbox.token}":
            return self._answer(401, {"error": "unauthorized"})
        try:
            message = json.loads(body)
            valid = message["channel"] in CHANNELS and all(
                isinstance(message[name], str) and message[name] for name in ("to", "text", "reference"))
        except (ValueError, TypeError, KeyError):
            valid = False
        if not valid:
            return self._answer(400, {"error": "bad_request"})
        if message["channel"] == "whatsapp" and message["to"] in sandbox.not_on_whatsapp:
            return self._answer(422, {"error": "not_on_whatsapp"})
        answer, new = sandbox.records.take_message(self.headers.get("Idempotency-Key"), message)
        if new and sandbox.receipts:
            sandbox.receipts.delivered(answer["id"], message["reference"])
        self._answer(200, answer)

    def _answer(self, status, payload, content_type="application/json"):
        body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _SmtpHandler:
    def __init__(self, records):
        self.records = records

    async def handle_DATA(self, server, session, envelope):
        self.records.take_email(envelope.mail_from, envelope.rcpt_tos, envelope.original_content or envelope.content)
        return "250 Message accepted"


class Sandbox:
    """The gateway and the mail catcher; ``start()`` serves both in threads, ``stop()`` ends them."""

    def __init__(self, http_address, smtp_address, token, folder=None, callback_url=None, inbound_secret=None,
                 not_on_whatsapp=()):
        self.http_address, self.smtp_address, self.token = http_address, smtp_address, token
        self.not_on_whatsapp = frozenset(not_on_whatsapp)
        self.records = Records(folder)
        self.receipts = Receipts(callback_url, inbound_secret) if callback_url and inbound_secret else None
        self._http = self._smtp = None

    def start(self):
        host, port = _split(self.http_address)
        self._http = ThreadingHTTPServer((host, port), _Handler)
        self._http.daemon_threads = True
        self._http.sandbox = self
        threading.Thread(target=self._http.serve_forever, name="sandbox-http", daemon=True).start()
        smtp_host, smtp_port = _split(self.smtp_address)
        self._smtp = Controller(_SmtpHandler(self.records), hostname=smtp_host, port=smtp_port)
        self._smtp.start()
        return self

    def stop(self):
        if self._smtp:
            self._smtp.stop()
        if self._http:
            self._http.shutdown()
            self._http.server_close()


def page(messages, emails):
    """The sandbox's page: the messages the gateway took and the emails caught, newest first."""
    def rows(items, fields):
        return "".join("<tr>" + "".join(f"<td>{html.escape(str(item.get(f, '')))}</td>" for f in fields) + "</tr>"
                       for item in reversed(items))

    return ("<!doctype html><html lang='id'><meta charset='utf-8'><title>Setiakawan sandbox</title>"
            "<style>body{font-family:sans-serif}td{border-top:1px solid #ccc;padding:4px;vertical-align:top;"
            "white-space:pre-wrap}</style>"
            f"<h1>SMS and WhatsApp ({len(messages)})</h1><table><tr><th>at</th><th>channel</th><th>to</th>"
            f"<th>text</th></tr>{rows(messages, ('at', 'channel', 'to', 'text'))}</table>"
            f"<h1>Email ({len(emails)})</h1><table><tr><th>at</th><th>to</th><th>subject</th><th>text</th></tr>"
            f"{rows(emails, ('at', 'to', 'subject', 'text'))}</table></html>")


def _split(address):
    host, _, port = address.rpartition(":")
    return host or "127.0.0.1", int(port)


def _now():
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
