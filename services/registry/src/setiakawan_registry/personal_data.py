"""Personal data leaving the registry: shown as the disclosure policy allows
(``rules.disclosure``) and logged, one row per household or person, in the
access log (UU PDP 27/2022: who saw whose data, when, why). Every use case
that answers with NIKs, KK numbers, names, birth dates or phones goes
through here, and so do the RPC methods other services call."""
import uuid
from dataclasses import dataclass

from setiakawan_kit.context import is_correlation_id

from . import storage
from .rules import disclosure

# what was read (the access log's ``action``)
READ = "household.read"              # GET /households/{id}
WRITE = "household.write"            # a change answered with the household or member
SEARCH = "household.search"
HISTORY = "household.history"
DUPLICATES = "duplicates.list"
REJECTIONS = "import.rejections"
MATCH = "match"
CONTACT = "contact_details"          # RPC
NIK_CHECK = "nik_belongs_to"         # RPC

# the access log's ``disclosure`` besides the policy's levels
REFERENCE = "reference"  # a match: the caller's own number, answered with references
CHECK = "check"          # whether a NIK is a person's: yes or no


@dataclass(frozen=True)
class Audit:
    """Why and in which request personal data is read: the caller's
    ``X-Purpose`` (checked by ``rules.access.purpose``) and the correlation id."""

    purpose: str = None
    correlation_id: str = None


@dataclass(frozen=True)
class Service:
    """Another service calling by RPC, in the access log's terms."""

    agency: str
    kind: str = "service"
    role: str = "rpc"


def level(identity):
    return disclosure.level(identity.kind, identity.role)


def entry(household_id, region_code, person_ref=None, import_id=None):
    """One access log row's subject: a household (and person) or an import."""
    return {"household_id": household_id, "region_code": region_code, "person_ref": person_ref,
            "import_id": import_id}


def record(uow, actor, audit, action, shown, entries):
    """Log that ``actor`` (an Identity or a Service) was shown ``entries``
    at level ``shown``; one row each, in one statement (an entry's own
    ``correlation_id`` before the audit's)."""
    storage.record_access(uow, [dict(e, agency=actor.agency, kind=actor.kind, role=actor.role, action=action,
                                     disclosure=shown, purpose=audit.purpose,
                                     correlation_id=e.get("correlation_id") or audit.correlation_id)
                                for e in entries])


# -- HTTP answers -------------------------------------------------------------------
def household(uow, identity, audit, action, row, person_ref=None):
    """A household with its current members, as the caller may see it."""
    shown = level(identity)
    record(uow, identity, audit, action, shown, [entry(row["id"], row["village_code"], person_ref)])
    members = storage.members_of(uow, row["id"])
    return dict(disclosure.household(dict(row, members=members), shown), disclosure=shown)


def member(uow, identity, audit, action, row):
    """One member (a row of ``members``), as the caller may see it."""
    shown = level(identity)
    record(uow, identity, audit, action, shown, [entry(row["household_id"], row["village_code"], row["id"])])
    return dict(disclosure.person(row, shown), disclosure=shown)


def persons_page(uow, identity, audit, action, page):
    """A page of persons (search results: ``person_ref``, ``household_id``,
    ``village_code`` and their details); one log row per person."""
    shown = level(identity)
    items = page["items"]
    record(uow, identity, audit, action, shown,
           [entry(p["household_id"], p["village_code"], p["person_ref"]) for p in items])
    return dict(page, items=[disclosure.person(p, shown) for p in items], disclosure=shown)


def history_page(uow, identity, audit, household, page):
    """A page of a household's history; logged when it holds entries."""
    shown = level(identity)
    if page["items"]:
        record(uow, identity, audit, HISTORY, shown, [entry(household["id"], household["village_code"])])
    return dict(page, items=[disclosure.history_entry(e, shown) for e in page["items"]], disclosure=shown)


# -- RPC for other services ------------------------------------------------------------
def contact_details(uow, caller, person_ref, audit=Audit()):
    """Name, phone and village of a current member, for notifications;
    None for an unknown or removed person (or a reference that is none).
    Given a list of references (at most ``MAX_CONTACTS``), a list of
    answers in the same order: one call for a sender's batch."""
    if isinstance(person_ref, (list, tuple)):
        return _contacts(uow, caller, person_ref[:MAX_CONTACTS], audit)
    person_ref = _as_uuid(person_ref)
    row = storage.contact(uow, person_ref) if person_ref else None
    if row is None:
        return None
    record(uow, Service(caller), audit, CONTACT, disclosure.CLEAR,
           [entry(row["household_id"], row["village_code"], row["id"])])
    return _contact(row)


MAX_CONTACTS = 1000


def _contacts(uow, caller, person_refs, audit):
    refs = [_as_uuid(ref) for ref in person_refs]
    rows = {str(r["id"]): r for r in storage.contacts(uow, sorted({r for r in refs if r}))} if any(refs) else {}
    if rows:
        record(uow, Service(caller), audit, CONTACT, disclosure.CLEAR,
               [entry(r["household_id"], r["village_code"], r["id"]) for r in rows.values()])
    return [_contact(rows[ref]) if ref in rows else None for ref in refs]


def _contact(row):
    return {"person_ref": str(row["id"]), "name": row["name"], "phone": row["phone"],
            "village_code": row["village_code"]}


def nik_belongs_to(uow, caller, nik, person_ref, audit=Audit()):
    """Whether a NIK shown at a delivery is this person's (proof of delivery).
    Given a list of checks instead (``{"nik", "person_ref",
    "correlation_id"}``, at most ``MAX_NIK_CHECKS``), a list of answers in
    the same order, each check logged under its own request's correlation
    id: one call for the deliveries a service has in flight."""
    if isinstance(nik, (list, tuple)) and person_ref is None:
        return _nik_checks(uow, caller, nik[:MAX_NIK_CHECKS], audit)
    person_ref = _as_uuid(person_ref)
    if person_ref is None or not isinstance(nik, str) or "\x00" in nik:
        return False
    row = storage.nik_check(uow, nik, person_ref)
    if row is None:
        return False
    record(uow, Service(caller), audit, NIK_CHECK, CHECK, [entry(row["household_id"], row["village_code"], row["id"])])
    return bool(row["matches"])


MAX_NIK_CHECKS = 1000


def _nik_checks(uow, caller, checks, audit):
    asked = []  # (position, person_ref, nik) of the checks that can be asked
    for position, check in enumerate(checks):
        if not isinstance(check, dict):
            continue
        person_ref, nik = _as_uuid(check.get("person_ref")), check.get("nik")
        if person_ref is not None and isinstance(nik, str) and "\x00" not in nik:
            asked.append((position, person_ref, nik))
    answers = [False] * len(checks)
    rows = storage.nik_checks(uow, [(p, ref, nik) for p, ref, nik in asked]) if asked else []
    entries = []
    for row in rows:
        answers[row["position"]] = bool(row["matches"])
        correlation_id = checks[row["position"]].get("correlation_id")
        entries.append(dict(entry(row["household_id"], row["village_code"], row["id"]),
                            correlation_id=correlation_id if is_correlation_id(correlation_id)
                            else audit.correlation_id))
    record(uow, Service(caller), audit, NIK_CHECK, CHECK, entries)
    return answers


def _as_uuid(value):
    """The canonical form of a UUID (any form Python reads, such as
    ``urn:uuid:…``, which PostgreSQL would refuse), or None."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None
