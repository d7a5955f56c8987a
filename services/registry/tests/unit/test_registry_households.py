"""Household rules (rules/households.py): statuses, verification due dates,
members, counts and the personal-data-free snapshot."""
import re
import uuid
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from setiakawan_contract.registry import STATUSES, HouseholdSnapshot

from setiakawan_registry.rules import households as hh

TODAY = date(2026, 11, 24)


# status transitions --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("current, new", [
    ("registered", "verified"), ("registered", "rejected"), ("registered", "inactive"),
    ("verified", "verified"),  # re-verification when it falls due
    ("verified", "rejected"), ("verified", "inactive"), ("verified", "graduated"),
    ("rejected", "verified"), ("rejected", "registered"), ("rejected", "inactive"),
    ("inactive", "registered"),
    ("graduated", "registered"), ("graduated", "inactive"),
])
def test_allowed_status_change(current, new):
    assert hh.check_transition(current, new) is None


@pytest.mark.parametrize("current, new", [
    ("registered", "graduated"),  # only a verified household can graduate
    ("registered", "registered"),
    ("rejected", "graduated"), ("rejected", "rejected"),
    ("inactive", "verified"), ("inactive", "graduated"), ("inactive", "rejected"), ("inactive", "inactive"),
    ("graduated", "verified"), ("graduated", "graduated"), ("graduated", "rejected"),
    ("verified", "registered"),
    ("registered", "deleted"), ("deleted", "registered"), (None, "registered"),
])
def test_refused_status_change_names_both_statuses(current, new):
    with pytest.raises(hh.RuleViolation) as caught:
        hh.check_transition(current, new)
    assert f"is {current} cannot become {new}" in str(caught.value)


def test_the_transition_table_knows_exactly_the_contracts_statuses():
    assert set(hh.TRANSITIONS) == set(STATUSES)
    assert set().union(*hh.TRANSITIONS.values()) <= set(STATUSES)


def test_every_status_can_eventually_return_to_registered():
    for start in STATUSES:
        reached, frontier = {start}, [start]
        while frontier:
            for nxt in hh.TRANSITIONS[frontier.pop()]:
                if nxt not in reached:
                    reached.add(nxt)
                    frontier.append(nxt)
        assert "registered" in reached or start == "registered", start


# reverify_due --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("verified_on, months, due", [
    (date(2025, 3, 10), 12, date(2026, 3, 10)),
    (date(2025, 12, 15), 12, date(2026, 12, 15)),
    (date(2025, 12, 15), 1, date(2026, 1, 15)),
    (date(2025, 11, 30), 2, date(2026, 1, 30)),
    (date(2025, 1, 31), 1, date(2025, 2, 28)),
    (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
    (date(2024, 2, 29), 12, date(2025, 2, 28)),  # leap day, a year on
    (date(2024, 2, 29), 48, date(2028, 2, 29)),
    (date(2023, 2, 28), 12, date(2024, 2, 28)),
    (date(2025, 3, 31), 1, date(2025, 4, 30)),
    (date(2025, 8, 31), 1, date(2025, 9, 30)),
    (date(2025, 5, 31), 6, date(2025, 11, 30)),
    (date(2025, 10, 31), 4, date(2026, 2, 28)),
    (date(2027, 10, 31), 4, date(2028, 2, 29)),
    (date(2025, 6, 30), 0, date(2025, 6, 30)),
    (date(2025, 1, 1), 24, date(2027, 1, 1)),
    (date(2025, 12, 31), 14, date(2027, 2, 28)),
])
def test_reverify_due_is_months_later_clipped_to_month_end(verified_on, months, due):
    assert hh.reverify_due(verified_on, months) == due


def test_reverify_due_is_never_before_the_verification_and_at_most_a_few_days_off_twelve_months():
    day = date(2023, 1, 1)
    while day < date(2025, 1, 1):
        due = hh.reverify_due(day, 12)
        assert due.year == day.year + 1 and due.month == day.month
        assert 0 <= day.day - due.day <= 1  # only 29 February moves, to the 28th
        day = date.fromordinal(day.toordinal() + 1)


# members -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("relationships", [["head"], ["head", "spouse", "child"], ["child", "head", "parent"]])
def test_check_members_accepts_exactly_one_head(relationships):
    assert hh.check_members([{"relationship": r} for r in relationships]) is None


@pytest.mark.parametrize("relationships, heads", [
    ([], 0), (["spouse", "child"], 0), (["head", "head"], 2), (["head", "spouse", "head", "head"], 3)])
def test_check_members_refuses_no_head_or_several(relationships, heads):
    with pytest.raises(hh.RuleViolation) as caught:
        hh.check_members([{"relationship": r} for r in relationships])
    assert caught.value.field == "members"
    assert f"it would have {heads}" in str(caught.value)


def test_consent_needs_a_date_and_who_recorded_it_and_not_in_the_future():
    assert hh.check_legal_basis("consent", date(2024, 1, 5), "Pak Lurah", TODAY) is None
    assert hh.check_legal_basis("public_duty", None, None, TODAY) is None
    for consent_date, recorded_by in ((None, "Pak Lurah"), (None, None)):
        with pytest.raises(hh.RuleViolation) as caught:
            hh.check_legal_basis("consent", consent_date, recorded_by, TODAY)
        assert caught.value.field == "consent_date"
    with pytest.raises(hh.RuleViolation, match="future") as caught:
        hh.check_legal_basis("consent", date(2026, 11, 25), "Pak Lurah", TODAY)
    assert caught.value.field == "consent_date"


def test_consent_without_who_recorded_it_is_reported_on_consent_recorded_by():
    with pytest.raises(hh.RuleViolation) as caught:
        hh.check_legal_basis("consent", date(2024, 1, 5), "", TODAY)
    assert caught.value.field == "consent_recorded_by"


def test_check_birth_date_refuses_the_future_and_more_than_130_years_ago():
    assert hh.check_birth_date(TODAY, TODAY) is None
    assert hh.check_birth_date(date(1900, 1, 1), TODAY) is None
    with pytest.raises(hh.RuleViolation, match="future"):
        hh.check_birth_date(date(2026, 11, 25), TODAY)
    with pytest.raises(hh.RuleViolation, match="130") as caught:
        hh.check_birth_date(date(1890, 1, 1), TODAY, field="members.0.birth_date")
    assert caught.value.field == "members.0.birth_date"


@pytest.mark.parametrize("born, on, age", [
    (date(2008, 11, 24), TODAY, 18), (date(2008, 11, 25), TODAY, 17), (date(2026, 11, 24), TODAY, 0),
    (date(2008, 2, 29), date(2026, 2, 28), 17), (date(2008, 2, 29), date(2026, 3, 1), 18),
    (date(2008, 2, 29), date(2028, 2, 29), 20)])
def test_age_on_counts_completed_years(born, on, age):
    assert hh.age_on(born, on) == age


# counts and snapshot -------------------------------------------------------------------------------------------

def member(born, relationship="child", disability="none", sex="M", nik="6213011503100002", name="Budi Santoso",
           phone=None):
    return {"id": uuid.uuid4(), "nik": nik, "name": name, "name_norm": name.lower(), "birth_date": born, "sex": sex,
            "relationship": relationship, "disability": disability, "occupation": "petani", "education": "sd", "phone": phone,
            "regency_code": "62.13", "village_code": "62.13.01.2003"}


def test_counts_children_under_18_and_elderly_from_60_on_the_day():
    members = [
        member(date(2008, 11, 25), "head"),  # 17, 18 tomorrow: a child
        member(date(2008, 11, 24)),  # 18 today: not a child
        member(date(1966, 11, 24), "parent"),  # 60 today: elderly
        member(date(1966, 11, 25), "parent"),  # 59: not elderly
        member(date(2020, 1, 1), disability="physical"),
        member(date(1940, 1, 1), "parent", disability="multiple"),
    ]
    assert hh.counts(members, TODAY) == hh.Counts(size=6, children=2, elderly=2, disabled=2)


def test_counts_of_no_members_are_zero():
    assert hh.counts([], TODAY) == hh.Counts(0, 0, 0, 0)


HEAD = dict(nik="6213014107850003", name="Siti Aminah", phone="+6281234567890", sex="F")
CHILD = dict(nik="6213011503100002", name="Budi Santoso", phone="+6285249001122")
GRANDFATHER = dict(nik="6213010101500001", name="Hasan Rahman", phone=None)


def snapshot_fixture():
    household = {"id": uuid.uuid4(), "version": 3, "kk_number": "6213010107200001",
                 "street": "Jl. Tjilik Riwut No. 5", "rt": "001", "rw": "002", "village_code": "62.13.01.2003", "status": "verified",
                 "welfare_score": Decimal("41.25"), "decile": 4, "registering_agency": "Dinas Sosial Barito Timur",
                 "legal_basis": "consent", "consent_date": date(2024, 1, 5), "consent_recorded_by": "Pak Lurah",
                 "verified_by": "Ibu Ratna", "verification_notes": "Rumah Siti Aminah di tepi sungai",
                 "updated_at": datetime(2026, 11, 1, tzinfo=timezone.utc)}
    members = [member(date(1985, 7, 1), "head", **HEAD), member(date(2010, 3, 15), **CHILD),
               member(date(1950, 1, 1), "parent", disability="physical", **GRANDFATHER)]
    return household, members


def leaves(value):
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from leaves(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from leaves(v)
    else:
        yield value


def test_snapshot_contains_no_nik_kk_number_name_or_phone_nor_a_hash():
    household, members = snapshot_fixture()
    snap = hh.snapshot(household, members, TODAY)
    personal = {household["kk_number"], household["street"], household["consent_recorded_by"],
                household["verified_by"], household["verification_notes"]}
    for m in members:
        personal |= {m["nik"], m["name"], m["name_norm"], m["phone"]}
        personal |= {part for part in m["name"].split()}  # not even a first name
    personal.discard(None)
    for value in leaves(snap):
        for secret in personal:
            assert value != secret, f"{secret!r} is in the snapshot"
            if isinstance(value, str):
                assert secret.lower() not in value.lower(), f"{secret!r} is inside {value!r}"
                assert secret.lstrip("+") not in value
        if isinstance(value, str) and value.isdigit():
            assert len(value) < 16, f"{value!r} looks like a NIK or KK number"
        if isinstance(value, str):  # a digest of a NIK or KK number gives it back to whoever tries them all
            assert not re.search(r"[0-9a-fA-F]{17,}", value), f"{value!r} looks like a digest"


def test_snapshot_is_a_valid_contract_household_snapshot():
    household, members = snapshot_fixture()
    snap = hh.snapshot(household, members, TODAY)
    assert HouseholdSnapshot().validate(snap) == {}


def test_snapshot_derives_regions_counts_and_member_facts():
    household, members = snapshot_fixture()
    snap = hh.snapshot(household, members, TODAY)
    assert (snap["province_code"], snap["regency_code"], snap["district_code"], snap["village_code"]) == \
        ("62", "62.13", "62.13.01", "62.13.01.2003")
    assert (snap["size"], snap["children"], snap["elderly"], snap["disabled"]) == (3, 1, 1, 1)
    assert snap["household_id"] == str(household["id"]) and snap["version"] == 3
    assert snap["welfare_score"] == 41.25 and isinstance(snap["welfare_score"], float)
    assert [(m["person_ref"], m["age"], m["sex"], m["relationship"], m["disability"]) for m in snap["members"]] == [
        (str(members[0]["id"]), 41, "F", "head", False),
        (str(members[1]["id"]), 16, "M", "child", False),
        (str(members[2]["id"]), 76, "M", "parent", True)]


# changes -------------------------------------------------------------------------------------------------------

def test_changes_lists_only_the_named_fields_that_differ_with_dates_as_text():
    before = {"status": "registered", "reverify_due": None, "verified_by": None, "street": "Jl. A"}
    after = {"status": "verified", "reverify_due": date(2027, 11, 24), "verified_by": "Ibu Ratna", "street": "Jl. B"}
    assert hh.changes(before, after, ("status", "reverify_due", "verified_by")) == {
        "status": ["registered", "verified"], "reverify_due": [None, "2027-11-24"],
        "verified_by": [None, "Ibu Ratna"]}


def test_changes_is_empty_when_nothing_differs_and_treats_missing_as_none():
    same = {"street": "Jl. A", "rt": "001", "indicators": {"floor": "wood"}}
    assert hh.changes(same, dict(same), ("street", "rt", "indicators")) == {}
    assert hh.changes({}, {"rw": None}, ("rw",)) == {}
    assert hh.changes({"indicators": {"floor": "wood"}}, {"indicators": {"floor": "cement"}}, ("indicators",)) == {
        "indicators": [{"floor": "wood"}, {"floor": "cement"}]}


def test_a_household_has_at_most_thirty_members():
    from setiakawan_registry.rules.households import MAX_MEMBERS, RuleViolation, check_members
    members = [{"relationship": "head"}] + [{"relationship": "child"}] * (MAX_MEMBERS - 1)
    check_members(members)
    with pytest.raises(RuleViolation, match="at most 30 members"):
        check_members(members + [{"relationship": "child"}])


def test_a_merged_household_cannot_change_status():
    with pytest.raises(hh.RuleViolation, match="merged"):
        hh.check_transition("inactive", "registered", merged=True)
    assert hh.check_transition("inactive", "registered") is None



# the use cases' settings ---------------------------------------------------------------------------------------

def test_the_use_cases_need_no_secret_from_the_config():
    from setiakawan_registry.households import Settings
    settings = Settings.from_config({"REVERIFY_MONTHS": "6", "WELFARE": {"poverty_line": 650000}})
    assert settings.reverify_months == 6 and settings.welfare.poverty_line == 650000
    assert Settings.from_config({}).reverify_months == 12
