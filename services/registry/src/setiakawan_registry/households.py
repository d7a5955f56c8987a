"""The registry's use cases: one function per thing an agency does. Each
takes a unit of work and plain values, applies the rules, stores, records
the history and publishes the event, all in the caller's transaction."""
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from setiakawan_kit.auth import require_region
from setiakawan_contract import registry as contract
from setiakawan_kit.problems import Problem, conflict, forbidden, not_found

from . import personal_data, storage
from .rules import calendar, duplicates, households as hh
from .rules.access import MATCH_RATE_PER_HOUR
from .rules.identity import normalize_name
from .rules.welfare import WelfareModel

HOUSEHOLD_FIELDS = ("street", "rt", "rw", "village_code", "indicators", "welfare_score", "decile", "status",
                    "legal_basis", "consent_date", "consent_recorded_by", "verified_by", "reverify_due")
MEMBER_FIELDS = ("name", "relationship", "disability", "occupation", "education", "phone")


@dataclass(frozen=True)
class Settings:
    welfare: WelfareModel
    reverify_months: int = 12
    match_rate_per_hour: int = MATCH_RATE_PER_HOUR

    @classmethod
    def from_config(cls, config):
        rate = config.get("MATCH_RATE_PER_HOUR")
        return cls(WelfareModel.from_config(config.get("WELFARE")), int(config.get("REVERIFY_MONTHS") or 12),
                   MATCH_RATE_PER_HOUR if rate in (None, "") else int(rate))


def rule_problem(exc):
    errors = [{"field": exc.field, "message": str(exc)}] if exc.field else None
    return Problem(422, "Rule violated", str(exc), kind="rule-violated", errors=errors)


# -- reading ------------------------------------------------------------------
def load(uow, identity, household_id, lock=False):
    """The household, if it exists and the caller's regions cover it."""
    row = storage.household(uow, household_id, lock=lock)
    if row is None or not identity.covers(row["village_code"]):
        raise not_found(f"No household {household_id} in your regions.")
    return row


def read(uow, identity, audit, household_id):
    """A household with its members, as the caller may see them (the read is logged)."""
    return personal_data.household(uow, identity, audit, personal_data.READ, load(uow, identity, household_id))


def _answer(uow, identity, audit, row):
    return personal_data.household(uow, identity, audit, personal_data.WRITE, row)


def publish_household(uow, event_type, row, members=None, **extra):
    members = storage.members_of(uow, row["id"]) if members is None else members
    return uow.publish(event_type, str(row["id"]),
                       {"household": hh.snapshot(row, members, calendar.today()), **extra})


# -- registering ----------------------------------------------------------------
def member_row(household_id, village_code, member):
    return {
        "id": str(uuid.uuid4()), "household_id": str(household_id), "nik": member["nik"],
        "name": member["name"].strip(), "name_norm": normalize_name(member["name"]),
        "birth_date": member["birth_date"], "sex": member["sex"],
        "relationship": member["relationship"], "disability": member["disability"],
        "occupation": member["occupation"], "education": member["education"], "phone": member.get("phone"),
        "regency_code": village_code[:5], "village_code": village_code,
    }


def _refuse_registered(uow, identity, kk_number=None, niks=()):
    """409 when a KK number or NIK is registered already, by any agency."""
    if kk_number:
        existing = storage.household_by_kk(uow, kk_number)
        if existing:
            raise _duplicate(identity, "KK number", existing["id"], existing["village_code"])
    for existing in storage.members_by_nik(uow, niks):
        raise _duplicate(identity, f"NIK {existing['nik'][:6]}…", existing["household_id"], existing["village_code"])


def _duplicate(identity, what, household_id, village_code):
    if duplicates.visible_conflict(village_code, identity):
        return conflict(f"This {what} is already registered in household {household_id}.",
                        existing_household_id=str(household_id), existing_village_code=village_code)
    return conflict(f"This {what} is already registered by an agency outside your regions.")


def flag_likely_duplicates(uow, member_ids):
    return record_candidates(uow, storage.likely_duplicates(uow, member_ids, duplicates.LIKELY_SIMILARITY))


def record_candidates(uow, found):
    """Store likely-duplicate pairs (from storage.likely_duplicates*) for review."""
    for c in found:
        c["id"] = str(uuid.uuid4())
    return storage.insert_candidates(uow, found, duplicates.likely_duplicate_reason)


def register(uow, settings, identity, audit, body):
    village = body["address"]["village_code"]
    require_region(identity, village)
    _refuse_registered(uow, identity, body["kk_number"], [m["nik"] for m in body["members"]])
    household_id = str(uuid.uuid4())
    score = settings.welfare.score(body["indicators"], len(body["members"]))
    row = {
        "id": household_id, "kk_number": body["kk_number"],
        **{k: body["address"][k] for k in ("street", "rt", "rw", "village_code")},
        "indicators": body["indicators"], "welfare_score": score, "decile": settings.welfare.decile(score),
        "status": "registered", "registering_agency": identity.agency, "legal_basis": body["legal_basis"],
        "consent_date": body.get("consent_date"), "consent_recorded_by": body.get("consent_recorded_by"),
    }
    storage.insert_household(uow, row)
    members = [member_row(household_id, village, m) for m in body["members"]]
    storage.insert_members(uow, members)
    storage.record(uow, "household", household_id, household_id, "registered", identity,
                   {"kk_number": row["kk_number"], "village_code": village, "members": len(members),
                    "welfare_score": score})
    flag_likely_duplicates(uow, [m["id"] for m in members])
    stored = storage.household(uow, household_id)
    publish_household(uow, contract.HOUSEHOLD_REGISTERED, stored)
    return _answer(uow, identity, audit, stored)


# -- changing -------------------------------------------------------------------
def _rescored(settings, row, indicators, size):
    score = settings.welfare.score(indicators, size)
    return {"welfare_score": score, "decile": settings.welfare.decile(score)}


def update_indicators(uow, settings, identity, audit, household_id, indicators):
    before = load(uow, identity, household_id, lock=True)
    members = storage.members_of(uow, household_id)
    after = storage.update_household(uow, household_id, indicators=indicators,
                                     **_rescored(settings, before, indicators, len(members)))
    storage.record(uow, "household", household_id, household_id, "indicators_updated", identity,
                   hh.changes(before, after, ("indicators", "welfare_score", "decile")))
    publish_household(uow, contract.HOUSEHOLD_UPDATED, after, members, changes=["welfare"])
    return _answer(uow, identity, audit, after)


def move(uow, identity, audit, household_id, address):
    before = load(uow, identity, household_id, lock=True)
    require_region(identity, address["village_code"])
    after = storage.update_household(uow, household_id, **address)
    storage.move_members(uow, household_id, address["village_code"])
    storage.record(uow, "household", household_id, household_id, "moved", identity,
                   hh.changes(before, after, ("street", "rt", "rw", "village_code")))
    publish_household(uow, contract.HOUSEHOLD_UPDATED, after, changes=["address"],
                       previous_village_code=before["village_code"])
    return _answer(uow, identity, audit, after)


def verify(uow, settings, identity, audit, household_id, outcome, notes, reason):
    before = load(uow, identity, household_id, lock=True)
    try:
        hh.check_transition(before["status"], outcome, merged=before["merged_into"] is not None)
    except hh.RuleViolation as exc:
        raise conflict(str(exc)) from None
    now = datetime.now(timezone.utc)
    fields = {"status": outcome, "verified_at": now, "verified_by": identity.agency,
              "verification_notes": notes or reason}
    if outcome == "verified":
        fields["reverify_due"] = hh.reverify_due(now.date(), settings.reverify_months)
    after = storage.update_household(uow, household_id, **fields)
    storage.record(uow, "household", household_id, household_id, outcome, identity,
                   dict(hh.changes(before, after, ("status", "verified_by", "reverify_due")),
                        notes=notes, reason=reason))
    members = storage.members_of(uow, household_id)
    if outcome == "verified":
        publish_household(uow, contract.HOUSEHOLD_VERIFIED, after, members, verified_by=identity.agency,
                           verified_at=now.isoformat(), reverify_due=after["reverify_due"].isoformat())
    else:
        publish_household(uow, contract.HOUSEHOLD_REJECTED, after, members, rejected_by=identity.agency,
                           reason=reason)
    if before["status"] != outcome:
        publish_household(uow, contract.HOUSEHOLD_STATUS_CHANGED, after, members,
                           previous_status=before["status"], reason=reason or "verified")
    return _answer(uow, identity, audit, after)


def change_status(uow, identity, audit, household_id, status, reason):
    before = load(uow, identity, household_id, lock=True)
    try:
        hh.check_transition(before["status"], status, merged=before["merged_into"] is not None)
    except hh.RuleViolation as exc:
        raise conflict(str(exc)) from None
    after = storage.update_household(uow, household_id, status=status)
    storage.record(uow, "household", household_id, household_id, "status_changed", identity,
                   dict(hh.changes(before, after, ("status",)), reason=reason))
    publish_household(uow, contract.HOUSEHOLD_STATUS_CHANGED, after, previous_status=before["status"],
                       reason=reason)
    return _answer(uow, identity, audit, after)


def add_member(uow, settings, identity, audit, household_id, member):
    before = load(uow, identity, household_id, lock=True)
    members = storage.members_of(uow, household_id)
    try:
        hh.check_members([*members, member])
    except hh.RuleViolation as exc:
        raise rule_problem(exc) from None
    _refuse_registered(uow, identity, niks=[member["nik"]])
    row = member_row(household_id, before["village_code"], member)
    storage.insert_members(uow, [row])
    after = storage.update_household(uow, household_id, **_rescored(
        settings, before, before["indicators"], len(members) + 1))
    storage.record(uow, "member", row["id"], household_id, "added", identity,
                   {"name": row["name"], "relationship": row["relationship"]})
    flag_likely_duplicates(uow, [row["id"]])
    publish_household(uow, contract.MEMBER_ADDED, after, person_ref=row["id"])
    return personal_data.member(uow, identity, audit, personal_data.WRITE, storage.member(uow, row["id"]))


def _load_member(uow, household_id, member_id):
    row = storage.member(uow, member_id)
    if row is None or str(row["household_id"]) != str(household_id) or row["removed_at"] is not None:
        raise not_found(f"No current member {member_id} in household {household_id}.")
    return row


def update_member(uow, settings, identity, audit, household_id, member_id, fields):
    load(uow, identity, household_id, lock=True)
    before = _load_member(uow, household_id, member_id)
    if not fields:
        return personal_data.member(uow, identity, audit, personal_data.WRITE, before)
    if "relationship" in fields:
        others = [m for m in storage.members_of(uow, household_id) if str(m["id"]) != str(member_id)]
        try:
            hh.check_members([*others, dict(before, **fields)])
        except hh.RuleViolation as exc:
            raise rule_problem(exc) from None
    if "name" in fields:
        fields = dict(fields, name=fields["name"].strip(), name_norm=normalize_name(fields["name"]))
    after = storage.update_member(uow, member_id, **fields)
    storage.record(uow, "member", member_id, household_id, "updated", identity,
                   hh.changes(before, after, MEMBER_FIELDS))
    row = storage.update_household(uow, household_id)  # the snapshot's version moves on
    publish_household(uow, contract.HOUSEHOLD_UPDATED, row, changes=[])
    return personal_data.member(uow, identity, audit, personal_data.WRITE, after)


def remove_member(uow, settings, identity, audit, household_id, member_id, reason):
    """Remove a member; the household as it is then is the answer."""
    after = drop_member(uow, settings, identity, household_id, member_id, reason)
    return personal_data.household(uow, identity, audit, personal_data.WRITE, after, person_ref=str(member_id))


def drop_member(uow, settings, identity, household_id, member_id, reason):
    """Remove a member (also when merging a duplicate); the household row after."""
    before = load(uow, identity, household_id, lock=True)
    row = _load_member(uow, household_id, member_id)
    remaining = [m for m in storage.members_of(uow, household_id) if str(m["id"]) != str(member_id)]
    if remaining:
        try:
            hh.check_members(remaining)
        except hh.RuleViolation:
            raise conflict("Name another member head of the household before removing the head.") from None
    storage.remove_member(uow, member_id, reason)
    after = storage.update_household(uow, household_id, **_rescored(
        settings, before, before["indicators"], len(remaining)))
    storage.record(uow, "member", member_id, household_id, "removed", identity,
                   {"reason": reason, "name": row["name"]})
    publish_household(uow, contract.MEMBER_REMOVED, after, remaining, person_ref=str(member_id), reason=reason)
    return after


# -- searching ------------------------------------------------------------------
def paged(query, fetch):
    """One page of a list (``page`` and ``per_page`` from the query):
    ``fetch(limit, offset)`` reads its rows."""
    rows = fetch(query["per_page"], (query["page"] - 1) * query["per_page"])
    return {"page": query["page"], "per_page": query["per_page"], "items": rows}


def search(uow, identity, audit, query):
    """Members by NIK or name in the caller's regions, as the caller may
    see them; one access log row per person found."""
    regions = _search_regions(identity, query.get("region"))
    if query.get("nik"):  # one person at most: a single page
        page = paged(query, lambda limit, offset: storage.search_by_nik(uow, query["nik"], regions))
    else:
        page = paged(query, lambda limit, offset: storage.search_by_name(
            uow, normalize_name(query["name"]), regions, query.get("status"), limit, offset))
    return personal_data.persons_page(uow, identity, audit, personal_data.SEARCH, page)


def history(uow, identity, audit, household_id, query):
    """Who changed a household (and its members), what and when: oldest
    first, a page at a time, as the caller may see it."""
    household = load(uow, identity, household_id)
    page = paged(query, lambda limit, offset: storage.history(uow, household_id, limit, offset))
    return personal_data.history_page(uow, identity, audit, household, page)


def _search_regions(identity, region):
    if region is None:
        return identity.regions
    if identity.covers(region):
        return (region,)
    # a region above the caller's: search only the parts the caller covers
    inside = tuple(r for r in identity.regions if r.startswith(region + "."))
    if not inside:
        raise forbidden(f"Region {region} is outside your regions.")
    return inside


def due_for_reverification(uow, identity, query):
    regions = _search_regions(identity, query.get("region"))
    return paged(query, lambda limit, offset: storage.households_due(
        uow, regions, query["before"] or calendar.today(), limit, offset))
