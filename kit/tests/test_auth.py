import base64
import hashlib
import hmac
import secrets
import http.server
import json
import stat
import threading
import time
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from setiakawan_kit import auth, keys
from setiakawan_kit.problems import Problem


@pytest.fixture
def issuer(tmp_path):
    files = keys.KeyFiles(tmp_path / "keys")
    key, _ = files.init()
    return files, key


@pytest.fixture
def verifier(issuer):
    files, _ = issuer
    return auth.TokenVerifier({"setiakawan": str(files.jwks)})


def refused(verifier, token, match=None):
    with pytest.raises(Problem, match=match) as info:
        verifier.read(token)
    assert info.value.status == 401
    return info.value


def test_token_round_trip(issuer, verifier):
    _, key = issuer
    token = auth.issue_token(key, "Dinsos Bartim", "district", "field_officer", ["62.13"])
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"
    assert jwt.get_unverified_header(token)["kid"] == key.kid
    assert verifier.read(token) == auth.Identity("Dinsos Bartim", "district", "field_officer", ("62.13",))


def test_key_files_keep_the_private_key_private_and_publish_only_the_public_key(issuer):
    files, key = issuer
    assert stat.S_IMODE(files.signing_key.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.directory.stat().st_mode) == 0o700
    published = json.loads(files.jwks.read_text())["keys"]
    assert published == [key.public_jwk()]
    assert "d" not in published[0]  # the private part of an OKP key
    again, created = files.init()
    assert not created and again.kid == key.kid


@pytest.mark.parametrize("token", [None, "", "not-a-jwt", "a.b.c"])
def test_missing_or_garbage_token_is_401(verifier, token):
    refused(verifier, token)


def test_expired_foreign_and_misaddressed_tokens_are_401(issuer, verifier, tmp_path):
    _, key = issuer
    other, _ = keys.KeyFiles(tmp_path / "other").init()
    refused(verifier, auth.issue_token(key, "a", "ngo", "viewer", ["62"], ttl=timedelta(minutes=-5)), "expired")
    refused(verifier, auth.issue_token(other, "a", "ngo", "viewer", ["62"]), "not among the issuer's keys")
    refused(verifier, auth.issue_token(key, "a", "ngo", "viewer", ["62"], issuer="someone-else"), "not trusted")
    refused(verifier, auth.issue_token(key, "a", "ngo", "viewer", ["62"], audience="another-app"), "(?i)audience")
    # another key presenting the trusted key's id: the signature fails
    forged = jwt.encode(_claims(), other.private_key, algorithm="EdDSA", headers={"kid": key.kid})
    refused(verifier, forged, "not valid")


def _claims(**extra):
    now = int(time.time())
    return {"iss": "setiakawan", "aud": "setiakawan", "sub": "Dinas Sosial", "kind": "province", "role": "admin",
            "regions": ["62"], "iat": now, "exp": now + 3600, **extra}


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _hs256(claims, secret, kid):
    """Signed by hand: PyJWT itself refuses a public key as an HMAC secret."""
    signing_input = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode()) + b"." + \
        _b64(json.dumps(claims).encode())
    return (signing_input + b"." + _b64(hmac.new(secret, signing_input, hashlib.sha256).digest())).decode()


def test_symmetric_and_unsigned_tokens_are_refused(issuer, verifier):
    """The old shared-secret tokens, an HS256 token keyed with the public key
    (algorithm confusion) and alg none."""
    _, key = issuer
    old_secret = jwt.encode(_claims(), secrets.token_hex(32), algorithm="HS256",
                            headers={"kid": key.kid})
    refused(verifier, old_secret, "HS256")
    public_pem = key.private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    raw_x = base64.urlsafe_b64decode(key.public_jwk()["x"] + "==")
    for secret in (public_pem, raw_x, key.public_jwk()["x"].encode()):
        refused(verifier, _hs256(_claims(), secret, key.kid), "HS256")
    unsigned = _b64(json.dumps({"alg": "none", "kid": key.kid}).encode()) + b"." + _b64(json.dumps(_claims()).encode())
    refused(verifier, (unsigned + b".").decode(), "none")


def test_rotation_keeps_two_keys_valid_until_the_old_one_is_retired(issuer, verifier, monkeypatch):
    files, old = issuer
    old_token = auth.issue_token(old, "a", "ngo", "viewer", ["62"])
    new = files.rotate()
    assert new.kid != old.kid and keys.load_signing_key(files.signing_key).kid == new.kid
    monkeypatch.setattr(auth.KeySet, "FILE_CHECK_SECONDS", 0)  # the JWKS file is read again at once
    new_token = auth.issue_token(new, "a", "ngo", "viewer", ["62"])
    assert verifier.read(old_token).agency == "a" and verifier.read(new_token).agency == "a"
    with pytest.raises(keys.KeyFileError):
        files.retire(new.kid)
    files.retire(old.kid)
    refused(verifier, old_token, "not among")
    assert verifier.read(new_token).agency == "a"


def _rsa_issuer():
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = {**RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True), "kid": "realm-key-1", "alg": "RS256",
           "use": "sig"}
    return private_key, {"keys": [jwk]}


@pytest.fixture
def jwks_server():
    """An OpenID Connect provider's JWKS endpoint (as Keycloak publishes one)."""
    documents = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps(documents[self.path]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield lambda path, doc: (documents.__setitem__(path, doc), f"http://127.0.0.1:{server.server_port}{path}")[1]
    server.server_close()  # its daemon thread ends with the session (shutdown() can hang once nameko is imported)


def test_a_second_issuer_is_trusted_by_its_jwks_url(issuer, jwks_server):
    files, key = issuer
    private_key, document = _rsa_issuer()
    realm = "https://sso.kalteng.example/realms/dinsos"
    url = jwks_server("/realms/dinsos/protocol/openid-connect/certs", document)
    verifier = auth.TokenVerifier(auth.issuers_setting({"setiakawan": str(files.jwks), realm: url}))
    token = jwt.encode(_claims(iss=realm, sub="f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
                               agency="Dinas Sosial Kalimantan Tengah"),
                       private_key, algorithm="RS256", headers={"kid": "realm-key-1"})
    assert verifier.read(token) == auth.Identity("Dinas Sosial Kalimantan Tengah", "province", "admin", ("62",))
    # the realm's key does not sign for the setiakawan issuer, nor ours for the realm
    refused(verifier, jwt.encode(_claims(), private_key, algorithm="RS256", headers={"kid": "realm-key-1"}))
    refused(verifier, auth.issue_token(key, "a", "ngo", "viewer", ["62"], issuer=realm))
    assert verifier.read(auth.issue_token(key, "a", "ngo", "viewer", ["62"])).agency == "a"


def test_token_claims_are_checked(issuer, verifier):
    _, key = issuer
    bad = jwt.encode(_claims(role="king"), key.private_key, algorithm="EdDSA", headers={"kid": key.kid})
    refused(verifier, bad, "kind, role and regions")
    with pytest.raises(ValueError):
        auth.issue_token(key, "a", "ngo", "viewer", ["62.13.1"])
    with pytest.raises(ValueError):
        auth.issue_token(key, "a", "guild", "viewer", ["62"])


@pytest.mark.parametrize("agency", ["", "  ", "Dinas\x00Sosial", 7])
def test_a_token_must_name_an_agency_every_service_can_store(issuer, verifier, agency):
    _, key = issuer
    token = jwt.encode(_claims(agency=agency), key.private_key, algorithm="EdDSA", headers={"kid": key.kid})
    refused(verifier, token, "agency")
    with pytest.raises((ValueError, TypeError)):
        auth.issue_token(key, agency, "ngo", "viewer", ["62"])


def test_the_issuers_setting_needs_at_least_one_jwks():
    for value in (None, "", {}, {"setiakawan": ""}, ["a"]):
        with pytest.raises(ValueError):
            auth.issuers_setting(value)
    assert auth.issuers_setting(" /etc/setiakawan/jwks.json ") == {"setiakawan": "/etc/setiakawan/jwks.json"}


def test_a_token_may_not_live_longer_than_the_limit(issuer, verifier):
    _, key = issuer
    refused(verifier, auth.issue_token(key, "a", "ngo", "viewer", ["62"], ttl=timedelta(days=365)), "longer")
    assert verifier.read(auth.issue_token(key, "a", "ngo", "viewer", ["62"], ttl=timedelta(days=30))).agency == "a"


def test_an_agencys_own_issuer_asserts_only_what_its_policy_allows(issuer, tmp_path):
    """An NGO's identity provider speaks for the NGO's staff in its regions,
    never for the province."""
    files, _ = issuer
    ngo_files = keys.KeyFiles(tmp_path / "ngo")
    ngo_key, _ = ngo_files.init()
    realm = "https://sso.wahanavisi.example/realms/staff"
    verifier = auth.TokenVerifier(auth.issuers_setting({
        "setiakawan": str(files.jwks),
        realm: {"jwks": str(ngo_files.jwks), "kinds": ["ngo"], "roles": ["operator", "viewer"],
                "regions": ["62.13"], "agencies": ["Wahana Visi Indonesia"]}}))

    def ngo_token(**claims):
        return jwt.encode(_claims(iss=realm, **claims), ngo_key.private_key, algorithm="EdDSA",
                          headers={"kid": ngo_key.kid})

    allowed = dict(agency="Wahana Visi Indonesia", kind="ngo", role="operator", regions=["62.13.01"])
    assert verifier.read(ngo_token(**allowed)) == auth.Identity("Wahana Visi Indonesia", "ngo", "operator",
                                                                ("62.13.01",))
    for change in ({"kind": "province"}, {"role": "admin"}, {"regions": ["62"]}, {"regions": ["62.13", "62.11"]},
                   {"agency": "Dinas Sosial Kalimantan Tengah"}):
        refused(verifier, ngo_token(**dict(allowed, **change)), "may not assert")


def test_a_jwks_url_must_be_https_unless_on_this_host():
    with pytest.raises(ValueError, match="https"):
        auth.issuers_setting({"sso": "http://sso.example/certs"})
    with pytest.raises(ValueError, match="https"):
        auth.issuers_setting({"sso": {"jwks": "http://sso.example/certs", "kinds": ["ngo"]}})
    assert auth.issuers_setting({"sso": "http://127.0.0.1:8080/certs"})
    with pytest.raises(ValueError):
        auth.issuers_setting({"sso": {"jwks": "/x", "regions": ["sixty-two"]}})
    with pytest.raises(ValueError):
        auth.issuers_setting({"sso": {"jwks": "/x", "roles": "admin"}})


def test_a_verified_token_is_not_checked_again_until_it_expires(issuer, verifier, monkeypatch):
    _, key = issuer
    token = auth.issue_token(key, "Dinsos Balangan", "district", "operator", ["63.11"], ttl=timedelta(minutes=5))
    checks = []
    decode = auth.jwt.decode
    monkeypatch.setattr(auth.jwt, "decode", lambda *a, **kw: checks.append(kw) or decode(*a, **kw))
    identity = verifier.read(token)
    signed = [kw for kw in checks if kw.get("algorithms")]
    assert len(signed) == 1
    assert verifier.read(token) == identity and len(checks) == 2  # the second read decoded nothing
    later = time.time() + 5 * 60 + 31  # past its expiry and the leeway
    monkeypatch.setattr(auth.time, "time", lambda: later)
    verifier.read(token)  # jwt's own clock still finds it valid; what counts is that it was checked again
    assert len([kw for kw in checks if kw.get("algorithms")]) == 2
