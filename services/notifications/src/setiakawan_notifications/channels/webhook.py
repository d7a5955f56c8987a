"""Partner webhooks: the event as a structured CloudEvent in JSON, signed
by the Standard Webhooks headers. No redirect is followed, and in
production the host is resolved again before each delivery, so a name
that has come to point inside our network since it was subscribed is
refused (what remains: a resolver answering differently between that
check and the connection, README)."""
import socket
from urllib.parse import urlsplit

import urllib3

from ..rules import answers, destinations, signing
from .limits import RateLimit


def resolve(url):
    """The addresses a URL's host resolves to now (none if it does not)."""
    try:
        parts = urlsplit(url)
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                                   proto=socket.IPPROTO_TCP)
    except (OSError, ValueError, UnicodeError):
        return []
    return sorted({info[4][0].split("%")[0] for info in infos})


class WebhookChannel:
    name = "webhook"

    def __init__(self, settings, pool, take=None):
        self.production = settings.production
        self.limit = RateLimit(self.name, settings.webhook_per_second, take)
        self.timeout = urllib3.Timeout(total=settings.timeout_s)
        self.pool = pool

    def send(self, message):
        if self.production:
            why = destinations.refused(message.address, resolve(message.address), production=True)
            if why:
                return answers.Outcome(answers.RETRY, f"refused destination: {why}")
        body = message.body.encode()
        headers = {"Content-Type": "application/cloudevents+json; charset=utf-8", "User-Agent": "Setiakawan-Webhooks",
                   **signing.headers(message.secret, message.id, message.at, body)}
        self.limit.wait()
        try:
            response = self.pool.request("POST", message.address, body=body, headers=headers, timeout=self.timeout,
                                         redirect=False, retries=False, preload_content=True)
        except urllib3.exceptions.HTTPError as exc:
            return answers.unreachable(type(exc).__name__)
        return answers.from_partner(response.status, response.reason or "")
