"""The disclosure policy and the masked form (rules/disclosure.py)."""
from datetime import date

import pytest

from setiakawan_kit.auth import KINDS, ROLES
from setiakawan_registry.rules import disclosure
from setiakawan_registry.rules.disclosure import CLEAR, MASKED, initials, mask_number

B = "\u2022"


@pytest.mark.parametrize("kind", ["province", "district", "village"])
def test_offices_see_everything_in_clear_but_their_viewers(kind):
    assert [disclosure.level(kind, r) for r in ("admin", "operator", "field_officer", "viewer")] == [
        CLEAR, CLEAR, CLEAR, MASKED]


@pytest.mark.parametrize("kind", ["ngo", "csr"])
def test_ngos_and_companies_see_the_masked_form_in_every_role(kind):
    assert {disclosure.level(kind, r) for r in ROLES} == {MASKED}


def test_the_policy_names_every_kind_and_role_and_is_masked_for_anything_else():
    assert set(disclosure.POLICY) == set(KINDS)
    assert all(set(roles) == set(ROLES) for roles in disclosure.POLICY.values())
    assert disclosure.level("embassy", "admin") == MASKED
    assert disclosure.level("province", "superuser") == MASKED
    assert disclosure.level(None, None) == MASKED


def test_a_number_keeps_its_first_and_last_four_digits():
    assert mask_number("6213014107850012") == f"6213{B * 8}0012"
    assert mask_number(" 6213014107850012 ") == f"6213{B * 8}0012"
    assert mask_number("62130141078500123") == f"6213{B * 8}0123"  # too long (a bad import row): same shape
    assert mask_number("621301") == B * 8  # too short to show any of it
    assert mask_number("") == "" and mask_number(None) is None


@pytest.mark.parametrize("name, expected", [
    ("Siti Aminah", "S. A."),
    ("Sukarno", "S."),                                    # one word
    ("  siti   aminah  ", "S. A."),                       # extra and leading spaces, lower case
    ("Siti\u00a0Aminah\tbinti\nAhmad", "S. A. B. A."),      # other white space
    ("Ñoman Ödeh", "Ñ. Ö."),                              # non-ASCII letters
    ("E\u0301lise Dupont", "\u00c9. D."),                 # a decomposed accent stays with its letter
    ("'Aisyah (Alm.)", "A. A."),                          # punctuation before the first letter
    ("Muh. - Ridwan", "M. R."),                           # a word without letters
    ("ßimon", "ß."),                                      # no one-letter upper case
    ("李 小龍", "李. 小."),
    ("", ""), ("   ", ""),
])
def test_a_name_becomes_its_initials(name, expected):
    assert initials(name) == expected


def test_masked_person_withholds_birth_date_and_phone_and_keeps_the_rest():
    person = {"id": "r1", "nik": "6213014107850003", "name": "Siti Aminah", "name_norm": "siti aminah",
              "birth_date": date(1985, 7, 1), "sex": "F", "phone": "+6281234567890", "relationship": "head",
              "village_code": "62.13.01.2003"}
    masked = disclosure.person(person, MASKED)
    assert masked == dict(person, nik=f"6213{B * 8}0003", name="S. A.", name_norm=None, birth_date=None,
                          phone=None)
    assert disclosure.person(person, CLEAR) == person
    assert person["name"] == "Siti Aminah"  # the record itself is untouched


def test_masked_household_masks_its_kk_number_members_and_notes():
    household = {"id": "h1", "kk_number": "6213010107200001", "street": "Jl. Tjilik Riwut",
                 "verification_notes": "called 0812-3456-7890, NIK 6213014107850003 seen",
                 "members": [{"nik": "6213014107850003", "name": "Siti Aminah", "phone": None}]}
    masked = disclosure.household(household, MASKED)
    assert masked["kk_number"] == f"6213{B * 8}0001" and masked["street"] == "Jl. Tjilik Riwut"
    assert masked["members"] == [{"nik": f"6213{B * 8}0003", "name": "S. A.", "phone": None}]
    assert "0812" not in masked["verification_notes"] and "6213014107850003" not in masked["verification_notes"]
    assert disclosure.household(household, CLEAR) == household


def test_history_entries_mask_names_numbers_phones_and_free_text():
    entries = [
        {"entity": "household", "action": "registered",
         "changes": {"kk_number": "6213010107200001", "village_code": "62.13.01.2003", "members": 3}},
        {"entity": "member", "action": "updated",
         "changes": {"name": ["Rina Santoso", "Rina Aminah"], "phone": [None, "+6281234567890"]}},
        {"entity": "member", "action": "removed", "changes": {"reason": "died", "name": "Hasan Rahman"}},
        {"entity": "household", "action": "verified",
         "changes": {"notes": "NIK 6213014107850003 checked", "status": ["registered", "verified"]}},
        {"entity": "group", "action": "updated", "changes": {"name": ["KUBE Maju", "KUBE Jaya"], "members": 2}},
    ]
    masked = [disclosure.history_entry(e, MASKED)["changes"] for e in entries]
    assert masked[0] == {"kk_number": f"6213{B * 8}0001", "village_code": "62.13.01.2003", "members": 3}
    assert masked[1] == {"name": ["R. S.", "R. A."], "phone": [None, None]}
    assert masked[2] == {"reason": "died", "name": "H. R."}
    assert "6213014107850003" not in masked[3]["notes"] and masked[3]["status"] == ["registered", "verified"]
    assert masked[4] == {"name": ["KUBE Maju", "KUBE Jaya"], "members": 2}  # a group's name is no person's
    assert [disclosure.history_entry(e, CLEAR) for e in entries] == entries


def test_a_rejected_import_row_is_masked_by_its_columns():
    columns = ("kk_number", "street", "nik", "name", "birth_date", "phone", "sex")
    row = ["6213010107200001", "Jl. Mawar", "62130141078", "Siti Aminah", "1985-07-01", "0812345", "F"]
    assert disclosure.import_row(columns, row, MASKED) == [
        f"6213{B * 8}0001", "Jl. Mawar", B * 8, "S. A.", "", "", "F"]
    assert disclosure.import_row(columns, row, CLEAR) == row
    # fields that cannot be told apart: none shown
    assert disclosure.import_row(columns, ["Siti Aminah", "6213014107850003"], MASKED) == ["", ""]
    assert disclosure.reason("phone: '0812-3456-7890' is not valid", MASKED) == "phone: '[phone]' is not valid"
    assert disclosure.reason("phone: '0812-3456-7890' is not valid", CLEAR) == "phone: '0812-3456-7890' is not valid"
