"""Eligibility rules: what is accepted, what is refused and why, and the
Python verdict held to CEL's own evaluator (cel-python) as the reference."""
import celpy
import pytest
from celpy import celtypes

from distribution_support import households, rules
from setiakawan_distribution.rules import eligibility
from setiakawan_distribution.rules.eligibility import RuleError, condition, parse

COLUMNS = {field: f"h.{field}" for field in eligibility.FIELDS} | {"verified": "(h.status = 'verified')"}

# Barito Timur's food packages for the poorest verified households, a
# Balangan equipment programme for sewing graduates, a KUBE grant, ATENSI
SEED_RULES = [
    'household.decile <= 4 && household.verified && within(household.village_code, "62.12")',
    '"sewing" in household.completed_skills && within(household.village_code, "63.11")',
    '"kube" in household.group_kinds',
    'household.verified && (household.children > 0 || household.elderly > 0 || household.disabled > 0)',
    'household.decile in [1, 2] && household.status != "rejected"',
]


def household(**fields):
    base = {"decile": 3, "status": "verified", "verified": True, "village_code": "62.12.01.2001", "members": 4,
            "children": 1, "elderly": 0, "disabled": 0, "group_kinds": [], "completed_skills": []}
    return base | fields


@pytest.mark.parametrize("text", SEED_RULES)
def test_the_seed_programmes_rules_are_accepted(text):
    assert parse(text).text == text


def test_the_food_package_rule_picks_the_poorest_verified_households_of_the_regency():
    rule = parse(SEED_RULES[0])
    assert rule.matches(household())
    assert not rule.matches(household(decile=5))
    assert not rule.matches(household(status="registered", verified=False))
    assert not rule.matches(household(village_code="63.11.03.2004"))
    assert not rule.matches(household(decile=None))  # not yet assessed: not eligible


def test_the_sql_condition_holds_values_as_parameters_never_in_the_text():
    sql, params = condition(parse(SEED_RULES[0]), COLUMNS)
    assert sql == ("(((h.decile <= %s) AND (h.status = 'verified')) AND "
                   "(h.village_code = %s OR h.village_code LIKE %s))")
    assert params == [4, "62.12", "62.12.%"]
    sql, params = condition(parse('household.village_code == "x\' OR true --"'), COLUMNS)
    assert "OR true" not in sql and params == ["x' OR true --"]


def test_an_unknown_decile_is_an_error_that_behaves_as_sql_null():
    unknown = household(decile=None)
    assert not parse("household.decile <= 4").matches(unknown)
    assert not parse("!(household.decile <= 4)").matches(unknown)
    assert parse("household.decile <= 4 || household.verified").matches(unknown)
    assert not parse("household.decile <= 4 && household.verified").matches(unknown)
    assert not parse("household.decile in [1, 2]").matches(unknown)
    assert parse("!(household.decile in [])").matches(household())  # in [] is false, its negation true
    assert parse("!(household.decile in [])").matches(unknown)


@pytest.mark.parametrize("text, reason", [
    ("", "empty"),
    ("household.decile <=", "line 1, column"),
    ("household.decile <= 4 &&& true", "Not a CEL expression"),
    ("household.income > 5", "household has no field income"),
    ("person.age > 5", "Unknown name person"),
    ("household > 5", "not the household itself"),
    ('household.decile == "4"', "An int cannot be compared with a string"),
    ('household.status < "verified"', "A string can only be compared with == and !="),
    ("household.verified > false", "A bool can only be compared"),
    ("household.decile + 1 <= 4", "Arithmetic"),
    ("household.decile * 2 <= 4", "Arithmetic"),
    ("household.verified ? true : false", "?:"),
    ('household.village_code.startsWith("62")', "Methods"),
    ('household["decile"] <= 4', "Indexing"),
    ('{"a": 1}', "Maps"),
    ("household.decile <= 4.5", "whole numbers"),
    ("household.decile <= 4u", "whole numbers"),
    ("household.decile == null", "null"),
    ("household.decile", "must be true or false"),
    ("household.decile && true", "&& joins true-or-false conditions"),
    ("!household.decile", "! applies to a condition"),
    ('within(household.village_code, "62.1x")', "not a Kemendagri region code"),
    ("within(household.village_code, household.status)", "within takes a code and a region"),
    ('within("62.12.01.2001", "62")', "within takes a code and a region"),
    ("size(household.decile) > 1", "size takes one list"),
    ("exists(household.group_kinds) > 1", "Unknown function exists"),
    ('"sewing" in household.completed_skills || 1 in household.group_kinds', "an int cannot be in a list of string"),
    ('household.decile in [1, "2"]', "not both"),
    ("household.decile in [household.members]", "written out"),
    ("household.decile <= 99999999999", "out of range"),
    ('household.status == "verifed"', "household.status never holds 'verifed'"),
    ('household.status in ["verified", "merged"]', "never holds 'merged'"),
    ('"arisan" in household.group_kinds', "household.group_kinds never holds 'arisan'"),
    ('"knitting" in household.completed_skills', "its values are farming"),
    ('household.status == r"raw"', "plain quoted string"),
    ("household.decile <= 4 && " * 200 + "true", "longer than"),
])
def test_a_rule_that_cannot_be_saved_is_refused_with_the_reason(text, reason):
    with pytest.raises(RuleError) as refused:
        parse(text)
    assert reason in str(refused.value)


def _within(code, region):
    return celtypes.BoolType(code == region or code.startswith(region + "."))


def _reference(text):
    """CEL's own verdict of ``text`` (cel-python's evaluator), a function of
    a household: an error is not eligible."""
    environment = celpy.Environment()
    program = environment.program(environment.compile(text), functions={"within": _within})

    def verdict(house):
        try:
            result = program.evaluate({"household": celpy.json_to_cel(house)})
        except celpy.CELEvalError:
            return False
        return isinstance(result, celtypes.BoolType) and bool(result)

    return verdict


def test_the_python_verdict_is_cel_s_own_on_random_rules_and_households():
    sample = households(seed=7, n=12)
    checked = 0
    for text in rules(seed=11, n=120):
        rule, reference = parse(text), _reference(text)
        for house in sample:
            assert rule.matches(house) == reference(house), (text, house)
            checked += 1
    assert checked == 1440
