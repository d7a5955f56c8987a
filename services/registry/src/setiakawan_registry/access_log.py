"""The access log, for admins: who read whose personal data, when, in what
form and why (UU PDP 27/2022), as ``personal_data`` records it."""
from setiakawan_kit.auth import require_role

from . import storage
from .households import paged

ROLES = ("admin",)


def entries(uow, identity, query):
    """Entries whose village (an import's region) the admin's regions
    cover, newest first, filtered by household, person, agency and time."""
    require_role(identity, *ROLES)
    return paged(query, lambda limit, offset: storage.access_log(
        uow, identity.regions, query.get("household"), query.get("person_ref"), query.get("agency"),
        query.get("since"), query.get("until"), limit, offset))
