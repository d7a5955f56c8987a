"""Who may take a course: the person's facts, as the registry's events told
them, against the course's eligibility."""
from dataclasses import dataclass, field

from setiakawan_kit.auth import within


@dataclass(frozen=True)
class Person:
    """What the training service knows of a person (no name, no NIK)."""

    person_ref: str
    household_id: str
    age: int
    sex: str
    village_code: str
    decile: int
    household_status: str
    group_kinds: frozenset = field(default_factory=frozenset)  # kinds of the active groups they belong to


@dataclass(frozen=True)
class Eligibility:
    min_age: int = None
    max_age: int = None
    sex: str = None
    max_decile: int = None
    verified_only: bool = False
    group_kind: str = None

    @classmethod
    def from_dict(cls, values):
        return cls(**{k: values.get(k) for k in ("min_age", "max_age", "sex", "max_decile", "group_kind")},
                   verified_only=bool(values.get("verified_only")))

    def as_dict(self):
        return {"min_age": self.min_age, "max_age": self.max_age, "sex": self.sex, "max_decile": self.max_decile,
                "verified_only": self.verified_only, "group_kind": self.group_kind}


SEX_NAMES = {"F": "women", "M": "men"}


def refusals(person, eligibility, region_codes):
    """Why ``person`` may not take a course for ``region_codes`` with this
    eligibility, as (rule, reason) pairs; none when they may. A rule's name
    (``max_decile``) says which rule without the person's facts; the reason
    (``household decile 7 is above 4``) says it with them."""
    out = []
    if not within(person.village_code, region_codes):
        out.append(("region", f"lives in {person.village_code}, outside the course's regions "
                              f"{', '.join(region_codes)}"))
    if eligibility.min_age is not None and person.age < eligibility.min_age:
        out.append(("min_age", f"age {person.age} is below {eligibility.min_age}"))
    if eligibility.max_age is not None and person.age > eligibility.max_age:
        out.append(("max_age", f"age {person.age} is above {eligibility.max_age}"))
    if eligibility.sex is not None and person.sex != eligibility.sex:
        out.append(("sex", f"the course is for {SEX_NAMES[eligibility.sex]} only"))
    if eligibility.max_decile is not None and person.decile > eligibility.max_decile:
        out.append(("max_decile", f"household decile {person.decile} is above {eligibility.max_decile}"))
    if person.household_status in ("inactive", "rejected"):
        out.append(("household_status", f"the household's registration is {person.household_status}"))
    elif eligibility.verified_only and person.household_status != "verified":
        out.append(("verified_only", f"the household is {person.household_status}, not verified"))
    if eligibility.group_kind is not None and eligibility.group_kind not in person.group_kinds:
        out.append(("group_kind", f"not a member of an active {eligibility.group_kind} group"))
    return out


def reasons_ineligible(person, eligibility, region_codes):
    """The reasons of ``refusals``, with the person's facts (for an agency covering where they live)."""
    return [reason for _, reason in refusals(person, eligibility, region_codes)]


def check(eligibility):
    """Problems with an eligibility itself, as {field: message}."""
    problems = {}
    if eligibility.min_age is not None and eligibility.max_age is not None \
            and eligibility.min_age > eligibility.max_age:
        problems["eligibility.max_age"] = "The maximum age is below the minimum age."
    return problems
