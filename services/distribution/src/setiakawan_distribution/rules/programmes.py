"""A programme's shape and lifecycle (draft → active → closed), and how
much each beneficiary is owed."""
from dataclasses import dataclass

from setiakawan_kit.auth import within

TRANSITIONS = {
    "activate": (("draft",), "active"),
    "close": (("active",), "closed"),
}
EDITABLE = ("draft",)
#: household statuses that are never eligible, whatever the rule
NEVER_ELIGIBLE = ("inactive", "rejected")
ITEM_KINDS = ("in_kind", "equipment")


class TransitionRefused(ValueError):
    pass


def next_status(status, action):
    sources, target = TRANSITIONS[action]
    if status not in sources:
        raise TransitionRefused(f"A {status} programme cannot {action}; it must be {' or '.join(sources)}.")
    return target


@dataclass(frozen=True)
class Shape:
    kind: str
    items: tuple
    cash_basis: str = None
    cash_amount: int = None
    group_kind: str = None
    budget: int = None


def check_shape(shape):
    """Problems with what a programme gives, as {field: message}."""
    problems = {}
    if shape.kind in ITEM_KINDS and not shape.items:
        problems["items"] = f"An {shape.kind.replace('_', '-')} programme lists the items it gives."
    if shape.kind == "cash" and shape.cash_basis is None:
        problems["cash"] = "A cash programme says how much: per beneficiary, per member, or a total split."
    if shape.kind == "group_grant":
        if shape.group_kind is None:
            problems["group_kind"] = "A group grant names the kind of group it goes to (kube, karang_taruna, lks)."
        if shape.cash_basis is None and not shape.items:
            problems["cash"] = "A group grant gives Rupiah (cash) or items, or both."
        if shape.cash_basis == "per_member":
            problems["cash.basis"] = "A group grant is per group or a total split over the groups."
    elif shape.group_kind is not None:
        problems["group_kind"] = "Only a group grant goes to groups; a household programme names groups in its rule."
    if shape.kind in ITEM_KINDS and shape.cash_basis is not None:
        problems["cash"] = f"An {shape.kind.replace('_', '-')} programme gives items, not cash."
    if shape.cash_basis == "split_total" and shape.budget is not None and shape.budget != shape.cash_amount:
        problems["budget"] = "A total split over the beneficiaries is the programme's budget: leave budget out."
    return problems


def check_period(starts_on, ends_on):
    if ends_on < starts_on:
        return {"period.ends_on": "The period ends before it starts."}
    if (ends_on - starts_on).days > 366 * 5:
        return {"period.ends_on": "A programme's period is at most five years."}
    return {}


def amount_owed(basis, amount, members):
    """Rupiah owed to one beneficiary, for per-beneficiary and per-member
    cash; a split total is divided when the beneficiaries are known."""
    if basis == "per_beneficiary":
        return amount
    if basis == "per_member":
        return amount * members
    return None


def split(total, count):
    """``total`` Rupiah over ``count`` beneficiaries in whole Rupiah: the
    first ``total % count`` get one Rupiah more, so the shares add up."""
    if count == 0:
        return []
    share, left = divmod(total, count)
    return [share + 1 if i < left else share for i in range(count)]


def within_regions(village_code, region_codes):
    return within(village_code, region_codes)
