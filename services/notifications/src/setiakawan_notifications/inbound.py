"""Use case of the gateway's callbacks: delivery receipts and people's
replies, each signed by the gateway (Standard Webhooks, the gateway's own
secret), since the gateway has no token of ours."""
import json

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from setiakawan_kit.errors import RuleBroken, Unauthenticated

from . import opt_outs
from .storage import messages

RECEIPT_STATUSES = {"delivered": "delivered", "failed": "dead", "undeliverable": "dead"}


def verified(secret, raw, headers):
    """The callback's JSON, once its signature is checked."""
    if not secret:
        raise Unauthenticated("No gateway secret is configured (GATEWAY.inbound_secret): callbacks are refused.")
    try:
        Webhook(secret).verify(raw, {k.lower(): v for k, v in headers.items()})
    except WebhookVerificationError as exc:
        raise Unauthenticated(f"The callback's signature does not verify: {exc}.") from None
    try:
        return json.loads(raw)
    except ValueError:
        raise RuleBroken("The callback is not JSON.") from None


def handle(uow, settings, body):
    """Apply a receipt or a reply; what it did, in words."""
    if body.get("type") == "receipt":
        status = RECEIPT_STATUSES.get(body.get("status"))
        if status is None or not body.get("id"):
            raise RuleBroken("A receipt names the message id and a status (delivered, failed, undeliverable).")
        row = messages.receipt(uow, str(body["id"]), status, f"receipt: {body['status']}")
        return "recorded" if row else "unknown message"
    if body.get("type") == "reply":
        channel, sender = body.get("channel"), body.get("from")
        if channel not in ("sms", "whatsapp") or not isinstance(sender, str) or not sender:
            raise RuleBroken("A reply names its channel (sms or whatsapp) and the number it came from.")
        if opt_outs.is_stop(body.get("text")):
            opt_outs.reply(uow, settings.address_key, channel, sender)
            return "opted out"
        return "ignored"
    raise RuleBroken("A callback is a receipt or a reply (type).")
