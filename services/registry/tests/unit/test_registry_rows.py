"""Bulk import rows (rules/rows.py): one CSV row per member, household
columns repeated on each row."""
from datetime import date

import pytest

from setiakawan_registry.rules.rows import (COLUMNS, HOUSEHOLD_COLUMNS, MAX_FIELD, HeaderError, RowError,
                                            RowValidator, column_order, detect_delimiter, household_problem)

TODAY = date(2026, 11, 24)
ORDER = column_order(COLUMNS)

HOUSEHOLD = {
    "kk_number": "6213010107200001", "street": "Jl. Tjilik Riwut No. 5", "rt": "001", "rw": "002",
    "village_code": "62.13.01.2003", "monthly_income": "1200000", "floor": "wood", "wall": "wood", "roof": "zinc",
    "electricity": "pln_450", "water": "protected_well", "sanitation": "shared", "assets": "motorcycle",
    "legal_basis": "public_duty", "consent_date": "", "consent_recorded_by": ""}
HEAD = {"nik": "6213014107850003", "name": "Siti Aminah", "birth_date": "1985-07-01", "sex": "F",
        "relationship": "head", "disability": "", "occupation": "pedagang", "education": "sma",
        "phone": "0812-3456-7890"}
CHILD = {"nik": "6213011503100002", "name": "Budi Santoso", "birth_date": "2010-03-15", "sex": "M",
         "relationship": "child", "disability": "none", "occupation": "", "education": "smp", "phone": ""}
GRANDFATHER = {"nik": "6213010101500001", "name": "Hasan Rahman", "birth_date": "1950-01-01", "sex": "L",
               "relationship": "parent", "disability": "physical", "occupation": "", "education": "", "phone": ""}


def fields(person=HEAD, order=ORDER, **overrides):
    """A row's values in the file's column order (``order`` as column_order gives it)."""
    values = {**HOUSEHOLD, **person, **overrides}
    assert set(values) == set(COLUMNS)
    out = [None] * len(COLUMNS)
    for column, position in zip(COLUMNS, order):
        out[position] = values[column]
    return out


def validate(line=2, person=HEAD, **overrides):
    return RowValidator(TODAY).row(line, fields(person, **overrides), ORDER)


# a good row ----------------------------------------------------------------------------------------------------

def test_a_good_row_gives_its_household_and_member():
    household, member = validate()
    assert household.kk_number == "6213010107200001"
    assert household.village_code == "62.13.01.2003"
    assert household.indicators == (1_200_000, "wood", "wood", "zinc", "pln_450", "protected_well", "shared",
                                    ("motorcycle",))
    assert (household.legal_basis, household.consent_date) == ("public_duty", "")
    assert member.line == 2
    assert (member.nik, member.name, member.name_norm) == ("6213014107850003", "Siti Aminah", "siti aminah")
    assert (member.birth_date, member.sex, member.relationship) == (date(1985, 7, 1), "F", "head")
    assert (member.disability, member.occupation, member.education) == ("none", "pedagang", "sma")
    assert member.phone == "+6281234567890"


def test_a_row_accepts_l_and_p_for_sex_and_empty_optional_values():
    _, member = validate(person=GRANDFATHER)
    assert (member.sex, member.disability, member.phone, member.education) == ("M", "physical", "", "")
    _, member = validate(sex="p")
    assert member.sex == "F"


def test_assets_are_split_on_semicolons_deduplicated_and_sorted():
    household, _ = validate(assets=" motorcycle; boat;;motorcycle ")
    assert household.indicators[-1] == ("boat", "motorcycle")
    household, _ = validate(assets="")
    assert household.indicators[-1] == ()


def test_a_row_with_consent_keeps_its_date_and_recorder():
    household, _ = validate(legal_basis="consent", consent_date="2024-01-05", consent_recorded_by=" Pak Lurah ")
    assert (household.legal_basis, household.consent_date, household.consent_recorded_by) == \
        ("consent", "2024-01-05", "Pak Lurah")


@pytest.mark.parametrize("written", ["2024-01-05", " 2024-01-05 ", "20240105", "2024-W01-5"])
def test_a_consent_date_is_kept_in_the_one_form_postgresql_reads(written):
    household, _ = validate(legal_basis="consent", consent_date=written, consent_recorded_by="Pak Lurah")
    assert household.consent_date == "2024-01-05"


def test_a_row_in_a_shuffled_header_is_read_by_column_name():
    header = [c.upper() for c in reversed(COLUMNS)]
    header[0] = f"  {header[0]} "
    order = column_order(header)
    household, member = RowValidator(TODAY).row(2, fields(order=order), order)
    assert (household.kk_number, member.nik, member.phone) == ("6213010107200001", "6213014107850003",
                                                                "+6281234567890")


# bad values ----------------------------------------------------------------------------------------------------

BAD_VALUES = [
    ("kk_number", {"kk_number": "621301010720000"}),
    ("kk_number", {"kk_number": "6213990107200001"}),
    ("kk_number", {"kk_number": "6213013207200001"}),
    ("village_code", {"village_code": "62.13.01.2001"}),
    ("village_code", {"village_code": "62.13.01"}),
    ("rt/rw", {"rt": "0001"}),
    ("rt/rw", {"rw": "2a"}),
    ("monthly_income", {"monthly_income": "1.200.000"}),
    ("monthly_income", {"monthly_income": ""}),
    ("monthly_income", {"monthly_income": "-1"}),
    ("floor", {"floor": "marble"}),
    ("wall", {"wall": "Brick"}),
    ("roof", {"roof": "asbestos"}),
    ("electricity", {"electricity": "pln_2200"}),
    ("water", {"water": "bottled"}),
    ("sanitation", {"sanitation": "river"}),
    ("assets", {"assets": "motorcycle;television"}),
    ("legal_basis", {"legal_basis": "agreement"}),
    ("legal_basis", {"legal_basis": ""}),
    ("consent_date", {"legal_basis": "consent", "consent_date": "", "consent_recorded_by": "Pak Lurah"}),
    ("consent_date", {"legal_basis": "consent", "consent_date": "2024/01/05", "consent_recorded_by": "Pak Lurah"}),
    ("consent_date", {"legal_basis": "consent", "consent_date": "2026-11-25", "consent_recorded_by": "Pak Lurah"}),
    ("consent_date", {"consent_date": "kemarin"}),  # public duty: no consent needed, but the column is a date
    ("nik", {"nik": "621301410785000"}),
    ("nik", {"nik": "6213994107850003"}),  # district 62.13.99 is not on the list
    ("nik", {"nik": "6213017207850003"}),  # day 72
    ("nik", {"nik": "6213014107850000"}),  # serial 0000
    ("birth_date", {"nik": "6213016512260003", "birth_date": "2026-12-25"}),  # in the future (the NIK: 1926 too)
    ("birth_date", {"nik": "6213014107850003", "birth_date": "1885-07-01"}),  # the NIK agrees; 141 years ago
    ("name", {"name": "   "}),
    ("birth_date", {"birth_date": "1985/07/01"}),
    ("birth_date", {"birth_date": "31-02-1985"}),  # day first, but no such day
    ("birth_date", {"birth_date": "1985-07-02"}),  # contradicts the NIK
    ("sex", {"sex": "X"}),
    ("sex", {"sex": "M"}),  # contradicts the NIK (day + 40)
    ("relationship", {"relationship": "boss"}),
    ("relationship", {"relationship": "Bos"}),
    ("disability", {"disability": "blind"}),
    ("education", {"education": "SD"}),
    ("phone", {"phone": "12345"}),
    ("phone", {"phone": "+44 20 7946 0958"}),
]


@pytest.mark.parametrize("column, overrides", BAD_VALUES,
                         ids=[f"{c}={'/'.join(v.values())}" for c, v in BAD_VALUES])
def test_a_bad_value_is_refused_with_a_reason_naming_its_column(column, overrides):
    with pytest.raises(RowError) as caught:
        validate(**overrides)
    assert str(caught.value).startswith(f"{column}: "), str(caught.value)


def test_every_column_that_can_be_wrong_has_a_bad_value_test():
    tested = {c for c, _ in BAD_VALUES} | {"rt", "rw"}
    free_text = {"street", "consent_recorded_by", "occupation"}
    assert set(COLUMNS) - free_text <= tested


def test_a_value_longer_than_the_limit_is_refused():
    validate(street="x" * MAX_FIELD)
    with pytest.raises(RowError, match=f"longer than {MAX_FIELD}"):
        validate(street="x" * (MAX_FIELD + 1))


@pytest.mark.parametrize("count", [0, len(COLUMNS) - 1, len(COLUMNS) + 1])
def test_a_row_with_the_wrong_number_of_values_is_refused(count):
    with pytest.raises(RowError, match=f"expected {len(COLUMNS)} columns, found {count}"):
        RowValidator(TODAY).row(2, ["x"] * count, ORDER)


@pytest.mark.parametrize("column", ["street", "name", "occupation", "consent_recorded_by"])
def test_a_row_with_a_nul_character_is_refused(column):
    with pytest.raises(RowError, match="NUL"):
        validate(**{column: "A\x00B"})


def test_the_consent_date_is_judged_against_the_validators_today():
    with pytest.raises(RowError, match="consent_date"):
        RowValidator(date(2024, 1, 4)).row(2, fields(legal_basis="consent", consent_date="2024-01-05",
                                                      consent_recorded_by="Pak Lurah"), ORDER)


@pytest.mark.parametrize("overrides", [
    {"name": "A" * 201},
    {"occupation": "o" * 101},
    {"legal_basis": "consent", "consent_date": "2024-01-05", "consent_recorded_by": "r" * 201},
    {"monthly_income": "10000000001"},
], ids=["name 201", "occupation 101", "consent_recorded_by 201", "income above 10^10"])
def test_a_row_refuses_what_the_http_api_refuses(overrides):
    with pytest.raises(RowError):
        validate(**overrides)


def test_rows_of_one_household_share_the_checked_household():
    validator = RowValidator(TODAY)
    first, _ = validator.row(2, fields(HEAD), ORDER)
    second, member = validator.row(3, fields(CHILD), ORDER)
    assert second is first and member.nik == CHILD["nik"]


def test_a_bad_household_value_after_a_good_row_is_still_refused():
    validator = RowValidator(TODAY)
    validator.row(2, fields(HEAD), ORDER)
    with pytest.raises(RowError, match="^village_code: "):
        validator.row(3, fields(CHILD, village_code="62.13.01.2001"), ORDER)
    with pytest.raises(RowError, match="^floor: "):
        validator.row(4, fields(CHILD, floor="marble"), ORDER)
    household, _ = validator.row(5, fields(CHILD), ORDER)
    assert household.village_code == "62.13.01.2003"


def test_a_bad_member_does_not_spoil_the_next_row():
    validator = RowValidator(TODAY)
    with pytest.raises(RowError, match="^nik: "):
        validator.row(2, fields(HEAD, nik="123"), ORDER)
    _, member = validator.row(3, fields(HEAD), ORDER)
    assert member.nik == HEAD["nik"]


# header --------------------------------------------------------------------------------------------------------

def test_column_order_of_our_own_header_is_the_identity():
    assert column_order(COLUMNS) == list(range(len(COLUMNS)))
    assert HOUSEHOLD_COLUMNS == COLUMNS[:16] and HOUSEHOLD_COLUMNS[-1] == "consent_recorded_by"


def test_column_order_ignores_case_and_surrounding_spaces():
    header = list(reversed([f" {c.title()} " for c in COLUMNS]))
    assert column_order(header) == list(reversed(range(len(COLUMNS))))


def test_a_header_without_some_columns_names_them():
    header = [c for c in COLUMNS if c not in ("nik", "phone")]
    with pytest.raises(HeaderError, match="lacks the columns: nik, phone"):
        column_order(header)


def test_a_header_with_unknown_columns_names_them():
    with pytest.raises(HeaderError, match="unknown columns: agama"):
        column_order([*COLUMNS, "Agama"])


def test_a_header_naming_a_column_twice_is_refused():
    with pytest.raises(HeaderError, match="twice"):
        column_order([*COLUMNS, "NIK"])


def test_an_empty_header_lacks_every_column():
    with pytest.raises(HeaderError, match="lacks the columns: kk_number, street"):
        column_order([])


# household_problem ---------------------------------------------------------------------------------------------

def rows_of(*people, **overrides_by_line):
    validator = RowValidator(TODAY)
    out = []
    for line, person in enumerate(people, start=2):
        out.append(validator.row(line, fields(person, **overrides_by_line.get(f"line{line}", {})), ORDER))
    return out


def test_a_household_with_one_head_has_no_problem():
    assert household_problem(rows_of(HEAD, CHILD, GRANDFATHER)) is None
    assert household_problem(rows_of(HEAD)) is None


def test_a_household_with_two_heads_is_refused():
    problem = household_problem(rows_of(HEAD, dict(CHILD, relationship="head")))
    assert problem == "the household needs exactly one head; these rows give it 2."


def test_a_household_without_a_head_is_refused():
    problem = household_problem(rows_of(dict(HEAD, relationship="spouse"), CHILD))
    assert problem == "the household needs exactly one head; these rows give it 0."


@pytest.mark.parametrize("column, value", [("street", "Jl. Lain"), ("monthly_income", "900000"),
                                           ("assets", "boat"), ("village_code", "62.13.01.2004")])
def test_rows_of_one_kk_with_differing_household_columns_are_refused_naming_the_first_line(column, value):
    rows = rows_of(HEAD, CHILD, GRANDFATHER, line4={column: value})
    assert household_problem(rows) == "household columns differ from line 2 of the same KK number."


def test_differently_written_but_equal_assets_are_the_same_household():
    assert household_problem(rows_of(HEAD, CHILD, line3={"assets": "motorcycle;motorcycle"})) is None


def test_more_than_30_members_under_one_kk_is_refused():
    (head_row,) = rows_of(HEAD)
    (child_row,) = rows_of(CHILD)
    assert household_problem([head_row] + [child_row] * 29) is None
    assert household_problem([head_row] + [child_row] * 30) == "more than 30 members under one KK number."


@pytest.mark.parametrize("line, expected", [
    (",".join(COLUMNS), ","), (";".join(COLUMNS), ";"), ("\t".join(COLUMNS), "\t"),
    ('"kk_number;x",street,rt', ","),  # a semicolon inside a quoted name does not count
    ("kk_number", ","), ("", ","), ("kk_number,street\r1,2\r", ",")])
def test_the_delimiter_is_the_one_that_splits_the_header_into_most_columns(line, expected):
    assert detect_delimiter(line) == expected


def test_a_header_read_as_one_column_asks_whether_the_file_uses_another_delimiter():
    with pytest.raises(HeaderError) as caught:
        column_order([";".join(COLUMNS)], ",")
    assert str(caught.value).startswith("Read 1 column from the header ('kk_number;street;")
    assert str(caught.value).endswith("Is the file separated by semicolons?")
    with pytest.raises(HeaderError) as caught:
        column_order(["kk_number street rt"])
    assert "Separate the columns with commas, semicolons, tabs." in str(caught.value)


def test_a_row_with_several_problems_names_every_one_with_its_column():
    with pytest.raises(RowError) as caught:
        validate(floor="marble", rt="1234", person={**HEAD, "sex": "X", "birth_date": "1985/07/01",
                                                     "relationship": "Bos", "phone": "12345"})
    problems = str(caught.value).split(" | ")
    assert [p.split(":")[0] for p in problems] == ["rt/rw", "floor", "birth_date", "sex", "relationship", "phone"]
    assert all(p.strip() for p in problems)


def test_a_row_with_one_problem_says_only_that_one():
    with pytest.raises(RowError) as caught:
        validate(person={**HEAD, "phone": "12345"})
    assert " | " not in str(caught.value) and str(caught.value).startswith("phone:")
