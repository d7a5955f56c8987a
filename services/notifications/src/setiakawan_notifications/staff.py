"""Use cases of an agency's admin: the staff contacts its alerts go to."""
import uuid

from setiakawan_kit.errors import Conflict, NotFound, OutOfScope

from .rules import access
from .storage import contacts as storage


def _admin(identity):
    if identity.role not in access.MANAGE_ROLES:
        raise OutOfScope("Only an agency's admin sets its staff contacts.")


def add(uow, identity, body):
    _admin(identity)
    row = storage.insert(uow, dict(body, id=str(uuid.uuid4()), agency=identity.agency))
    if row is None:
        raise Conflict("Your agency has that address on that channel already.")
    return row


def of_agency(uow, identity):
    return storage.of_agency(uow, identity.agency)


def remove(uow, identity, contact_id):
    _admin(identity)
    row = storage.contact(uow, contact_id)
    if row is None or row["agency"] != identity.agency:
        raise NotFound(f"No staff contact {contact_id} of your agency.")
    storage.delete(uow, contact_id)
