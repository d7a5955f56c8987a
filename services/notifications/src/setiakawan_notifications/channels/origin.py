"""Keep-alive connections to one HTTP origin (the SMS/WhatsApp gateway),
shared by the green threads that send on it.

http.client itself, not urllib3's PoolManager: on this one origin the pool
manager's URL parsing, per-host lookup and response wrapping cost 480–490
µs of CPU a post against 300–320 for the same exchange on http.client
(the raw baseline of ``bench/notifications.py``, bench/README.md), and the gateway channel is
the sender's hottest path. Webhooks, to many origins with redirects refused
per request, keep urllib3."""
import http.client
import urllib.parse

import eventlet

#: a pooled connection the server has closed fails like this on its next request
STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
USER_AGENT = "Setiakawan-Notifications"


class Answer:
    def __init__(self, status, headers, data):
        self.status, self.headers, self.data = status, headers, data


class OriginPool:
    """``post(path, body, headers)`` -> :class:`Answer`; raises ``OSError``
    (``TimeoutError`` after ``timeout_s`` in all, as urllib3's total
    timeout) or ``http.client.HTTPException`` when there is no answer."""

    def __init__(self, url, timeout_s, maxsize):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self._connection = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        self.host, self.port, self.base = parts.hostname, parts.port, parts.path.rstrip("/")
        self.timeout, self.maxsize = timeout_s, maxsize
        self._idle = []  # the most recently used last: taken first, the least likely to have been closed

    def post(self, path, body, headers):
        headers = {"User-Agent": USER_AGENT, **headers}
        with eventlet.Timeout(self.timeout, TimeoutError(f"no answer within {self.timeout:g} s")):
            return self._post(path, body, headers)

    def _post(self, path, body, headers):
        if self._idle:
            conn, reused = self._idle.pop(), True
        else:
            conn, reused = self._new(), False
        try:
            answer, keep = self._exchange(conn, path, body, headers)
        except STALE:
            conn.close()
            if not reused:
                raise
            # the server closed it (while idle, or having taken the request without answering): once more
            # on a new connection, under the same idempotency key
            conn = self._new()
            try:
                answer, keep = self._exchange(conn, path, body, headers)
            except BaseException:
                conn.close()
                raise
        except BaseException:
            conn.close()
            raise
        if keep and len(self._idle) < self.maxsize:
            self._idle.append(conn)
        else:
            conn.close()
        return answer

    def _new(self):
        return self._connection(self.host, self.port, timeout=self.timeout)

    def _exchange(self, conn, path, body, headers):
        conn.request("POST", self.base + path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return Answer(response.status, response.headers, data), not response.will_close
