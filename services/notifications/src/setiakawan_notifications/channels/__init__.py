"""Channel adapters: each sends one message and says what the other side
answered (``rules.answers.Outcome``), behind one interface::

    channel.send(Outgoing) -> Outcome

SMS and WhatsApp go through an HTTP gateway, email over SMTP, partner
webhooks over HTTP with Standard Webhooks signatures. Each holds its own
rate limit, shared by every instance of the service (``limits``)."""
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Outgoing:
    id: str                 # the message's id: the gateway's idempotency key, the email's Message-ID, webhook-id
    channel: str
    address: str            # a phone number, an email address, a webhook URL
    subject: str
    body: str
    secret: str = None      # a webhook subscription's signing secret
    at: datetime = None     # when it is sent (the webhook's timestamp)
