"""Certificate verification codes (rules/codes.py)."""
import re

import pytest

from setiakawan_training.rules.codes import ALPHABET, LENGTH, new_code, normalise

PRINTED = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{2}$")


def test_the_alphabet_is_crockfords():
    assert len(ALPHABET) == 32 and len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)
    assert LENGTH == 10


def test_a_new_code_is_printed_in_groups_of_four_four_two():
    for _ in range(50):
        code = new_code()
        assert PRINTED.match(code), code
        assert set(code.replace("-", "")) <= set(ALPHABET)


def test_a_thousand_new_codes_are_all_different():
    codes = [new_code() for _ in range(1000)]
    assert len(set(codes)) == 1000


def test_new_codes_use_the_whole_alphabet():
    seen = set("".join(new_code() for _ in range(1000)).replace("-", ""))
    assert seen == set(ALPHABET)


def test_a_new_code_normalises_to_itself():
    for _ in range(50):
        code = new_code()
        assert normalise(code) == code


@pytest.mark.parametrize("typed", [
    "K7QM-3XPA-9D",
    "k7qm-3xpa-9d",           # lower case
    "K7QM3XPA9D",             # no dashes
    "k7qm3xpa9d",
    " K7QM 3XPA 9D ",         # spaces
    "K7QM\t3XPA\n9D",
    "K7-QM-3X-PA-9D",         # dashes anywhere
    "K7QM - 3XPA - 9D",
])
def test_normalise_accepts_how_people_type(typed):
    assert normalise(typed) == "K7QM-3XPA-9D"


@pytest.mark.parametrize("typed, printed", [
    ("OOOO-0000-00", "0000-0000-00"),   # O read as zero
    ("oooo-oooo-oo", "0000-0000-00"),
    ("IIII-1111-11", "1111-1111-11"),   # I and L read as one
    ("llll-LLLL-iI", "1111-1111-11"),
    ("K7QM-3XPA-9O", "K7QM-3XPA-90"),
])
def test_letters_that_look_like_digits_are_read_as_digits(typed, printed):
    assert normalise(typed) == printed


@pytest.mark.parametrize("typed", [
    "",
    "   ",
    "K7QM-3XPA-9",            # too short
    "K7QM-3XPA-9DD",          # too long
    "K7QM-3XPA-9U",           # U is not in the alphabet
    "K7QM-3XPA-9!",
    "K7QM_3XPA_9D",           # underscores are not separators
    "K7QM-3XPA-9É",
])
def test_normalise_refuses_what_cannot_be_a_code(typed):
    assert normalise(typed) is None
