"""NIK, KK number, phone and name rules (rules/identity.py).

``parse_nik`` is our own fast parser; lokal-id is the reference, so most of
these tests generate NIKs and hold our answer to lokal's."""
import random
import re
from datetime import date, timedelta

import pytest
from lokal.nik import parse_nik as lokal_parse_nik
from lokal.phone import normalize_phone as lokal_normalize_phone
from lokal.wilayah import list_wilayah, wilayah_name

from setiakawan_registry.rules.identity import (InvalidIdentity, check_kk, check_nik_matches, normalize_name,
                                                normalize_phone, parse_nik)

# A fixed "today" so that the two-digit-year rule (yy <= 26 → 20yy) and the
# future-date rule do not move under the tests.
TODAY = date(2026, 11, 24)
KALIMANTAN = ("61", "62", "63", "64", "65")
DISTRICTS = sorted(d.code for p in KALIMANTAN for r in list_wilayah(p) for d in list_wilayah(r.code))


def make_nik(district, born, sex, serial=1):
    day = born.day + (40 if sex == "F" else 0)
    return f"{district.replace('.', '')}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


def lokal(value):
    return lokal_parse_nik(value, reference_date=TODAY)


def rejected_by_us(value, today=TODAY):
    try:
        parse_nik(value, today)
    except InvalidIdentity as exc:
        assert exc.field == "nik"
        return exc.message
    return None


def random_birth_date(rng):
    start, end = date(1950, 1, 1), date(2025, 12, 31)
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def generated_valid_niks(count=3000, seed=20261124):
    rng = random.Random(seed)
    edge_dates = [date(1950, 1, 1), date(1999, 12, 31), date(2000, 1, 1), date(2000, 2, 29), date(1952, 2, 29),
                  date(2024, 2, 29), date(2025, 12, 31), date(1987, 1, 31), date(1960, 9, 30)]
    cases = [(rng.choice(DISTRICTS), born, sex, rng.randint(1, 9999)) for born in edge_dates for sex in "MF"]
    while len(cases) < count:
        cases.append((rng.choice(DISTRICTS), random_birth_date(rng), rng.choice("MF"), rng.randint(1, 9999)))
    return cases


def test_the_kalimantan_district_list_is_the_real_one():
    assert len(DISTRICTS) > 500
    assert "62.13.01" in DISTRICTS  # Dusun Timur, Barito Timur
    assert {d[:2] for d in DISTRICTS} == set(KALIMANTAN)


def test_parse_nik_agrees_with_lokal_on_generated_valid_niks():
    disagreements = []
    for district, born, sex, serial in generated_valid_niks():
        number = make_nik(district, born, sex, serial)
        theirs = lokal(number)
        ours = parse_nik(number, TODAY)
        expected_gender = {"M": "L", "F": "P"}[sex]
        if not (theirs.valid and theirs.birth_date == born.isoformat() and theirs.gender == expected_gender):
            disagreements.append((number, "lokal", theirs.birth_date, theirs.gender, theirs.errors))
        if (ours.number, ours.district_code, ours.birth_date, ours.sex) != (number, district, born, sex):
            disagreements.append((number, "ours", ours))
        if ours.birth_date.isoformat() != theirs.birth_date or {"M": "L", "F": "P"}[ours.sex] != theirs.gender:
            disagreements.append((number, "differ", ours, theirs.birth_date, theirs.gender))
    assert disagreements == [], disagreements[:5]


def _corruptions(number):
    """Ways to make a valid NIK structurally invalid (label, bad number)."""
    female = int(number[6:8]) > 40
    return [
        ("15 digits", number[:-1]),
        ("17 digits", number + "1"),
        ("a letter", number[:9] + "O" + number[10:]),
        ("day 00", number[:6] + "00" + number[8:]),
        ("day 32", number[:6] + "32" + number[8:]),
        ("day 40", number[:6] + "40" + number[8:]),
        ("day 72 (woman's 32)", number[:6] + "72" + number[8:]),
        ("month 00", number[:8] + "00" + number[10:]),
        ("month 13", number[:8] + "13" + number[10:]),
        ("30 February", number[:6] + ("70" if female else "30") + "02" + number[10:]),
        ("29 February 2023", number[:6] + ("69" if female else "29") + "0223" + number[12:]),
        ("serial 0000", number[:12] + "0000"),
        ("province 99", "99" + number[2:]),
        ("regency 00", number[:2] + "00" + number[4:]),
        ("district 00", number[:4] + "00" + number[6:]),
    ]


def test_parse_nik_and_lokal_both_reject_generated_structurally_invalid_niks():
    accepted = []
    for district, born, sex, serial in generated_valid_niks(count=300, seed=7):
        for label, bad in _corruptions(make_nik(district, born, sex, serial)):
            if lokal(bad).valid:
                accepted.append((label, bad, "lokal"))
            if rejected_by_us(bad) is None:
                accepted.append((label, bad, "ours"))
    assert accepted == [], accepted[:5]


@pytest.mark.parametrize("value", [
    "", "621301410785000", "62130141078500031", "62130141078500O3", "6213 0141 0785 0003",
    "6213-0141-0785-0003", " 6213014107850003", "6213014107850003\n",
    "٦٢١٣٠١٤١٠٧٨٥٠٠٠٣",  # Arabic-Indic digits: str.isdigit() but not ASCII
    "６２１３０１４１０７８５０００３",  # full-width digits
    None, 6213014107850003,
], ids=["empty", "15", "17", "letter O", "spaces", "dashes", "leading space", "trailing newline",
        "arabic-indic digits", "full-width digits", "None", "int"])
def test_parse_nik_requires_exactly_16_ascii_digits(value):
    assert rejected_by_us(value) == "A NIK has exactly 16 digits."


def test_random_digit_strings_in_kalimantan_get_the_same_verdict_as_lokal():
    """Random tails after real district codes: where lokal accepts, we accept
    with the same facts, except that where lokal reads a date in the future
    (20YY) we read the same day a century earlier."""
    rng = random.Random(99)
    mismatches = []
    for _ in range(3000):
        number = rng.choice(DISTRICTS).replace(".", "") + f"{rng.randint(0, 79):02d}{rng.randint(0, 13):02d}" \
            + "".join(rng.choice("0123456789") for _ in range(6))
        theirs, ours = lokal(number), rejected_by_us(number)
        if (ours is None) != theirs.valid:
            mismatches.append((number, theirs.valid, ours))
        elif theirs.valid:
            born = parse_nik(number, TODAY).birth_date
            expected = date.fromisoformat(theirs.birth_date)
            if expected > TODAY:
                expected = expected.replace(year=expected.year - 100)
            if born != expected:
                mismatches.append((number, theirs.birth_date, born))
    assert mismatches == [], mismatches[:5]


@pytest.mark.parametrize("district", ["62.13.99", "62.99.01", "61.71.50", "65.05.20"])
def test_parse_nik_rejects_a_region_part_that_is_not_a_district_although_lokal_only_warns(district):
    number = make_nik(district, date(1985, 7, 1), "F", 3)
    theirs = lokal_parse_nik(number, reference_date=TODAY, lookup_wilayah=wilayah_name)
    assert theirs.valid and [w.code for w in theirs.warnings] == ["wilayah_unknown"]
    message = rejected_by_us(number)
    assert message is not None and district in message


def test_a_nik_whose_20yy_reading_is_in_the_future_reads_a_century_earlier_where_lokal_reads_the_future():
    tomorrow = TODAY + timedelta(days=1)
    for sex in "MF":
        number = make_nik("62.13.01", tomorrow, sex)
        assert lokal(number).valid and lokal(number).birth_date == tomorrow.isoformat()
        assert parse_nik(number, TODAY).birth_date == date(1926, 11, 25)


def test_parse_nik_accepts_a_birth_date_of_today():
    assert parse_nik(make_nik("62.13.01", TODAY, "F"), TODAY).birth_date == TODAY


def test_a_nik_alone_reads_as_the_most_recent_date_not_in_the_future():
    assert parse_nik(make_nik("62.13.01", date(2026, 1, 5), "M"), TODAY).birth_date == date(2026, 1, 5)
    assert parse_nik("6213010501270001", TODAY).birth_date == date(1927, 1, 5)
    assert parse_nik("6213010501000001", TODAY).birth_date == date(2000, 1, 5)
    assert parse_nik("6213013112260001", TODAY).birth_date == date(1926, 12, 31)  # 2026-12-31 is to come
    assert parse_nik("6213012902000001", TODAY).birth_date == date(2000, 2, 29)  # 1900 had no 29 February


@pytest.mark.parametrize("born, sex", [(date(1900, 1, 1), "M"), (date(1920, 6, 15), "F"), (date(1925, 1, 1), "M"),
                                       (date(1926, 12, 31), "M"), (date(2025, 1, 1), "F"), (date(1999, 12, 31), "F")])
def test_the_birth_date_decides_the_century_the_nik_gives_day_month_and_two_digits(born, sex):
    nik = parse_nik(make_nik("62.13.01", born, sex), TODAY)
    check_nik_matches(nik, born, sex)  # the oldest and the youngest alike
    for other_century in (born.replace(year=born.year + 100), born.replace(year=born.year - 100)):
        check_nik_matches(nik, other_century, sex)  # (whether such a date is possible is another rule's)
    with pytest.raises(InvalidIdentity) as caught:
        check_nik_matches(nik, born.replace(year=born.year + 1), sex)
    assert caught.value.field == "birth_date" and born.strftime("%d-%m-%y") in caught.value.message


@pytest.mark.parametrize("day_part, expected_day, expected_sex", [
    ("01", 1, "M"), ("31", 31, "M"), ("41", 1, "F"), ("71", 31, "F")])
def test_women_have_forty_added_to_the_day(day_part, expected_day, expected_sex):
    nik = parse_nik(f"621301{day_part}0385" + "0001", TODAY)
    assert (nik.birth_date, nik.sex) == (date(1985, 3, expected_day), expected_sex)


def test_parse_nik_without_today_uses_the_real_date():
    nik = parse_nik("6213014107850003")
    assert (nik.birth_date, nik.sex, nik.district_code) == (date(1985, 7, 1), "F", "62.13.01")


def test_parse_nik_reports_the_field_name_it_is_given():
    with pytest.raises(InvalidIdentity) as caught:
        parse_nik("123", TODAY, field="members.0.nik")
    assert caught.value.field == "members.0.nik"


# check_nik_matches ---------------------------------------------------------------------------------------------

WOMAN = parse_nik("6213014107850003", TODAY)  # born 1985-07-01
MAN = parse_nik("6213011503100002", TODAY)  # born 2010-03-15


def test_check_nik_matches_accepts_the_encoded_birth_date_and_sex_or_nothing():
    assert check_nik_matches(WOMAN, date(1985, 7, 1), "F") is None
    assert check_nik_matches(MAN, date(2010, 3, 15), "M") is None
    assert check_nik_matches(MAN) is None


def test_check_nik_matches_refuses_a_contradicting_birth_date_naming_the_encoded_one():
    with pytest.raises(InvalidIdentity) as caught:
        check_nik_matches(WOMAN, date(1985, 7, 2), "F")
    assert caught.value.field == "birth_date"
    assert "1985-07-02" in caught.value.message and "01-07-85" in caught.value.message


def test_check_nik_matches_refuses_male_for_a_womans_nik_naming_the_day_plus_forty():
    with pytest.raises(InvalidIdentity) as caught:
        check_nik_matches(WOMAN, date(1985, 7, 1), "M")
    assert caught.value.field == "sex"
    assert "female (day + 40)" in caught.value.message


def test_check_nik_matches_refuses_female_for_a_mans_nik():
    with pytest.raises(InvalidIdentity) as caught:
        check_nik_matches(MAN, None, "F")
    assert caught.value.field == "sex"
    assert "encodes male" in caught.value.message


# check_kk ------------------------------------------------------------------------------------------------------

def test_check_kk_accepts_a_kk_number_from_a_listed_district_with_a_real_issue_date():
    assert check_kk("6213010107200001") == "6213010107200001"


@pytest.mark.parametrize("value, fragment", [
    ("621301010720000", "16 digits"),
    ("62130101072000011", "16 digits"),
    ("62130101072A0001", "16 digits"),
    ("６２１３０１０１０７２００００１", "16 digits"),
    (None, "16 digits"),
    ("6213990107200001", "62.13.99"),
    ("9901010107200001", "99.01.01"),
    ("6213010007200001", "issue date"),
    ("6213013207200001", "issue date"),
    ("6213010113200001", "issue date"),
    ("6213013002200001", "issue date"),
    ("6213014107200001", "issue date"),  # no "+40" on a KK number: day 41 is not a date
], ids=["15", "17", "letter", "full-width", "None", "no district", "no province", "day 00", "day 32", "month 13",
        "30 Feb", "day 41"])
def test_check_kk_refuses(value, fragment):
    with pytest.raises(InvalidIdentity) as caught:
        check_kk(value)
    assert caught.value.field == "kk_number"
    assert fragment in caught.value.message


# normalize_phone -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("written", [
    "0812-3456-7890", "081234567890", "+62 812 3456 7890", "6281234567890", "+62 0812 3456 7890",
    "(0812) 3456.7890", "812 3456 7890", " 0812 3456 7890 "])
def test_normalize_phone_writes_a_mobile_number_in_e164(written):
    assert normalize_phone(written) == "+6281234567890"


def test_normalize_phone_accepts_a_landline_with_area_code():
    assert normalize_phone("(021) 555-1234") == "+62215551234"
    assert normalize_phone("0536-3221234") == "+625363221234"


@pytest.mark.parametrize("written", [
    "0812-3456-7890", "+62 811 5200 100", "0852 4900 1122", "0536 322 1234", "(0511) 335-2211"])
def test_normalize_phone_agrees_with_lokal(written):
    assert normalize_phone(written) == lokal_normalize_phone(written)
    assert re.fullmatch(r"\+62[1-9]\d{6,11}", normalize_phone(written))


@pytest.mark.parametrize("written", [
    "", None, "abc", "12345", "0812", "0812345678901234", "0812-3456-789x", "+1 202 555 0100",
    "+44 20 7946 0958", "0012345678", "08123456789O"])
def test_normalize_phone_rejects_what_is_not_an_indonesian_number(written):
    with pytest.raises(InvalidIdentity) as caught:
        normalize_phone(written)
    assert caught.value.field == "phone"
    assert repr(written) in caught.value.message


# normalize_name ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("Siti Aminah", "siti aminah"),
    ("  SITI   aminah ", "siti aminah"),
    ("Siti\tAminah\nbinti  Abdullah", "siti aminah binti abdullah"),
    ("Muh. Yusuf", "muh. yusuf"),
    ("Nur'aini", "nur'aini"),
    ("Budi, S.Pd.", "budi s.pd."),
    ("Ahmad 2", "ahmad"),
    ("Ni Made Ayu-Lestari", "ni made ayu-lestari"),
])
def test_normalize_name(name, expected):
    assert normalize_name(name) == expected


def test_normalize_name_is_idempotent_and_makes_spellings_of_one_name_equal():
    for name in ("  SITI   aminah ", "Budi, S.Pd.", "Muh. Yusuf"):
        assert normalize_name(normalize_name(name)) == normalize_name(name)
    assert normalize_name("SITI  AMINAH") == normalize_name("siti aminah") == normalize_name(" Siti Aminah,")
