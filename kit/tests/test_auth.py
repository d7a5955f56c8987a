from datetime import timedelta

import pytest

from setiakawan_kit import auth
from setiakawan_kit.problems import Problem

SECRET = "unit-test-secret-unit-test-secret-0123"


def test_token_round_trip():
    token = auth.issue_token(SECRET, "Dinsos Bartim", "district", "field_officer", ["62.13"])
    identity = auth.read_token(SECRET, token)
    assert identity == auth.Identity("Dinsos Bartim", "district", "field_officer", ("62.13",))


@pytest.mark.parametrize("token", [None, "", "not-a-jwt"])
def test_missing_or_garbage_token_is_401(token):
    with pytest.raises(Problem) as info:
        auth.read_token(SECRET, token)
    assert info.value.status == 401


def test_expired_and_foreign_tokens_are_401():
    expired = auth.issue_token(SECRET, "a", "ngo", "viewer", ["62"], ttl=timedelta(minutes=-5))
    foreign = auth.issue_token("another-secret-another-secret-0123", "a", "ngo", "viewer", ["62"])
    for token in (expired, foreign):
        with pytest.raises(Problem) as info:
            auth.read_token(SECRET, token)
        assert info.value.status == 401
    with pytest.raises(Problem, match="expired"):
        auth.read_token(SECRET, expired)


def test_token_claims_are_checked():
    import jwt

    bad = jwt.encode({"iss": "setiakawan", "sub": "a", "kind": "ngo", "role": "king", "regions": ["62"],
                      "iat": 1, "exp": 9999999999}, SECRET, algorithm="HS256")
    with pytest.raises(Problem):
        auth.read_token(SECRET, bad)
    with pytest.raises(ValueError):
        auth.issue_token(SECRET, "a", "ngo", "viewer", ["62.13.1"])
    with pytest.raises(ValueError):
        auth.issue_token(SECRET, "a", "guild", "viewer", ["62"])


@pytest.mark.parametrize("agency", ["", "  ", "Dinas\x00Sosial", 7])
def test_a_token_must_name_an_agency_every_service_can_store(agency):
    import jwt

    token = jwt.encode({"iss": "setiakawan", "sub": agency, "kind": "ngo", "role": "viewer", "regions": ["62"],
                        "iat": 1, "exp": 9999999999}, SECRET, algorithm="HS256")
    with pytest.raises(Problem) as caught:
        auth.read_token(SECRET, token)
    assert caught.value.status == 401
    with pytest.raises((ValueError, TypeError)):
        auth.issue_token(SECRET, agency, "ngo", "viewer", ["62"])


@pytest.mark.parametrize("regions,code,covered", [
    (("62",), "62.13.01.2003", True),
    (("62.13",), "62.13", True),
    (("62.13",), "62.13.01", True),
    (("62.13",), "62.131", False),
    (("62.13",), "62.11.01.2001", False),
    (("62.13.01.2003",), "62.13.01", False),
    (("62.13", "63.01"), "63.01.02", True),
    (("62",), None, False),
])
def test_a_region_covers_the_codes_below_it(regions, code, covered):
    identity = auth.Identity("a", "district", "operator", regions)
    assert identity.covers(code) is covered


def test_scope_helpers_raise_403():
    identity = auth.Identity("a", "village", "viewer", ("62.13.01.2003",))
    with pytest.raises(Problem) as info:
        auth.require_role(identity, "operator")
    assert info.value.status == 403
    with pytest.raises(Problem) as info:
        auth.require_region(identity, "62.13.01.2004")
    assert info.value.status == 403
    auth.require_region(identity, "62.13.01.2003")


def test_bearer_header_parsing():
    assert auth.bearer("Bearer abc") == "abc"
    assert auth.bearer("bearer  abc ") == "abc"
    assert auth.bearer("Basic abc") is None
    assert auth.bearer(None) is None
