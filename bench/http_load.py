"""The benchmarks' HTTP load: requests sent from threads over keep-alive
connections of the lean ``KeepAliveConnection``, and what their answers
tell (status check, latency, rate by tenth)."""
import collections
import http.client
import itertools
import json
import socket
import threading
import time
import urllib.parse

from harness import BenchFailure, percentile


class Call:
    __slots__ = ("method", "path", "body", "headers")

    def __init__(self, method, path, body, token):
        self.method, self.path = method, path
        self.body = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def request_bytes(self, host):
        """The whole HTTP/1.1 request, as it goes on the wire."""
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}",
                 *(f"{name}: {value}" for name, value in self.headers.items()),
                 f"Content-Length: {len(self.body or b'')}", "", ""]
        return "\r\n".join(lines).encode() + (self.body or b"")


class KeepAliveConnection:
    """The bench's side of one keep-alive HTTP/1.1 connection, as lean as a
    client can be (requests made into bytes before the clock starts, the
    answer's status and Content-Length read, nothing else parsed), so that
    the machine's two cores go to the services measured: ``http.client``
    cost 300-360 us of the bench's CPU a request, parsing headers through
    the email package."""

    def __init__(self, host, port, timeout):
        self.address, self.timeout = (host, port), timeout
        self.sock, self.buffer = None, b""

    def exchange(self, request):
        """Send ``request`` (bytes); returns (status, body). OSError, or
        http.client.HTTPException for an answer it cannot read."""
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=self.timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(request)
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self._read()
        head, self.buffer = self.buffer[:end].decode("latin-1"), self.buffer[end + 4:]
        status_line, *header_lines = head.split("\r\n")
        headers = dict((name.strip().lower(), value.strip())
                       for name, _, value in (line.partition(":") for line in header_lines))
        try:
            version, status = status_line.split(" ", 2)[:2]
            status = int(status)
            length = 0 if status in (204, 304) or status < 200 else int(headers["content-length"])
        except (ValueError, KeyError) as exc:  # a status line it cannot read, no or a bad Content-Length
            raise http.client.HTTPException(f"an answer it cannot read ({exc!r}): {head[:200]!r}") from None
        while len(self.buffer) < length:
            self._read()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        connection = headers.get("connection", "").lower()
        if connection == "close" or (version == "HTTP/1.0" and connection != "keep-alive"):
            self.close()
        return status, body

    def _read(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise http.client.RemoteDisconnected("the service closed the connection")
        self.buffer += chunk

    def close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""


def all_at_once(threads, gate, clock):
    """Start ``threads``, each waiting for ``gate`` before its work, open the
    gate and wait for them all; returns ``clock()`` at the opening and at the end."""
    for thread in threads:
        thread.start()
    started = clock()
    gate.set()
    for thread in threads:
        thread.join()
    return started, clock()


def run_calls(url, calls, clients):
    """Send ``calls`` from ``clients`` threads, each over one keep-alive
    connection, taking the next call as it becomes free. Returns (answers,
    started, ended): answers[i] = (status, body bytes, seconds, perf_counter
    when answered) of calls[i];
    started = time.time() just before the first was sent, ended after the
    last answer was read. Raises BenchFailure on a transport error."""
    parts = urllib.parse.urlsplit(url)
    requests = [call.request_bytes(parts.netloc) for call in calls]
    answers = [None] * len(calls)
    failures = []
    counter = itertools.count()  # next() on it is atomic under the GIL
    n = len(calls)
    gate = threading.Event()

    def client():
        conn = KeepAliveConnection(parts.hostname, parts.port, timeout=300)
        gate.wait()
        try:
            while not failures:
                i = next(counter)
                if i >= n:
                    return
                began = time.perf_counter()
                try:
                    status, body = conn.exchange(requests[i])
                except (OSError, http.client.HTTPException) as exc:
                    failures.append(f"{calls[i].method} {calls[i].path}: {type(exc).__name__}: {exc}")
                    return
                done = time.perf_counter()
                answers[i] = (status, body, done - began, done)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(min(clients, n) or 1)]
    started, ended = all_at_once(threads, gate, time.time)
    if failures:
        raise BenchFailure(f"{len(failures)} requests failed in transport, first: {failures[0]}")
    return answers, started, ended


def checked(answers, calls, want, what):
    """The JSON bodies of ``answers``, or BenchFailure unless every status is ``want``."""
    wrong = collections.Counter(a[0] for a in answers if a[0] != want)
    if wrong:
        i = next(i for i, a in enumerate(answers) if a[0] != want)
        raise BenchFailure(f"{what}: {sum(wrong.values())} of {len(answers)} answers not {want} ({dict(wrong)}); "
                           f"first: {calls[i].method} {calls[i].path} -> {answers[i][0]} "
                           f"{answers[i][1][:500].decode(errors='replace')}")
    return [json.loads(a[1]) for a in answers]


def tenths(answers):
    """Requests answered per second in each tenth of the answers (does the rate hold as tables grow?)."""
    ends = sorted(a[3] for a in answers)
    cut = [min(a[3] - a[2] for a in answers)] + [ends[len(ends) * k // 10 - 1] for k in range(1, 11)]
    sizes = [len(ends) * k // 10 - len(ends) * (k - 1) // 10 for k in range(1, 11)]
    return [f"{n / max(b - a, 1e-9):.0f}" for n, a, b in zip(sizes, cut, cut[1:])]


def latency_line(answers):
    times = sorted(a[2] * 1000 for a in answers)
    return f"p50 {percentile(times, 50):.1f} ms, p99 {percentile(times, 99):.1f} ms, max {times[-1]:.1f} ms"
