"""HTTP body validation (schemas.py): the registry's rules come back as
field-level errors on the right path."""
import copy
from datetime import date, datetime, timedelta, timezone

import pytest
from marshmallow import ValidationError

from setiakawan_registry.rules import calendar
from setiakawan_registry.schemas import AccessLogQuery, HouseholdIn, MemberIn, PurposeHeader, VerificationIn

from registry_samples import household_body

BODY = household_body()


def body(change=None):
    b = copy.deepcopy(BODY)
    if change:
        change(b)
    return b


def errors(b):
    with pytest.raises(ValidationError) as caught:
        HouseholdIn().load(b)
    return caught.value.messages


def test_a_good_household_loads_with_defaults_and_a_normalized_phone():
    data = HouseholdIn().load(body())
    head, child, grandfather = data["members"]
    assert head["phone"] == "+6281234567890"
    assert head["birth_date"] == date(1985, 7, 1)
    assert (child["phone"], child["disability"], child["education"]) == (None, "none", "")
    assert grandfather["disability"] == "physical"
    assert (data["consent_date"], data["consent_recorded_by"]) == (None, None)


def test_a_household_with_consent_loads():
    data = HouseholdIn().load(body(lambda b: b.update(legal_basis="consent", consent_date="2024-01-05",
                                                      consent_recorded_by="Pak Lurah")))
    assert data["consent_date"] == date(2024, 1, 5)


@pytest.mark.parametrize("nik, fragment", [
    ("621301410785000", "16 digits"),
    ("6213014107850O03", "16 digits"),
    ("6213994107850003", "62.13.99"),
    ("6213017207850003", "birth date part"),
    ("6213014107850000", "0000"),
], ids=["15 digits", "letter", "district not on the list", "day 72", "serial 0000"])
def test_an_invalid_nik_is_reported_on_that_members_nik(nik, fragment):
    messages = errors(body(lambda b: b["members"][1].update(nik=nik)))
    assert list(messages) == ["members"] and list(messages["members"]) == [1]
    assert list(messages["members"][1]) == ["nik"]
    assert fragment in messages["members"][1]["nik"][0]


def test_a_birth_date_in_the_future_is_reported_on_birth_date_though_the_nik_could_be_a_century_earlier():
    soon = calendar.today() + timedelta(days=1)
    nik = f"621301{soon.day:02d}{soon.month:02d}{soon.year % 100:02d}0001"
    messages = errors(body(lambda b: b["members"][1].update(nik=nik, birth_date=soon.isoformat())))
    assert messages["members"][1] == {"birth_date": ["The birth date is in the future."]}


def test_a_baby_born_today_anywhere_in_indonesia_is_not_in_the_future_whatever_the_servers_zone():
    # today in Papua (WIT, UTC+9), the country's latest date: on a UTC server before 09:00 that is tomorrow
    born = datetime.now(timezone(timedelta(hours=9))).date()
    assert calendar.today() == born
    nik = f"621301{born.day:02d}{born.month:02d}{born.year % 100:02d}0001"
    loaded = HouseholdIn().load(body(lambda b: b["members"][1].update(nik=nik, birth_date=born.isoformat())))
    assert loaded["members"][1]["birth_date"] == born


@pytest.mark.parametrize("born", ["1900-01-01", "1920-06-15", "1926-12-31", "2025-01-01"])
def test_the_oldest_and_the_youngest_are_registered_with_the_century_of_their_birth_date(born):
    day = date.fromisoformat(born)
    nik = f"621301{day.day:02d}{day.month:02d}{day.year % 100:02d}0001"
    loaded = MemberIn().load({**body()["members"][1], "nik": nik, "birth_date": born, "sex": "M"})
    assert loaded["birth_date"] == day


def test_a_village_code_not_on_the_list_is_reported_on_address_village_code():
    messages = errors(body(lambda b: b["address"].update(village_code="62.13.01.2001")))
    assert messages == {"address": {"village_code": [
        "62.13.01.2001 is not a village (desa/kelurahan) on the Kemendagri list."]}}


@pytest.mark.parametrize("code", ["62.13.01", "62.13", "621301200", "62.13.01.20031", "6213012001"])
def test_a_region_that_is_not_a_village_is_refused_as_village_code(code):
    assert "village_code" in errors(body(lambda b: b["address"].update(village_code=code)))["address"]


def test_indonesian_forms_of_values_are_read_and_stored_canonical():
    head = {**body()["members"][0], "birth_date": "01-07-1985", "sex": "Perempuan",
            "relationship": "Kepala Keluarga"}
    wife_born = "15/03/1987"
    loaded = HouseholdIn().load(body(lambda b: (
        b["address"].update(village_code="6213012003"),
        b["members"].__setitem__(0, head))))
    assert loaded["address"]["village_code"] == "62.13.01.2003"
    first = loaded["members"][0]
    assert (first["birth_date"], first["sex"], first["relationship"]) == (date(1985, 7, 1), "F", "head")
    member = MemberIn().load({**body()["members"][1], "nik": "6213015503870002", "birth_date": wife_born,
                              "sex": "P", "relationship": "Istri"})
    assert (member["birth_date"], member["sex"], member["relationship"]) == (date(1987, 3, 15), "F", "spouse")


def test_a_birth_date_contradicting_the_nik_is_reported_on_birth_date_naming_the_encoded_date():
    messages = errors(body(lambda b: b["members"][0].update(birth_date="1985-01-07")))
    assert messages == {"members": {0: {"birth_date": [
        "The birth date 1985-01-07 contradicts the NIK, which encodes 01-07-85 (day-month-year)."]}}}


def test_a_sex_contradicting_the_nik_is_reported_on_sex():
    messages = errors(body(lambda b: b["members"][0].update(sex="M")))
    assert list(messages["members"][0]) == ["sex"]
    assert "female (day + 40)" in messages["members"][0]["sex"][0]


def test_consent_without_a_date_is_reported_on_consent_date():
    messages = errors(body(lambda b: b.update(legal_basis="consent", consent_recorded_by="Pak Lurah")))
    assert list(messages) == ["consent_date"]


def test_consent_dated_in_the_future_is_reported_on_consent_date():
    tomorrow = (calendar.today() + timedelta(days=1)).isoformat()
    messages = errors(body(lambda b: b.update(legal_basis="consent", consent_date=tomorrow,
                                              consent_recorded_by="Pak Lurah")))
    assert list(messages) == ["consent_date"]


def test_two_heads_are_reported_on_members():
    messages = errors(body(lambda b: b["members"][1].update(relationship="head")))
    assert messages == {"members": ["A household needs exactly one head; it would have 2."]}


def test_no_head_is_reported_on_members():
    messages = errors(body(lambda b: b["members"][0].update(relationship="spouse")))
    assert messages == {"members": ["A household needs exactly one head; it would have 0."]}


def test_the_same_nik_twice_in_one_household_is_reported_on_members():
    messages = errors(body(lambda b: b["members"].append(dict(b["members"][1], relationship="other"))))
    assert messages == {"members": ["The same NIK appears twice in this household."]}


def test_two_heads_and_a_repeated_nik_are_both_reported():
    messages = errors(body(lambda b: b["members"].append(dict(b["members"][0]))))
    assert len(messages["members"]) == 2


def test_an_invalid_kk_number_is_reported_on_kk_number():
    messages = errors(body(lambda b: b.update(kk_number="6213013207200001")))
    assert list(messages) == ["kk_number"] and "issue date" in messages["kk_number"][0]


def test_an_invalid_phone_is_reported_on_that_members_phone():
    messages = errors(body(lambda b: b["members"][2].update(phone="12345")))
    assert messages == {"members": {2: {"phone": ["'12345' is not an Indonesian phone number."]}}}


@pytest.mark.parametrize("indicator, value", [("floor", "marble"), ("electricity", "pln_2200"),
                                              ("monthly_income", -1), ("assets", ["television"])])
def test_an_unknown_indicator_value_is_reported_on_that_indicator(indicator, value):
    messages = errors(body(lambda b: b["indicators"].update({indicator: value})))
    assert list(messages) == ["indicators"] and list(messages["indicators"]) == [indicator]


@pytest.mark.parametrize("rt", ["0001", "1a"])
def test_rt_is_up_to_three_digits(rt):
    assert errors(body(lambda b: b["address"].update(rt=rt))) == {"address": {"rt": ["RT is up to 3 digits."]}}


def test_a_household_needs_1_to_30_members():
    assert "members" in errors(body(lambda b: b.update(members=[])))
    children = [dict(BODY["members"][1], nik=f"621301150310{serial:04d}") for serial in range(100, 128)]
    assert len(HouseholdIn().load(body(lambda b: b["members"].extend(children[:27])))["members"]) == 30
    assert errors(body(lambda b: b["members"].extend(children))) == {
        "members": ["Length must be between 1 and 30."]}


def test_member_in_alone_reports_a_bad_nik_on_nik():
    with pytest.raises(ValidationError) as caught:
        MemberIn().load({"nik": "123", "name": "Siti", "birth_date": "1985-07-01", "sex": "F",
                         "relationship": "head"})
    assert list(caught.value.messages) == ["nik"]


def test_a_rejection_needs_a_reason():
    with pytest.raises(ValidationError) as caught:
        VerificationIn().load({"outcome": "rejected"})
    assert list(caught.value.messages) == ["reason"]
    assert VerificationIn().load({"outcome": "verified"})["reason"] is None


def test_access_log_times_are_loaded_in_utc_whatever_offset_iso_8601_allows():
    # PostgreSQL refuses an offset beyond 15:59: it was a 500 (found by schemathesis)
    query = AccessLogQuery().load({"since": "2025-01-01T00:00:00", "until": "2025-01-02T02:00:00+19:18"})
    assert query["since"] == datetime(2025, 1, 1, tzinfo=timezone.utc)
    assert query["until"] == datetime(2025, 1, 1, 6, 42, tzinfo=timezone.utc)
    with pytest.raises(ValidationError) as caught:
        AccessLogQuery().load({"until": "0001-01-01T00:00:00+05:00"})
    assert "until" in caught.value.messages


def test_the_purpose_header_is_normalized_or_refused_on_x_purpose():
    assert PurposeHeader().load({}) == {"purpose": None}
    assert PurposeHeader().load({"X-Purpose": " verifikasi \t lapangan "}) == {"purpose": "verifikasi lapangan"}
    for bad in ("x" * 201, "audit\x00"):
        with pytest.raises(ValidationError) as caught:
            PurposeHeader().load({"X-Purpose": bad})
        assert list(caught.value.messages) == ["X-Purpose"]
