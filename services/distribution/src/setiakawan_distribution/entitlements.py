"""Entitlements: announcing what a pass issued or blocked, issuing and
revoking as one beneficiary's events arrive (the rule evaluated in Python),
and reading them within the caller's scope."""
from setiakawan_contract import distribution as contract
from setiakawan_kit.errors import NotFound

from . import lookup
from .rules import access, eligibility, programmes as programme_rules
from .storage import entitlements as storage, programmes as programme_storage, readmodel

NO_LONGER = "no longer eligible"


def announce(uow, pass_id):
    """An event for each entitlement the pass ``pass_id`` issued, blocked
    or revoked (past the quota or budget), made in the database; returns
    (issued, blocked)."""
    counts = tuple(uow.publish_select(event_type, *storage.changed_now(pass_id, status))
                   for event_type, status in ((contract.ENTITLEMENT_ISSUED, "issued"),
                                              (contract.ENTITLEMENT_BLOCKED, "blocked")))
    uow.publish_select(contract.ENTITLEMENT_REVOKED, *storage.revoked_now(pass_id))
    return counts


def revoke(uow, entitlement_ids, reason):
    """Revoke undelivered entitlements, each told by its event; the
    beneficiaries whose entitlements they blocked are considered again at
    once (the place in the ledger is free). Returns how many were revoked."""
    if not entitlement_ids:
        return 0
    pass_id = storage.revoke(uow, entitlement_ids, reason)
    revoked = uow.publish_select(contract.ENTITLEMENT_REVOKED, *storage.revoked_now(pass_id))
    for waiting in storage.blocked_by_any(uow, entitlement_ids):
        if waiting["beneficiary_kind"] == "household":
            reconsider_household(uow, str(waiting["beneficiary_id"]))
        elif (group := readmodel.group(uow, waiting["beneficiary_id"])) is not None:
            reconsider_group(uow, group)
    return revoked


def reconsider_household(uow, household_id, villages=None):
    """After an event about the household: each active programme covering
    it (or its ``villages``, where it is and was, when the caller knows
    them) issues what its rule now grants, and what it no longer grants
    (the household left the regions, or stopped being eligible) is revoked."""
    programmes = None
    if villages is not None:
        programmes = programme_storage.active_covering(uow, villages, household_id)
        if not programmes:
            return  # the common case: no programme concerns it, nothing more to read
    facts = readmodel.household_facts(uow, household_id)
    if facts is None:
        return
    if programmes is None:
        programmes = programme_storage.active_covering(uow, [facts["village"]], household_id)
    held = storage.held_by(uow, household_id) if programmes else {}
    for programme in programmes:
        current = held.get(str(programme["id"]))
        eligible = facts["live"] and programme_rules.within_regions(facts["village"], programme["region_codes"]) \
            and eligibility.parsed(programme["rule"]).matches(facts)
        if not eligible:
            if current is not None:
                revoke(uow, [current["id"]], _why_not(facts, programme))
            continue
        if current is not None and (current["status"] == "issued" or _still_blocked(uow, current)):
            continue
        if programme["cash_basis"] == "split_total":
            continue  # the total was divided at activation
        _issue_one(uow, programme, household_id, facts["village"],
                   programme_rules.amount_owed(programme["cash_basis"], programme["cash_amount"], facts["members"]),
                   facts["decile"])


def reconsider_group(uow, group):
    """After a group's event: the active group grants for its kind and
    region issue to it, or revoke what it no longer qualifies for."""
    held = storage.held_by(uow, group["group_id"])
    for programme in programme_storage.active_group_grants(uow, group["group_id"], group["village_code"],
                                                           group["kind"]):
        current = held.get(str(programme["id"]))
        eligible = group["status"] == "active" and group["kind"] == programme["group_kind"] \
            and programme_rules.within_regions(group["village_code"], programme["region_codes"]) \
            and (not programme["group_ids"] or str(group["group_id"]) in {str(g) for g in programme["group_ids"]})
        if not eligible:
            if current is not None:
                revoke(uow, [current["id"]], f"the group is {NO_LONGER} ({group['status']}, {group['kind']}, "
                                             f"village {group['village_code']})")
            continue
        if current is not None and (current["status"] == "issued" or _still_blocked(uow, current)):
            continue
        if programme["cash_basis"] == "split_total":
            continue
        candidates, params = storage.group_candidates(programme, group_id=group["group_id"])
        _issue(uow, programme, candidates, params)


def _issue_one(uow, programme, beneficiary_id, village_code, amount, decile):
    candidates, params = storage.one_candidate(beneficiary_id, village_code, amount, decile)
    _issue(uow, programme, candidates, params)


def _issue(uow, programme, candidates, params):
    if programme["quota"] is not None or programme["budget"] is not None:
        programme_storage.programme(uow, programme["id"], lock=True)  # one count of the quota at a time
    announce(uow, storage.issue(uow, programme, candidates, params))


def _still_blocked(uow, row):
    """Whether the benefit blocking ``row`` still holds the place (a blocked
    entitlement is tried again once it does not)."""
    if row["status"] != "blocked" or row["blocked_by"] is None:
        return False
    blocker = storage.entitlement(uow, row["blocked_by"])
    return blocker is not None and blocker["status"] in ("issued", "delivered")


def _why_not(facts, programme):
    if not facts["live"]:
        return f"the household is {NO_LONGER} (status {facts['status']})"
    if not programme_rules.within_regions(facts["village"], programme["region_codes"]):
        return f"the household moved out of the programme's regions (to {facts['village']})"
    return f"the household is {NO_LONGER} under the rule {programme['rule']}"


def read(uow, identity, entitlement_id):
    return lookup.entitlement(uow, identity, entitlement_id)


def in_programme(uow, identity, programme_id, query):
    lookup.programme(uow, identity, programme_id)
    limit, offset = query["per_page"], (query["page"] - 1) * query["per_page"]
    rows = storage.in_programme(uow, programme_id, identity.agency, identity.regions, query, limit, offset)
    return {"page": query["page"], "per_page": limit, "total": rows[0]["total"] if rows else 0, "items": rows}


def of_household(uow, identity, household_id):
    """Every benefit the household holds or held from every agency, if the
    caller's regions cover it (or the caller runs one of its programmes)."""
    rows = storage.of_household(uow, household_id)
    facts = readmodel.household_facts(uow, household_id)
    village = facts["village"] if facts else (rows[0]["village_code"] if rows else None)
    if village is None or not (identity.covers(village) or any(access.runs(identity, r) for r in rows)):
        raise NotFound(f"No household {household_id} you may see.")
    visible = rows if identity.covers(village) else [r for r in rows if access.runs(identity, r)]
    return {"household_id": household_id, "village_code": village, "benefits": visible}
