"""The eligibility rules (rules/eligibility.py): who may take a course."""
import dataclasses

import pytest

from setiakawan_training.rules.eligibility import Eligibility, Person, check, reasons_ineligible, within

REF = "0b6f7c1e-5d7a-4a4e-9c35-7e0f2d8a11aa"
PARINGIN = "63.11.01.2001"  # a village of Balangan (63.11)
TENGGARONG = "64.02.01.1001"  # a village of Kutai Kartanegara (64.02)
BALANGAN = ("63.11",)


def person(**changes):
    facts = dict(person_ref=REF, household_id="hh-1", age=22, sex="F", village_code=PARINGIN, decile=2,
                 household_status="verified", group_kinds=frozenset({"karang_taruna"}))
    facts.update(changes)
    return Person(**facts)


def test_an_eligible_person_has_no_reasons():
    rule = Eligibility(min_age=16, max_age=35, sex="F", max_decile=4, verified_only=True, group_kind="karang_taruna")
    assert reasons_ineligible(person(), rule, BALANGAN) == []


def test_no_rules_at_all_lets_anyone_in_the_regions_take_part():
    assert reasons_ineligible(person(age=90, sex="M", decile=10, household_status="registered",
                                     group_kinds=frozenset()), Eligibility(), BALANGAN) == []


def test_living_outside_the_course_regions():
    reasons = reasons_ineligible(person(village_code=TENGGARONG), Eligibility(), ("63.11", "63.08"))
    assert reasons == [f"lives in {TENGGARONG}, outside the course's regions 63.11, 63.08"]


def test_living_in_a_village_of_a_listed_regency_qualifies():
    assert reasons_ineligible(person(village_code=TENGGARONG), Eligibility(), ("63.11", "64.02")) == []


@pytest.mark.parametrize("age, expected", [
    (15, ["age 15 is below 16"]),
    (16, []),   # the minimum is inclusive
    (35, []),   # and so is the maximum
    (36, ["age 36 is above 35"]),
])
def test_age_bounds_are_inclusive(age, expected):
    assert reasons_ineligible(person(age=age), Eligibility(min_age=16, max_age=35), BALANGAN) == expected


def test_only_a_minimum_age():
    rule = Eligibility(min_age=18)
    assert reasons_ineligible(person(age=17), rule, BALANGAN) == ["age 17 is below 18"]
    assert reasons_ineligible(person(age=99), rule, BALANGAN) == []


def test_only_a_maximum_age():
    rule = Eligibility(max_age=24)
    assert reasons_ineligible(person(age=0), rule, BALANGAN) == []
    assert reasons_ineligible(person(age=25), rule, BALANGAN) == ["age 25 is above 24"]


@pytest.mark.parametrize("course_sex, person_sex, expected", [
    ("F", "F", []),
    ("F", "M", ["the course is for women only"]),
    ("M", "M", []),
    ("M", "F", ["the course is for men only"]),
])
def test_sex(course_sex, person_sex, expected):
    assert reasons_ineligible(person(sex=person_sex), Eligibility(sex=course_sex), BALANGAN) == expected


@pytest.mark.parametrize("decile, expected", [
    (1, []),
    (4, []),  # at the maximum decile is eligible
    (5, ["household decile 5 is above 4"]),
])
def test_max_decile(decile, expected):
    assert reasons_ineligible(person(decile=decile), Eligibility(max_decile=4), BALANGAN) == expected


@pytest.mark.parametrize("status, verified_only, expected", [
    ("verified", True, []),
    ("registered", True, ["the household is registered, not verified"]),
    ("graduated", True, ["the household is graduated, not verified"]),
    ("verified", False, []),
    ("registered", False, []),
])
def test_verified_only(status, verified_only, expected):
    rule = Eligibility(verified_only=verified_only)
    assert reasons_ineligible(person(household_status=status), rule, BALANGAN) == expected


@pytest.mark.parametrize("status", ["inactive", "rejected"])
@pytest.mark.parametrize("verified_only", [False, True])
def test_an_inactive_or_rejected_household_is_always_refused_with_one_reason(status, verified_only):
    reasons = reasons_ineligible(person(household_status=status), Eligibility(verified_only=verified_only),
                                 BALANGAN)
    assert reasons == [f"the household's registration is {status}"]


def test_group_kind_membership():
    rule = Eligibility(group_kind="kube")
    assert reasons_ineligible(person(group_kinds=frozenset({"kube", "lks"})), rule, BALANGAN) == []
    assert reasons_ineligible(person(group_kinds=frozenset({"karang_taruna"})), rule, BALANGAN) == \
        ["not a member of an active kube group"]
    assert reasons_ineligible(person(group_kinds=frozenset()), rule, BALANGAN) == \
        ["not a member of an active kube group"]


def test_several_reasons_at_once_in_rule_order():
    rule = Eligibility(min_age=16, max_age=35, sex="F", max_decile=4, verified_only=True, group_kind="lks")
    who = person(village_code=TENGGARONG, age=40, sex="M", decile=7, household_status="registered",
                 group_kinds=frozenset())
    assert reasons_ineligible(who, rule, BALANGAN) == [
        f"lives in {TENGGARONG}, outside the course's regions 63.11",
        "age 40 is above 35",
        "the course is for women only",
        "household decile 7 is above 4",
        "the household is registered, not verified",
        "not a member of an active lks group",
    ]


def test_reasons_never_name_the_person():
    rule = Eligibility(min_age=50, sex="M", max_decile=1, verified_only=True, group_kind="kube")
    for status in ("registered", "inactive"):
        who = person(village_code=TENGGARONG, household_status=status, group_kinds=frozenset())
        reasons = reasons_ineligible(who, rule, BALANGAN)
        assert len(reasons) == 6
        assert not any(REF in r or "hh-1" in r for r in reasons)


def test_check_refuses_a_maximum_age_below_the_minimum():
    assert check(Eligibility(min_age=30, max_age=20)) == {
        "eligibility.max_age": "The maximum age is below the minimum age."}


@pytest.mark.parametrize("rule", [Eligibility(), Eligibility(min_age=20, max_age=20), Eligibility(min_age=20),
                                  Eligibility(max_age=5), Eligibility(min_age=0, max_age=150)])
def test_check_accepts_sane_ages(rule):
    assert check(rule) == {}


def test_from_dict_and_as_dict_round_trip():
    values = {"min_age": 16, "max_age": 35, "sex": "F", "max_decile": 4, "verified_only": True,
              "group_kind": "kube"}
    rule = Eligibility.from_dict(values)
    assert rule == Eligibility(16, 35, "F", 4, True, "kube")
    assert rule.as_dict() == values
    assert Eligibility.from_dict(rule.as_dict()) == rule


def test_from_dict_fills_what_is_missing():
    rule = Eligibility.from_dict({"min_age": 18})
    assert rule == Eligibility(min_age=18)
    assert rule.verified_only is False
    assert rule.as_dict() == {"min_age": 18, "max_age": None, "sex": None, "max_decile": None,
                              "verified_only": False, "group_kind": None}
    assert Eligibility.from_dict({"verified_only": None}).verified_only is False


def test_eligibility_and_person_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Eligibility().min_age = 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        person().age = 3


@pytest.mark.parametrize("code, regions, expected", [
    ("63.11.01.2001", ["63.11.01.2001"], True),   # the region itself
    ("63.11.01.2001", ["63.11.01"], True),        # its district
    ("63.11.01.2001", ["63.11"], True),           # its regency
    ("63.11.01.2001", ["63"], True),              # its province
    ("63.11", ["63.11.01"], False),               # a district does not cover its regency
    ("63.11.01.2001", ["63.1"], False),           # "63.1" is not a prefix of "63.11" by region
    ("63.11", ["63.1"], False),
    ("63.11.01.2001", ["63.12", "64"], False),
    ("63.11.01.2001", ["64", "63.11"], True),     # any of several
    ("63.11.01.2001", [], False),
    ("631", ["63"], False),
])
def test_within(code, regions, expected):
    assert within(code, regions) is expected
