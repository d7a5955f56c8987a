"""What is kept of an address: a mask for people to read (0812****7890),
and a keyed hash to recognise an opt-out by (a STOP reply names a number,
which is not kept). A phone is hashed in its E.164 form, so 0812… and
+62812… are one number."""
import hashlib
import hmac
from urllib.parse import urlsplit

from lokal import normalize_phone

from .masking import masked

PHONE_CHANNELS = ("sms", "whatsapp")


def canonical(channel, address):
    if channel in PHONE_CHANNELS:
        return normalize_phone(address) or address.strip()
    return address.strip().lower()


def address_hash(key, channel, address):
    return hmac.new(key, canonical(channel, address).encode(), hashlib.sha256).hexdigest()


def shown(channel, address):
    """The log's view of an address: a webhook's host, else the masked number or email."""
    if channel == "webhook":
        return urlsplit(address).hostname
    return masked(channel, address)
