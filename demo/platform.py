"""The running platform as the demo (and the end-to-end tests) reach it:
each agency with a token of its own, over the services' public HTTP APIs."""
import time
from dataclasses import dataclass, field
from datetime import timedelta

import requests

from setiakawan_kit import auth

DEFAULT_URLS = {"registry": "http://127.0.0.1:8001", "distribution": "http://127.0.0.1:8002",
                "training": "http://127.0.0.1:8003", "notifications": "http://127.0.0.1:8004",
                "coordination": "http://127.0.0.1:8005", "sandbox": "http://127.0.0.1:8025"}


class Refused(Exception):
    """A service answered with an error the demo did not expect."""

    def __init__(self, method, url, status, text):
        super().__init__(f"{method} {url}: {status} {text[:500]}")
        self.status = status


@dataclass(frozen=True)
class Agency:
    name: str
    kind: str
    regions: tuple


@dataclass
class Platform:
    """``urls``: service name -> base URL; ``signing_key``: the issuer's key (``keys.SigningKey``)."""

    urls: dict
    signing_key: object
    session: requests.Session = field(default_factory=requests.Session)

    def caller(self, agency, role):
        token = auth.issue_token(self.signing_key, agency.name, agency.kind, role, list(agency.regions),
                                 ttl=timedelta(hours=2))
        return Caller(self, agency, {"Authorization": f"Bearer {token}"})

    def url(self, service, path):
        return self.urls[service] + path

    def healthy(self):
        """The services (of ``urls``) that do not answer /health with 200."""
        down = []
        for name, base in self.urls.items():
            try:
                ok = self.session.get(base + "/health", timeout=5).status_code == 200
            except requests.RequestException:
                ok = False
            if not ok:
                down.append(name)
        return down


@dataclass
class Caller:
    platform: Platform
    agency: Agency
    headers: dict

    def call(self, method, service, path, body=None, expect=(200, 201), **params):
        url = self.platform.url(service, path)
        answer = self.platform.session.request(method, url, json=body, params=params or None, headers=self.headers,
                                               timeout=60)
        if answer.status_code not in expect:
            raise Refused(method, url, answer.status_code, answer.text)
        return answer.json() if answer.content else None

    def post(self, service, path, body=None, **kw):
        return self.call("POST", service, path, body, **kw)

    def get(self, service, path, **params):
        return self.call("GET", service, path, **params)


def eventually(check, timeout=60, interval=0.25, what="the platform to catch up"):
    """``check()``'s first truthy answer; the services act on each other's events a moment later."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = check()
        except Refused as exc:
            if exc.status not in (404, 409, 422) or time.monotonic() > deadline:
                raise
            found = None
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout} s for {what}")
        time.sleep(interval)
