"""Standard Webhooks signatures (standardwebhooks.com): ``webhook-id``,
``webhook-timestamp`` and ``webhook-signature`` (``v1,`` and the base64
HMAC-SHA256 of ``id.timestamp.body`` under the subscription's secret),
made by the specification's own library, which partners verify with."""
import base64
import secrets
from datetime import datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"


def new_secret():
    """A subscription's secret as the specification writes it: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def headers(secret, message_id, sent_at, body):
    """The three headers of a webhook whose body is ``body`` (bytes, sent as is)."""
    if not isinstance(sent_at, datetime) or sent_at.tzinfo is None:
        raise ValueError("sent_at must be an aware datetime")
    return {"webhook-id": message_id, "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, sent_at, body)}
