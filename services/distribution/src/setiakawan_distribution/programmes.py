"""Use cases of a programme's owner: create and edit a draft, preview whom
its rule reaches, activate it (every entitlement issued in one pass),
close it; and reading programmes as any agency may see them."""
import uuid

from setiakawan_contract import distribution as contract
from setiakawan_kit.errors import Conflict, OutOfScope, RuleBroken

from . import entitlements, lookup, snapshots
from .rules import eligibility, programmes as rules
from .rules.stock import decimal_text
from .storage import entitlements as entitlement_storage, programmes as storage, readmodel, stock as stock_storage

#: what a group grant's rule must be: it goes to groups, which no household rule describes
GROUP_RULE = "true"


def compiled_rule(text, kind):
    """The programme's rule, parsed and checked; RuleBroken says why not."""
    try:
        rule = eligibility.parse(text)
    except eligibility.RuleError as exc:
        raise RuleBroken(f"The eligibility rule is refused: {exc}", field="rule") from None
    if kind == "group_grant" and text.strip() != GROUP_RULE:
        raise RuleBroken("A group grant goes to groups (its group_kind, regions and group_ids say which): "
                         f"its rule is {GROUP_RULE}.", field="rule")
    return rule


def _checked(uow, identity, body):
    """The programme's columns from a request body, or RuleBroken / OutOfScope."""
    regions = sorted(set(body["region_codes"]))
    outside = [r for r in regions if not identity.covers(r)]
    if outside:
        raise OutOfScope(f"Regions {', '.join(outside)} are outside the regions of {identity.agency}.")
    cash = body.get("cash")
    shape = rules.Shape(body["kind"], tuple(body.get("items") or ()), cash and cash["basis"], cash and cash["amount"],
                        body.get("group_kind"), body.get("budget"))
    problems = {**rules.check_shape(shape), **rules.check_period(body["period"]["starts_on"],
                                                                  body["period"]["ends_on"])}
    point_id = body.get("point_id")
    if point_id is not None and stock_storage.point(uow, point_id) is None:
        problems["point_id"] = f"No distribution point {point_id}."
    if problems:
        field, message = next(iter(problems.items()))
        raise RuleBroken(message, field=field, errors=[{"field": f, "message": m} for f, m in problems.items()])
    rule_text = body.get("rule") or GROUP_RULE
    compiled_rule(rule_text, body["kind"])
    partners = sorted({p.strip() for p in body.get("partners") or () if p.strip()} - {identity.agency})
    budget = cash["amount"] if cash and cash["basis"] == "split_total" else body.get("budget")
    return {"partners": partners, "funding_source": body["funding_source"], "name": body["name"].strip(),
            "kind": body["kind"], "category": body["category"],
            "items": [{"item": i["item"].strip(), "quantity": decimal_text(i["quantity"]), "unit": i["unit"].strip()}
                      for i in body.get("items") or ()],
            "cash_basis": cash and cash["basis"], "cash_amount": cash and cash["amount"],
            "group_kind": body.get("group_kind"),
            "group_ids": sorted({str(g) for g in body["group_ids"]}) if body.get("group_ids") else None,
            "starts_on": body["period"]["starts_on"], "ends_on": body["period"]["ends_on"],
            "region_codes": regions, "rule": rule_text.strip(), "quota": body.get("quota"), "budget": budget,
            "stacks": body.get("stacks", False), "point_id": point_id and str(point_id)}


def create(uow, identity, body):
    row = dict(_checked(uow, identity, body), id=str(uuid.uuid4()), agency=identity.agency,
               agency_kind=identity.kind)
    storage.insert(uow, row)
    return storage.programme(uow, row["id"])


def edit(uow, identity, programme_id, body):
    row = lookup.managed_programme(uow, identity, programme_id)
    if row["status"] not in rules.EDITABLE:
        raise Conflict(f"An {row['status']} programme cannot be edited; only a draft can.",
                       programme_status=row["status"])
    return storage.update(uow, programme_id, **_checked(uow, identity, body))


def read(uow, identity, programme_id):
    return lookup.programme(uow, identity, programme_id)


def search(uow, identity, query):
    limit, offset = query["per_page"], (query["page"] - 1) * query["per_page"]
    rows = storage.visible(uow, identity.agency, identity.regions, query, limit, offset)
    return {"page": query["page"], "per_page": limit, "total": rows[0]["total"] if rows else 0, "items": rows}


def preview(uow, identity, programme_id):
    """How many beneficiaries (per village) the programme's rule reaches
    now, before the ledger and the quota: the same condition activation runs."""
    row = lookup.programme(uow, identity, programme_id)
    candidates, params = _candidates(row)
    by_village = storage.reach(uow, candidates, params)
    return {"programme_id": row["id"], "rule": row["rule"], "total": sum(by_village.values()),
            "by_village": [{"village_code": v, "count": n} for v, n in by_village.items()]}


def _candidates(row):
    if row["kind"] == "group_grant":
        return entitlement_storage.group_candidates(row)
    condition, params = eligibility.condition(compiled_rule(row["rule"], row["kind"]), readmodel.FACTS)
    return entitlement_storage.household_candidates(condition, params, row)


def _transition(uow, row, action, stamp):
    try:
        status = rules.next_status(row["status"], action)
    except rules.TransitionRefused as exc:
        raise Conflict(str(exc), programme_status=row["status"]) from None
    return storage.update(uow, row["id"], stamp=stamp, status=status)


def activate(uow, identity, programme_id):
    """Make the programme live and issue every entitlement in one pass
    (each told by its own event: issued, or blocked by the benefit that
    holds the beneficiary's place in the ledger)."""
    row = _transition(uow, lookup.managed_programme(uow, identity, programme_id), "activate", "activated_at")
    candidates, params = _candidates(row)
    issued, blocked = entitlements.announce(uow, entitlement_storage.issue(uow, row, candidates, params))
    uow.publish(contract.PROGRAMME_ACTIVATED, str(programme_id),
                {"programme": snapshots.programme(row), "issued": issued, "blocked": blocked})
    return dict(row, issued=issued, blocked=blocked)


def close(uow, identity, programme_id):
    """Close the programme: what was not delivered is revoked, its ledger places freed."""
    row = _transition(uow, lookup.managed_programme(uow, identity, programme_id), "close", "closed_at")
    revoked = entitlements.revoke(uow, entitlement_storage.undelivered(uow, programme_id), "the programme closed")
    uow.publish(contract.PROGRAMME_CLOSED, str(programme_id),
                {"programme": snapshots.programme(row), "revoked": revoked})
    return dict(row, revoked=revoked)
