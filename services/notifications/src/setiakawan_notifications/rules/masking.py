"""What the delivery log keeps of an address: enough to recognise it
(0812****7890, b***@gmail.com), never the whole of it."""
from lokal import partial_mask

_KINDS = {"sms": "PHONE", "whatsapp": "PHONE", "email": "EMAIL"}


def masked(channel, address):
    kind = _KINDS.get(channel)
    if kind is None:
        raise ValueError(f"no address to mask for channel {channel!r}")
    return partial_mask(kind, address)
