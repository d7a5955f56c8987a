"""The peers the notifications tests talk to: the gateway's modes and
idempotency, the receiver's Standard Webhooks verification (by the
specification's library), the mailbox, and the gateway in a process of its
own as the benchmark runs it. No broker, no database."""
import base64
import json
import secrets
import smtplib
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest
import requests
import urllib3
from standardwebhooks import Webhook

from setiakawan_kit.testing import free_port

from notifications_peers import SERVERS, Gateway, Mailbox, Receiver

TESTS = Path(__file__).resolve().parents[1]

TOKEN = "gateway-token"
NUMBER = "+6281234567890"


def new_secret():
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def message(channel="sms", to=NUMBER, reference="msg-1"):
    return {"channel": channel, "to": to, "text": "Bantuan Anda siap diambil.", "reference": reference}


def send(gateway, body, key=None, token=TOKEN, session=requests):
    headers = {"Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key
    return session.post(f"{gateway.url}/messages", json=body, headers=headers, timeout=10)


def signed(secret, body, msg_id="msg_1"):
    now = datetime.now(timezone.utc)
    return {"content-type": "application/json", "webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, now, body)}


@pytest.fixture(params=SERVERS)
def gateway(request):
    with Gateway(TOKEN, serve=request.param) as peer:
        yield peer


@pytest.fixture
def secret():
    return new_secret()


@pytest.fixture(params=SERVERS)
def receiver(request, secret):
    with Receiver(secret, serve=request.param) as peer:
        yield peer


def test_the_gateway_accepts_a_message_and_records_it(gateway):
    answer = send(gateway, message(), key="k-1")
    assert answer.status_code == 200
    assert answer.json()["status"] == "accepted" and answer.json()["id"].startswith("gw-")
    [taken] = gateway.wait_for(1)
    assert taken["id"] == answer.json()["id"] and taken["key"] == "k-1"
    assert {k: taken[k] for k in ("channel", "to", "text", "reference")} == message()
    assert gateway.requests == 1 and gateway.duplicates == 0


@pytest.mark.parametrize("mode, status, payload", [
    ("error", 503, {"error": "unavailable"}),
    ("rate_limited", 429, {"error": "rate_limited", "retry_after": 1}),
    ("refused", 400, {"error": "invalid_number"}),
])
def test_the_gateway_fails_by_its_mode_without_taking_the_key(gateway, mode, status, payload):
    gateway.mode = mode
    answer = send(gateway, message(), key="k-1")
    assert (answer.status_code, answer.json()) == (status, payload)
    assert answer.headers.get("Retry-After") == ("1" if mode == "rate_limited" else None)
    assert gateway.taken == []
    gateway.mode = "ok"
    assert send(gateway, message(), key="k-1").status_code == 200
    assert len(gateway.taken) == 1 and gateway.requests == 2 and gateway.duplicates == 0


def test_the_same_idempotency_key_is_taken_once_and_answered_the_same(gateway):
    first = send(gateway, message(), key="k-1")
    again = send(gateway, message(), key="k-1")
    other = send(gateway, message(), key="k-2")
    assert first.status_code == again.status_code == other.status_code == 200
    assert again.json() == first.json() and other.json()["id"] != first.json()["id"]
    assert [t["key"] for t in gateway.taken] == ["k-1", "k-2"]
    assert gateway.requests == 3 and gateway.duplicates == 1


def test_a_number_not_on_whatsapp_is_refused_there_and_not_by_sms(gateway):
    gateway.not_on_whatsapp.add(NUMBER)
    answer = send(gateway, message("whatsapp"), key="k-1")
    assert (answer.status_code, answer.json()) == (422, {"error": "not_on_whatsapp"})
    gateway.mode = "rate_limited"
    assert send(gateway, message("whatsapp"), key="k-1").status_code == 422
    gateway.mode = "error"
    assert send(gateway, message("whatsapp"), key="k-1").status_code == 503
    gateway.mode = "ok"
    assert send(gateway, message("sms"), key="k-2").status_code == 200
    assert send(gateway, message("whatsapp", to="+6281100000000"), key="k-3").status_code == 200
    assert [t["channel"] for t in gateway.taken] == ["sms", "whatsapp"]


@pytest.mark.parametrize("token", ["wrong", None])
def test_the_gateway_wants_its_token(gateway, token):
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    answer = requests.post(f"{gateway.url}/messages", json=message(), headers=headers, timeout=10)
    assert (answer.status_code, answer.json()) == (401, {"error": "unauthorized"})
    assert gateway.taken == [] and gateway.requests == 1


def test_the_gateway_refuses_a_malformed_message(gateway):
    assert send(gateway, {"channel": "pigeon", "to": NUMBER, "text": "x", "reference": "r"}).status_code == 400
    assert send(gateway, {"channel": "sms"}).status_code == 400
    assert gateway.taken == []


def test_stats_and_reset(gateway):
    assert requests.get(f"{gateway.url}/stats", timeout=10).json() == {
        "taken": 0, "requests": 0, "duplicates": 0, "first_at": None, "last_at": None}
    for key in ("k-1", "k-2", "k-2"):
        send(gateway, message(), key=key)
    stats = requests.get(f"{gateway.url}/stats", timeout=10).json()
    assert {k: stats[k] for k in ("taken", "requests", "duplicates")} == {"taken": 2, "requests": 3, "duplicates": 1}
    assert stats["first_at"] == gateway.taken[0]["at"] <= stats["last_at"] == gateway.taken[1]["at"]
    assert requests.post(f"{gateway.url}/reset", timeout=10).status_code == 200
    assert requests.get(f"{gateway.url}/stats", timeout=10).json()["taken"] == 0
    assert gateway.taken == [] and gateway.requests == 0
    assert send(gateway, message(), key="k-1").json()["id"] == gateway.wait_for(1)[0]["id"]


def test_many_clients_over_kept_alive_connections_are_each_taken_once(gateway):
    pool = urllib3.PoolManager(maxsize=20, block=True)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}

    def post(n):
        answer = pool.request("POST", f"{gateway.url}/messages", body=json.dumps(message(reference=f"m-{n}")),
                              headers={**headers, "Idempotency-Key": f"k-{n % 400}"})
        return answer.status, answer.json()["id"]

    with ThreadPoolExecutor(20) as workers:
        answers = list(workers.map(post, range(500)))
    assert {status for status, _ in answers} == {200}
    taken = gateway.wait_for(400)
    assert len(taken) == 400 and len({t["id"] for t in taken}) == 400
    assert {gw_id for _, gw_id in answers} == {t["id"] for t in taken}
    assert gateway.requests == 500 and gateway.duplicates == 100


@pytest.mark.parametrize("serve", SERVERS)
def test_a_stopped_gateway_answers_nothing_more_even_on_a_kept_alive_connection(serve):
    gateway = Gateway(TOKEN, serve=serve).start()
    with requests.Session() as session:
        assert send(gateway, message(), session=session).status_code == 200
        gateway.stop()
        with pytest.raises(requests.ConnectionError):
            send(gateway, message(), session=session)
        gateway.start()
        assert send(gateway, message(), session=session).status_code == 200
    gateway.stop()


def exchange(url, request):
    """The raw bytes the peer at ``url`` answers ``request`` with, until it closes."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


def test_an_unreadable_request_or_an_unknown_path_is_refused_and_a_closing_request_is_answered_then_closed(gateway):
    if gateway.serve == "asyncio":  # the standard library's server has answers of its own for what it cannot read
        assert exchange(gateway.url, b"NOT HTTP AT ALL\r\n\r\n").startswith(b"HTTP/1.1 400 Bad Request\r\n")
    body = json.dumps(message()).encode()
    answer = exchange(gateway.url, b"POST /messages HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n"
                      b"Authorization: Bearer " + TOKEN.encode() + b"\r\nContent-Length: "
                      + str(len(body)).encode() + b"\r\n\r\n" + body)
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and json.loads(payload)["status"] == "accepted"
    assert requests.get(f"{gateway.url}/elsewhere", timeout=10).status_code == 404
    assert len(gateway.taken) == 1


def test_wait_for_says_what_it_waited_for(gateway):
    with pytest.raises(AssertionError, match="3 messages taken by the gateway"):
        gateway.wait_for(3, timeout=0.2)


def test_the_receiver_accepts_a_correctly_signed_webhook_once(receiver, secret):
    body = json.dumps({"type": "aid.delivered", "id": "evt-1"}).encode()
    headers = signed(secret, body, "msg_a")
    assert Receiver.post(receiver.url, body, headers).status_code == 204
    assert Receiver.post(receiver.url, body, headers).status_code == 204
    [accepted] = receiver.wait_for(1)
    assert accepted["id"] == "msg_a" and accepted["body"] == json.loads(body) and accepted["raw"] == body
    assert accepted["headers"]["webhook-signature"] == headers["webhook-signature"]
    assert receiver.seen_ids == {"msg_a"} and receiver.attempts == 2 and receiver.replays == 1
    assert receiver.rejected == []


def test_the_receiver_rejects_a_tampered_body_a_foreign_signature_and_no_signature(receiver, secret):
    body = json.dumps({"type": "aid.delivered", "amount": 100}).encode()
    tampered = body.replace(b"100", b"900")
    headers = signed(secret, body)
    foreign = signed(new_secret(), body)
    unsigned = {k: v for k, v in headers.items() if k != "webhook-signature"}
    for sent_body, sent_headers in [(tampered, headers), (body, foreign), (body, unsigned)]:
        assert Receiver.post(receiver.url, sent_body, sent_headers).status_code == 401
    assert [r["body"] for r in receiver.rejected] == [tampered, body, body]
    assert all(r["error"] for r in receiver.rejected)
    assert receiver.accepted == [] and receiver.attempts == 0


def test_the_receiver_counts_but_does_not_accept_what_it_answers_with_a_failure(receiver, secret):
    receiver.status = 500
    body = json.dumps({"type": "aid.delivered"}).encode()
    assert Receiver.post(receiver.url, body, signed(secret, body, "msg_b")).status_code == 500
    assert receiver.attempts == 1 and receiver.accepted == [] and receiver.seen_ids == set()
    receiver.status = 200
    assert Receiver.post(receiver.url, body, signed(secret, body, "msg_b")).status_code == 200
    assert [a["id"] for a in receiver.wait_for(1)] == ["msg_b"] and receiver.attempts == 2


def test_the_receiver_answers_a_status_without_a_registered_reason(receiver, secret):
    receiver.status = 299
    body = json.dumps({"type": "aid.delivered"}).encode()
    assert Receiver.post(receiver.url, body, signed(secret, body, "msg_c")).status_code == 299
    assert [a["id"] for a in receiver.wait_for(1)] == ["msg_c"]


@pytest.mark.parametrize("payload", [
    {"type": "receipt", "id": "gw-1", "status": "delivered"},
    {"type": "reply", "channel": "sms", "from": "+6281298765432", "text": "STOP"},
])
def test_the_gateway_calls_back_signed_as_standard_webhooks_verify(receiver, secret, payload):
    answer = Gateway.callback(receiver.url, secret, payload)
    assert answer.status_code == 204
    [accepted] = receiver.wait_for(1)
    assert accepted["body"] == payload
    assert Webhook(secret).verify(accepted["raw"], accepted["headers"]) == payload
    assert accepted["headers"]["webhook-id"] == accepted["id"]


def test_the_mailbox_receives_an_email():
    with Mailbox() as mailbox:
        email = EmailMessage()
        email["From"] = "notifikasi@setiakawan.example"
        email["To"] = "petugas@dinsos.example"
        email["Subject"] = "Stok menipis di gudang Tamiang Layang"
        email.set_content("Beras tinggal 40 kg.")
        with smtplib.SMTP(mailbox.host, mailbox.port, timeout=10) as smtp:
            smtp.send_message(email)
        [received] = mailbox.wait_for(1)
    assert received["from"] == "notifikasi@setiakawan.example"
    assert received["to"] == ["petugas@dinsos.example"]
    assert received["message"]["Subject"] == "Stok menipis di gudang Tamiang Layang"
    assert received["message"].get_content().strip() == "Beras tinggal 40 kg."


@pytest.mark.timeout(60)
def test_the_gateway_serves_in_a_process_of_its_own():
    port = free_port()
    process = subprocess.Popen([sys.executable, str(TESTS / "notifications_peers.py"), "gateway",
                                "--port", str(port), "--token", "bench-token"], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == f"ready http://127.0.0.1:{port}"
        url = f"http://127.0.0.1:{port}"
        answer = requests.post(f"{url}/messages", json=message(), timeout=10,
                               headers={"Authorization": "Bearer bench-token", "Idempotency-Key": "k-1"})
        assert answer.status_code == 200
        assert requests.get(f"{url}/stats", timeout=10).json()["taken"] == 1
    finally:
        process.terminate()
        returncode = process.wait(timeout=10)
        process.stdout.close()
    assert returncode == 0
