"""Use case of the gateway's callbacks: delivery receipts and people's
replies, each signed by the gateway (Standard Webhooks, the gateway's own
secret), since the gateway has no token of ours."""
import json
import uuid

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from setiakawan_kit.errors import Conflict, RuleBroken, Unauthenticated

from . import dispatch, opt_outs
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
    except (ValueError, RecursionError):
        raise RuleBroken("The callback is not JSON.") from None


def handle(uow, settings, body):
    """Apply a receipt or a reply; what it did, in words. A receipt for a
    message whose sending is not yet written down is a Conflict: the
    gateway sends it again later."""
    if not isinstance(body, dict):
        raise RuleBroken("A callback is a JSON object.")
    kind = body.get("type")
    if kind == "receipt":
        gateway_id, reference, said = body.get("id"), body.get("reference"), body.get("status")
        status = RECEIPT_STATUSES.get(said) if isinstance(said, str) else None
        if status is None or not _text(gateway_id) or (reference is not None and not _uuid(reference)):
            raise RuleBroken("A receipt names the gateway's message id (and our reference), and a status: "
                             "delivered, failed or undeliverable.")
        row = dispatch.receipt(uow, gateway_id, reference and str(reference), status, f"receipt: {said}")
        if row is not None:
            return "recorded"
        known = messages.status_of(uow, gateway_id, reference and str(reference))
        if known in ("queued", "failed"):
            raise Conflict("The message's sending is not written down yet; send the receipt again later.")
        return "already recorded" if known else "unknown message"
    if kind == "reply":
        channel, sender, text = body.get("channel"), body.get("from"), body.get("text")
        if channel not in ("sms", "whatsapp") or not _text(sender) or not isinstance(text, (str, type(None))):
            raise RuleBroken("A reply names its channel (sms or whatsapp), the number it came from and its text.")
        if opt_outs.is_stop(text):
            opt_outs.reply(uow, settings.address_key, channel, sender)
            return "opted out"
        return "ignored"
    raise RuleBroken("A callback is a receipt or a reply (type).")


def _text(value):
    return isinstance(value, str) and 0 < len(value) <= 200 and "\x00" not in value


def _uuid(value):
    try:
        return isinstance(value, str) and bool(uuid.UUID(value))
    except ValueError:
        return False
