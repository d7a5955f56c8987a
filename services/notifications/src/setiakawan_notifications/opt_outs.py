"""Use cases of opting out: staff record that a person asked for no more
messages on a channel (and that they want them again), and the gateway
forwards a STOP reply, known only by the number it came from."""
from setiakawan_kit.errors import NotFound

from .rules import addresses
from .rules.addresses import PHONE_CHANNELS
from .storage import opt_outs as storage

STOP_WORDS = ("STOP", "BERHENTI", "UNSUBSCRIBE", "UNREG")


def record(uow, identity, person_ref, channels):
    for channel in channels:
        storage.record(uow, channel, person_ref, None, "api", identity.agency)
    return of_person(uow, person_ref)


def of_person(uow, person_ref):
    return {"person_ref": str(person_ref), "channels": storage.of_person(uow, person_ref)}


def withdraw(uow, identity, person_ref, channel):
    if channel not in PHONE_CHANNELS or not storage.remove(uow, channel, person_ref):
        raise NotFound(f"{person_ref} has not opted out of {channel}.")
    return of_person(uow, person_ref)


def is_stop(text):
    words = (text or "").strip().upper().split()
    return bool(words) and words[0] in STOP_WORDS


def reply(uow, key, channel, sender):
    """A reply from ``sender`` on ``channel``: STOP opts the number out of it."""
    return storage.record(uow, channel, None, addresses.address_hash(key, channel, sender), "reply", "gateway")
