"""Households (keluarga) and their members: who counts as a child or an
elderly person, which status may follow which, when a verification is due,
and the personal-data-free snapshot other services receive."""
from dataclasses import dataclass
from datetime import date, timedelta

from setiakawan_contract import registry as contract

CHILD_UNDER = 18
ELDERLY_FROM = 60
RELATIONSHIPS = contract.RELATIONSHIPS  # the relationships events carry are the ones we accept
SEXES = contract.SEXES
DISABILITIES = ("none", "physical", "sensory", "intellectual", "mental", "multiple")
EDUCATION = ("", "none", "sd", "smp", "sma", "diploma", "s1", "s2", "s3")
LEGAL_BASES = ("public_duty", "consent")
# limits shared by the HTTP schemas and the bulk import
NAME_MAX = 200
OCCUPATION_MAX = 100
RECORDED_BY_MAX = 200
STREET_MAX = 300
INCOME_MAX = 10_000_000_000  # Rupiah a month
MAX_MEMBERS = 30  # under one KK number

# status → the statuses it may change to
TRANSITIONS = {
    "registered": {"verified", "rejected", "inactive"},
    "verified": {"verified", "rejected", "inactive", "graduated"},
    "rejected": {"verified", "registered", "inactive"},
    "inactive": {"registered"},
    "graduated": {"registered", "inactive"},
}


class RuleViolation(ValueError):
    """A request that the registry's rules refuse (reported as 409/422)."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def age_on(birth_date, today):
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def check_transition(current, new, merged=False):
    """Refuse a status change the table above does not allow. A household
    merged into another stays as it is: reactivated, it would be a second
    household under the KK number it shares with the one it was merged into."""
    if merged:
        raise RuleViolation("A household merged into another cannot change status.")
    if new not in TRANSITIONS.get(current, ()):
        raise RuleViolation(f"A household that is {current} cannot become {new}.")


def reverify_due(verified_on, months):
    """The date a verification runs out: ``months`` later, clipped to month end."""
    month_index = verified_on.month - 1 + months
    year, month = verified_on.year + month_index // 12, month_index % 12 + 1
    for day in (verified_on.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def check_members(members):
    """A household has exactly one head among its current members, and at
    most MAX_MEMBERS of them."""
    heads = sum(1 for m in members if m["relationship"] == "head")
    if heads != 1:
        raise RuleViolation(f"A household needs exactly one head; it would have {heads}.", field="members")
    if len(members) > MAX_MEMBERS:
        raise RuleViolation(f"A household has at most {MAX_MEMBERS} members; it would have {len(members)}.",
                            field="members")


def check_legal_basis(legal_basis, consent_date, consent_recorded_by, today):
    if legal_basis == "consent":
        if consent_date is None:
            raise RuleViolation("Consent needs the date it was given.", field="consent_date")
        if not consent_recorded_by:
            raise RuleViolation("Consent needs who recorded it.", field="consent_recorded_by")
        if consent_date > today:
            raise RuleViolation("The consent date is in the future.", field="consent_date")


def oldest_birth_date(today):
    """No one registered was born before this: 130 years back."""
    return today - timedelta(days=365 * 130)


def check_birth_date(birth_date, today, field="birth_date"):
    if birth_date > today:
        raise RuleViolation("The birth date is in the future.", field=field)
    if birth_date < oldest_birth_date(today):
        raise RuleViolation("The birth date is more than 130 years ago.", field=field)


@dataclass(frozen=True)
class Counts:
    size: int
    children: int
    elderly: int
    disabled: int


def counts(members, today):
    ages = [age_on(m["birth_date"], today) for m in members]
    return Counts(size=len(members), children=sum(a < CHILD_UNDER for a in ages),
                  elderly=sum(a >= ELDERLY_FROM for a in ages),
                  disabled=sum(m["disability"] != "none" for m in members))


def snapshot(household, members, today):
    """The household as other services see it: no NIK or KK number, nothing
    derived from one, no name or phone."""
    c = counts(members, today)
    village = household["village_code"]
    return {
        "household_id": str(household["id"]), "version": household["version"],
        "village_code": village, "district_code": village[:8], "regency_code": village[:5],
        "province_code": village[:2], "status": household["status"],
        "welfare_score": float(household["welfare_score"]), "decile": household["decile"],
        "size": c.size, "children": c.children, "elderly": c.elderly, "disabled": c.disabled,
        "registering_agency": household["registering_agency"],
        "members": [{"person_ref": str(m["id"]), "age": age_on(m["birth_date"], today), "sex": m["sex"],
                     "relationship": m["relationship"], "disability": m["disability"] != "none"}
                    for m in members],
    }


def changes(before, after, fields):
    """{field: [old, new]} for the fields whose value differs."""
    out = {}
    for name in fields:
        old, new = before.get(name), after.get(name)
        if old != new:
            out[name] = [_plain(old), _plain(new)]
    return out


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value
