"""What an answer from the other side means for a message: sent, try the
next channel (WhatsApp: the number is not on WhatsApp), try again later
(rate limited, the server failed, no answer), or never (refused)."""
from dataclasses import dataclass

SENT, NEXT_CHANNEL, RETRY, REFUSED = "sent", "next_channel", "retry", "refused"
NOT_ON_WHATSAPP = "not_on_whatsapp"
#: answers about our account or address at the gateway, not about the message
GATEWAY_SETUP = (401, 403, 404, 408)


@dataclass(frozen=True)
class Outcome:
    kind: str
    answer: str                # what the log keeps of the answer
    gateway_id: str = None     # the gateway's id of the message, for delivery receipts
    retry_after_s: float = None


def from_gateway(status, body):
    """The SMS/WhatsApp gateway's answer: 2xx ``{"id": …}`` taken (also for a
    request it had taken before under the same idempotency key), 422
    ``{"error": "not_on_whatsapp"}``, 429 with Retry-After, 5xx, other 4xx."""
    body = body if isinstance(body, dict) else {}
    said = body.get("error") or body.get("status") or ""
    answer = f"{status} {said}".strip()
    if 200 <= status < 300 and body.get("id"):
        return Outcome(SENT, answer, gateway_id=str(body["id"])[:200])
    if said == NOT_ON_WHATSAPP:
        return Outcome(NEXT_CHANNEL, answer)
    if status == 429:
        return Outcome(RETRY, answer, retry_after_s=_seconds(body.get("retry_after")))
    if status >= 500 or 200 <= status < 300 or status in GATEWAY_SETUP:
        # a 2xx without an id is not a taken message; a refused token or a wrong URL is ours to fix,
        # not the recipient's fault: tried again meanwhile
        return Outcome(RETRY, answer)
    return Outcome(REFUSED, answer)


def from_partner(status, reason=""):
    """A partner's webhook receiver: any 2xx takes it; 410 Gone ends the
    subscription's deliveries as refused; anything else is tried again."""
    answer = f"{status} {reason}".strip()
    if 200 <= status < 300:
        return Outcome(SENT, answer)
    if status == 410:
        return Outcome(REFUSED, answer)
    return Outcome(RETRY, answer)


def unreachable(error):
    return Outcome(RETRY, f"unreachable: {error}"[:500])


def _seconds(value):
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return None
