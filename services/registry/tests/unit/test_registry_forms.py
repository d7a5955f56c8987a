"""The forms in which Indonesian offices write values (rules/forms.py), read
into the registry's canonical ones, alone and in an import row."""
from datetime import date

import pytest

from setiakawan_registry.rules import forms
from setiakawan_registry.rules.rows import RowError

from test_registry_rows import CHILD, HEAD, validate


@pytest.mark.parametrize("text, expected", [
    ("1985-03-12", date(1985, 3, 12)), ("12-03-1985", date(1985, 3, 12)), ("12/03/1985", date(1985, 3, 12)),
    ("2-3-1985", date(1985, 3, 2)), (" 31/12/1926 ", date(1926, 12, 31)), ("29-02-2000", date(2000, 2, 29))])
def test_dates_are_read_iso_or_day_first(text, expected):
    assert forms.read_date(text) == expected


@pytest.mark.parametrize("text", ["1985/03/12", "12.03.1985", "31-02-1985", "12-13-1985", "12-03-85", "12-03/1985",
                                  "", "kemarin"])
def test_what_is_no_date_says_which_forms_are_read(text):
    with pytest.raises(ValueError) as caught:
        forms.read_date(text)
    assert "YYYY-MM-DD, DD-MM-YYYY or DD/MM/YYYY" in str(caught.value)


@pytest.mark.parametrize("text, expected", [
    ("M", "M"), ("F", "F"), ("L", "M"), ("P", "F"), ("l", "M"), ("Laki-laki", "M"), ("LAKI-LAKI", "M"),
    ("Laki Laki", "M"), ("Perempuan", "F"), (" perempuan ", "F"), ("X", None), ("", None), ("1", None)])
def test_sex_in_its_written_forms(text, expected):
    assert forms.read_sex(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("head", "head"), ("Kepala Keluarga", "head"), ("KEPALA KELUARGA", "head"), ("Suami", "spouse"),
    ("Istri", "spouse"), ("Anak", "child"), ("Menantu", "in_law"), ("Mertua", "in_law"), ("Cucu", "grandchild"),
    ("Orang Tua", "parent"), ("orang  tua", "parent"), ("Famili Lain", "other"), ("Lainnya", "other"),
    ("Bos", None), ("", None)])
def test_relationships_in_english_or_as_a_kartu_keluarga_names_them(text, expected):
    assert forms.read_relationship(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("6213012003", "62.13.01.2003"), ("62.13.01.2003", "62.13.01.2003"), (" 6213012003 ", "62.13.01.2003"),
    ("621301200", "621301200"), ("62130120031", "62130120031")])
def test_village_codes_with_or_without_dots(text, expected):
    assert forms.read_village_code(text) == expected


def test_an_import_row_in_indonesian_forms_gives_the_canonical_member_and_household():
    household, member = validate(person={**HEAD, "birth_date": "01-07-1985", "sex": "Perempuan",
                                         "relationship": "Kepala Keluarga"}, village_code="6213012003")
    assert household.village_code == "62.13.01.2003"
    assert (member.birth_date, member.sex, member.relationship) == (date(1985, 7, 1), "F", "head")
    _, child = validate(person={**CHILD, "birth_date": "15/03/2010", "sex": "L", "relationship": "Anak"})
    assert (child.birth_date, child.sex, child.relationship) == (date(2010, 3, 15), "M", "child")


def test_a_row_names_the_forms_it_reads_when_a_value_is_none_of_them():
    with pytest.raises(RowError) as caught:
        validate(person={**HEAD, "relationship": "Bos"})
    assert "Kepala Keluarga" in str(caught.value)
    with pytest.raises(RowError) as caught:
        validate(person={**HEAD, "sex": "W"})
    assert "Laki-laki or Perempuan" in str(caught.value)
