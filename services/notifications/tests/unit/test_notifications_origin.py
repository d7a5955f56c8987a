"""The gateway channel's keep-alive pool, against a real local HTTP server
(a process of its own): connections are reused, one the server closed while
idle is replaced (the request sent once more, under its idempotency key),
and a fresh connection that fails is an error for the caller."""
import http.client
import json
import subprocess
import sys
import textwrap

import pytest

from setiakawan_notifications.channels.origin import OriginPool

# POST <any>/messages answers 201 with the client's port and the requests seen so far; under /close/ the
# server closes the connection after answering (though the answer promised keep-alive); under /silent/ it
# closes without answering. GET /count answers how many requests it took.
SERVER = textwrap.dedent("""
    import http.server, json, sys
    seen = []
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(self.headers["Idempotency-Key"])
            if self.path.startswith("/silent/"):
                self.close_connection = True
                return
            self.answer({"port": self.client_address[1], "path": self.path, "seen": seen})
            self.close_connection = self.path.startswith("/close/")
        def do_GET(self):
            self.answer({"count": len(seen)})
        def answer(self, what):
            body = json.dumps(what).encode()
            self.send_response(201 if self.command == "POST" else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *args):
            pass
    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
""")


@pytest.fixture(scope="module")
def server():
    process = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        yield f"http://127.0.0.1:{int(process.stdout.readline())}"
    finally:
        process.kill()
        process.wait()


def post(pool, key):
    answer = pool.post("/messages", b"{}", {"Idempotency-Key": key})
    return answer.status, json.loads(answer.data)


def test_requests_reuse_one_connection_and_keep_the_base_path(server):
    pool = OriginPool(server + "/gw/", 5, 4)
    answers = [post(pool, f"reuse-{i}:sms") for i in range(3)]
    assert {status for status, _ in answers} == {201}
    assert {said["path"] for _, said in answers} == {"/gw/messages"}
    assert len({said["port"] for _, said in answers}) == 1


def test_a_connection_the_server_closed_is_replaced_and_the_request_sent_once_more(server):
    pool = OriginPool(server + "/close/", 5, 4)
    _, first = post(pool, "closed-1:sms")
    status, second = post(pool, "closed-2:sms")
    assert status == 201 and second["port"] != first["port"]
    assert second["seen"][-2:] == ["closed-1:sms", "closed-2:sms"]


def test_a_new_connection_without_an_answer_is_the_callers_error(server):
    before = json.loads(_get(server))["count"]
    with pytest.raises(http.client.RemoteDisconnected):
        OriginPool(server + "/silent/", 5, 4).post("/messages", b"{}", {"Idempotency-Key": "silent-1:sms"})
    assert json.loads(_get(server))["count"] == before + 1  # not sent again: the connection was never idle


def test_only_http_urls_make_a_pool():
    with pytest.raises(ValueError):
        OriginPool("ftp://gateway.example/", 5, 4)


def _get(url):
    conn = http.client.HTTPConnection(url.split("//")[1], timeout=5)
    try:
        conn.request("GET", "/count")
        return conn.getresponse().read()
    finally:
        conn.close()
