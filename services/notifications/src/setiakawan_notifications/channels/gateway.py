"""SMS and WhatsApp through the HTTP gateway: ``POST <url>/messages`` with
``{"channel", "to", "text", "reference"}``, a bearer token, and the
message's id and channel as ``Idempotency-Key`` (``<id>:sms``), so a
request sent again after a crash is taken once by a gateway that honours
the key, and the SMS that follows a refused WhatsApp message is a request
of its own."""
import http.client
import json

from ..rules import answers
from .limits import RateLimit
from .origin import OriginPool


class GatewayChannel:
    def __init__(self, name, url, token, per_second, timeout_s, connections, take=None):
        self.name, self.url, self.token = name, url, token
        self.limit = RateLimit(name, per_second, take)
        self.pool = OriginPool(url, timeout_s, connections) if url else None

    def send(self, message):
        if not self.url:
            return answers.Outcome(answers.RETRY, "no gateway is configured (GATEWAY.url)")
        self.limit.wait()
        body = json.dumps({"channel": self.name, "to": message.address, "text": message.body,
                           "reference": message.id}).encode()
        try:
            response = self.pool.post("/messages", body, {
                "Content-Type": "application/json", "Idempotency-Key": f"{message.id}:{self.name}",
                "Authorization": f"Bearer {self.token}"})
        except (OSError, http.client.HTTPException) as exc:
            return answers.unreachable(type(exc).__name__)
        try:
            said = json.loads(response.data or b"{}")
        except ValueError:
            said = {}
        if response.status == 429 and isinstance(said, dict) and "retry_after" not in said:
            said = dict(said, retry_after=response.headers.get("Retry-After"))
        return answers.from_gateway(response.status, said)
