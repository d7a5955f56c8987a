"""Use cases of a partner's admin: webhook subscriptions. The secret is
shown once, when the subscription is made; a URL that could reach inside
our network is refused (server-side request forgery)."""
import uuid

from setiakawan_kit.errors import Conflict, NotFound, OutOfScope, RuleBroken

from .rules import access, destinations, signing
from .storage import subscriptions as storage


def create(uow, identity, body, resolve, production):
    _admin(identity)
    why = destinations.refused(body["url"], resolve(body["url"]), production)
    if why:
        raise RuleBroken(why, field="url")
    outside = [code for code in body["region_codes"] if not identity.covers(code)]
    if outside:
        raise OutOfScope(f"Your agency's regions do not cover {', '.join(outside)}.")
    return storage.insert(uow, {"id": str(uuid.uuid4()), "agency": identity.agency, "url": body["url"],
                                "event_types": sorted(set(body["event_types"])),
                                "region_codes": sorted(set(body["region_codes"])), "secret": signing.new_secret()})


def of_agency(uow, identity):
    return storage.of_agency(uow, identity.agency)


def read(uow, identity, subscription_id, lock=False):
    row = storage.subscription(uow, subscription_id, lock=lock)
    if row is None or row["agency"] != identity.agency:
        raise NotFound(f"No subscription {subscription_id} of your agency.")
    return row


def resume(uow, identity, subscription_id):
    """A suspended subscription delivers again (what was given up is not sent)."""
    _admin(identity)
    row = read(uow, identity, subscription_id, lock=True)
    if row["status"] != "suspended":
        raise Conflict("The subscription is not suspended.", subscription_status=row["status"])
    return storage.set_status(uow, subscription_id, "active")


def delete(uow, identity, subscription_id):
    _admin(identity)
    read(uow, identity, subscription_id, lock=True)
    storage.set_status(uow, subscription_id, "deleted")


def _admin(identity):
    if identity.role not in access.MANAGE_ROLES:
        raise OutOfScope("Only an agency's admin manages its webhook subscriptions.")
