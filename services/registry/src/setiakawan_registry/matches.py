"""Matching without handing out NIKs: an agency (an NGO, a company's CSR
team) sends the NIKs or KK numbers of its own list and learns which of them
the registry holds in its regions, as person references and household ids,
and nothing else. A number registered outside the caller's regions looks
exactly like one not registered at all."""
from setiakawan_kit.auth import require_role
from setiakawan_kit.problems import Problem

from . import personal_data, storage
from .rules import access

ROLES = ("admin", "operator")


class RateLimited(Problem):
    """429 with ``Retry-After``: the agency's hourly allowance is used up."""

    def __init__(self, detail, retry_after):
        super().__init__(429, "Too many requests", detail, kind="rate-limited", retry_after=retry_after)
        self.retry_after = retry_after

    def response(self, headers=None):
        return super().response(headers={**dict(headers or {}), "Retry-After": str(self.retry_after)})


def match(uow, settings, identity, audit, niks=None, kk_numbers=None):
    """The caller's numbers (NIKs, or else KK numbers) found among current
    members or households in its regions. Counts against the agency's
    hourly allowance (shared by every replica through the database); over
    it, nothing is looked up. One access log row per person (household)
    found."""
    require_role(identity, *ROLES)
    by_nik = niks is not None
    numbers = list(dict.fromkeys(niks if by_nik else kk_numbers))
    used, now = storage.match_usage(uow, identity.agency, (access.RATE_WINDOW + access.RATE_BUCKET).total_seconds())
    wait = access.retry_after(used, now, settings.match_rate_per_hour, len(numbers))
    if wait:
        raise RateLimited(f"Your agency may look up {settings.match_rate_per_hour} numbers an hour; "
                          f"these {len(numbers)} fit in {wait} s.", wait)
    storage.add_match_usage(uow, identity.agency, len(numbers))
    if by_nik:
        found = [{"nik": r["nik"], "person_ref": r["id"], "household_id": r["household_id"],
                  "village_code": r["village_code"]} for r in storage.members_by_nik(uow, numbers, identity.regions)]
    else:
        found = [{"kk_number": r["kk_number"], "person_ref": None, "household_id": r["id"],
                  "village_code": r["village_code"]} for r in storage.households_by_kk(uow, numbers, identity.regions)]
    personal_data.record(uow, identity, audit, personal_data.MATCH, personal_data.REFERENCE,
                         [personal_data.entry(m["household_id"], m.pop("village_code"), m["person_ref"]) for m in found])
    order = {n: i for i, n in enumerate(numbers)}
    found.sort(key=lambda m: order[m["nik" if by_nik else "kk_number"]])
    return {"looked_up": len(numbers), "matches": found}
