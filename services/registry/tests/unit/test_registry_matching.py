"""Keyed hashes for cross-agency matching (rules/matching.py)."""
import hashlib
import hmac
import re

from setiakawan_registry.rules.matching import match_key

NIK = "6213014107850003"
KK = "6213010107200001"


def test_match_key_is_64_lowercase_hex_characters():
    assert re.fullmatch(r"[0-9a-f]{64}", match_key("s3cret", "nik", NIK))


def test_match_key_is_deterministic():
    assert match_key("s3cret", "nik", NIK) == match_key("s3cret", "nik", NIK)


def test_match_key_is_hmac_sha256_of_kind_and_number_so_stored_keys_stay_valid():
    expected = hmac.new(b"s3cret", f"nik:{NIK}".encode(), hashlib.sha256).hexdigest()
    assert match_key("s3cret", "nik", NIK) == expected


def test_match_key_differs_by_secret_kind_and_number():
    keys = {match_key("s3cret", "nik", NIK), match_key("other", "nik", NIK), match_key("s3cret", "kk", NIK),
            match_key("s3cret", "nik", "6213014107850004"), match_key("", "nik", NIK)}
    assert len(keys) == 5


def test_match_key_does_not_contain_the_number_or_a_plain_hash_of_it():
    for number in (NIK, KK):
        key = match_key("s3cret", "nik", number)
        assert number not in key
        assert key != hashlib.sha256(number.encode()).hexdigest()
        assert key != hashlib.sha256(f"nik:{number}".encode()).hexdigest()


def test_interleaving_secrets_does_not_change_the_keys():
    first_a, first_b = match_key("a", "nik", NIK), match_key("b", "nik", NIK)
    for _ in range(3):
        assert match_key("b", "kk", KK) == hmac.new(b"b", f"kk:{KK}".encode(), hashlib.sha256).hexdigest()
        assert match_key("a", "nik", NIK) == first_a
        assert match_key("b", "nik", NIK) == first_b


def test_distinct_niks_get_distinct_keys():
    numbers = [f"621301410785{serial:04d}" for serial in range(1, 2001)]
    assert len({match_key("s3cret", "nik", n) for n in numbers}) == len(numbers)


def test_a_non_ascii_secret_works():
    assert match_key("rahasia-ñ", "nik", NIK) == hmac.new("rahasia-ñ".encode(), f"nik:{NIK}".encode(),
                                                           hashlib.sha256).hexdigest()


def test_precomputed_key_states_give_hmacs_for_short_long_and_unicode_secrets():
    from setiakawan_registry.rules.matching import MatchKeys
    for secret in ("", "s3cret", "k" * 64, "k" * 65, "x" * 200, "rahasia-ñ-秘密"):
        keys = MatchKeys(secret)
        for kind, number in (("nik", NIK), ("kk", KK), ("nik", "")):
            assert keys(kind, number) == hmac.new(secret.encode(), f"{kind}:{number}".encode(),
                                                  hashlib.sha256).hexdigest()
