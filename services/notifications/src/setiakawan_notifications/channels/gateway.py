"""SMS and WhatsApp through the HTTP gateway: ``POST <url>/messages`` with
``{"channel", "to", "text", "reference"}``, a bearer token, and the
message's id and channel as ``Idempotency-Key`` (``<id>:sms``), so a
request sent again after a crash is taken once by a gateway that honours
the key, and the SMS that follows a refused WhatsApp message is a request
of its own."""
import json

import urllib3

from ..rules import answers
from .limits import RateLimit


class GatewayChannel:
    def __init__(self, name, url, token, per_second, timeout_s, pool):
        self.name, self.url, self.token = name, url, token
        self.limit = RateLimit(per_second)
        self.timeout = urllib3.Timeout(total=timeout_s)
        self.pool = pool

    def send(self, message):
        if not self.url:
            return answers.Outcome(answers.RETRY, "no gateway is configured (GATEWAY.url)")
        self.limit.wait()
        body = json.dumps({"channel": self.name, "to": message.address, "text": message.body,
                           "reference": message.id}).encode()
        try:
            response = self.pool.request("POST", self.url + "/messages", body=body, timeout=self.timeout,
                                         redirect=False, retries=False,
                                         headers={"Content-Type": "application/json", "Idempotency-Key": f"{message.id}:{self.name}",
                                                  "Authorization": f"Bearer {self.token}"})
        except urllib3.exceptions.HTTPError as exc:
            return answers.unreachable(type(exc).__name__)
        try:
            said = json.loads(response.data or b"{}")
        except ValueError:
            said = {}
        if response.status == 429 and isinstance(said, dict) and "retry_after" not in said:
            said = dict(said, retry_after=response.headers.get("Retry-After"))
        return answers.from_gateway(response.status, said)
