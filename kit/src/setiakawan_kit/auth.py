"""Identity and scope. Every agency request carries a JWT signed by a
trusted issuer with its private key (EdDSA, or RS256/ES256 from an OpenID
Connect provider such as Keycloak); services hold only public keys, read
from each issuer's JWKS document (a file or a URL), so no service can mint
a token. The token names the agency, its kind, its role and the Kemendagri
region codes it covers; a region covers every code below it (``62.13``
covers ``62.13.01.2003``)."""
import logging
import re
import time
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jwt
from setiakawan_contract.envelope import AGENCY_KINDS

from .problems import Problem, forbidden, unauthorized

log = logging.getLogger(__name__)

DEFAULT_ISSUER = "setiakawan"
DEFAULT_AUDIENCE = "setiakawan"
#: a token lives at most this long (a key's retirement is the only other way to end it)
MAX_TOKEN_HOURS = 720
#: asymmetric only: an HS256 token "signed" with a public key, or alg none, is refused
ALGORITHMS = ("EdDSA", "RS256", "ES256")
KINDS = AGENCY_KINDS  # the contract names them: events carry the kind (ce-agencykind)
ROLES = ("admin", "operator", "field_officer", "viewer")
REGION_CODE = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")


@dataclass(frozen=True)
class Identity:
    agency: str
    kind: str
    role: str
    regions: tuple

    def covers(self, region_code):
        return within(str(region_code or ""), self.regions)


def within(code, regions):
    """Whether a Kemendagri code lies in one of ``regions`` (a region covers
    every code below it: ``62.13`` covers ``62.13.01.2003``, not ``62.1``'s)."""
    return any(code == r or code.startswith(r + ".") for r in regions)


def region_patterns(regions):
    """SQL ``LIKE`` patterns of the codes ``regions`` cover (``code LIKE ANY(…)``)."""
    return [p for r in regions for p in (r, r + ".%")]


def check_region_code(code):
    if not REGION_CODE.match(code or ""):
        raise ValueError(f"{code!r} is not a Kemendagri region code (like 62, 62.13, 62.13.01 or 62.13.01.2003)")
    return code


def issue_token(signing_key, agency, kind, role, regions, ttl=timedelta(hours=12), now=None,
                issuer=DEFAULT_ISSUER, audience=DEFAULT_AUDIENCE):
    """A token signed with ``signing_key`` (``keys.SigningKey``)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    regions = [check_region_code(r) for r in regions]
    if not _agency_name(agency) or not regions:
        raise ValueError("a token needs an agency (text without NUL) and at least one region")
    now = now or datetime.now(timezone.utc)
    claims = {"iss": issuer, "aud": audience, "sub": agency, "kind": kind, "role": role, "regions": regions,
              "iat": now, "exp": now + ttl}
    return jwt.encode(claims, signing_key.private_key, algorithm=signing_key.algorithm,
                      headers={"kid": signing_key.kid})


class KeySet:
    """The public keys of one issuer, from a JWKS file (read again when it
    changes, so a rotation needs no restart) or URL (cached, fetched again
    for a key id it does not know)."""

    FILE_CHECK_SECONDS = 1.0

    def __init__(self, location):
        self.location = str(location)
        self._is_url = self.location.startswith(("https://", "http://"))
        if self._is_url:
            _check_jwks_url(self.location)
            # a token with an unknown key id fetches the JWKS again at most once in 30 s
            self._client = jwt.PyJWKClient(self.location, cache_jwk_set=True, lifespan=300, timeout=5,
                                           cooldown_duration=30)
        else:
            self._path = Path(self.location)
            self._keys, self._stamp, self._checked = {}, None, 0.0

    def key(self, kid):
        """The key with id ``kid``, or None."""
        if self._is_url:
            try:
                return self._client.get_signing_key(kid)
            except jwt.PyJWKClientConnectionError as exc:
                log.warning("JWKS of %s unreachable: %s", self.location, exc)
                raise Problem(503, "Service unavailable", "The token issuer's keys cannot be fetched now.",
                              kind="issuer-unavailable") from None
            except jwt.PyJWKClientError:
                return None
        self._reload_file()
        return self._keys.get(kid)

    def _reload_file(self):
        now = time.monotonic()
        if now - self._checked < self.FILE_CHECK_SECONDS and self._stamp is not None:
            return
        self._checked = now
        try:
            stat = self._path.stat()
        except OSError as exc:
            log.error("JWKS file %s unreadable: %s", self._path, exc)
            self._keys, self._stamp = {}, None
            return
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if stamp == self._stamp:
            return
        try:
            key_set = jwt.PyJWKSet.from_json(self._path.read_text())
        except (OSError, ValueError, jwt.PyJWKSetError) as exc:
            log.error("JWKS file %s unusable: %s", self._path, exc)
            self._keys, self._stamp = {}, None
            return
        self._keys = {k.key_id: k for k in key_set.keys if k.key_id}
        self._stamp = stamp


def _check_jwks_url(url):
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"a JWKS URL must be https (anyone on the way could swap the keys): {url}")


@dataclass(frozen=True)
class IssuerPolicy:
    """What one issuer may assert. An agency's own identity provider is
    trusted for its own staff, not to speak for the province: each limit
    left empty is no limit."""

    kinds: tuple = ()
    roles: tuple = ()
    regions: tuple = ()  # every region of a token must lie within one of these
    agencies: tuple = ()

    def check(self, identity, issuer):
        outside = []
        if self.kinds and identity.kind not in self.kinds:
            outside.append(f"kind {identity.kind!r}")
        if self.roles and identity.role not in self.roles:
            outside.append(f"role {identity.role!r}")
        if self.agencies and identity.agency not in self.agencies:
            outside.append(f"agency {identity.agency!r}")
        if self.regions:
            bounds = Identity("", "", "", self.regions)
            outside.extend(f"region {r}" for r in identity.regions if not bounds.covers(r))
        if outside:
            raise unauthorized(f"Issuer {issuer!r} may not assert {', '.join(outside)}.")


class TokenVerifier:
    """Checks tokens against the trusted issuers' public keys, and what each
    issuer may assert."""

    #: tokens whose signature was checked, remembered (an agency system sends the same token for hours)
    VERIFIED_CACHE_SIZE = 4096

    def __init__(self, issuers, audience=DEFAULT_AUDIENCE, max_hours=MAX_TOKEN_HOURS):
        if not issuers:
            raise ValueError("at least one trusted token issuer is needed")
        self.issuers, self.policies = {}, {}
        for issuer, trusted in issuers.items():
            if isinstance(trusted, dict):
                self.issuers[issuer] = KeySet(trusted["jwks"])
                self.policies[issuer] = IssuerPolicy(**{k: tuple(trusted.get(k) or ()) for k in POLICY_KEYS})
            else:
                self.issuers[issuer] = trusted if isinstance(trusted, KeySet) else KeySet(trusted)
                self.policies[issuer] = IssuerPolicy()
        self.audience = audience
        self.max_seconds = float(max_hours) * 3600
        self._verified = {}  # token: (identity, exp, issuer, kid, key): see read

    @classmethod
    def from_config(cls, config):
        """``TOKEN_ISSUERS``: a mapping of issuer (the ``iss`` claim) to the
        path or URL of its JWKS, or to ``{jwks: …, kinds: […], roles: […],
        regions: […], agencies: […]}`` limiting what it may assert; or one
        path/URL for the issuer ``setiakawan``. ``TOKEN_AUDIENCE``: the
        ``aud`` every token must carry; ``TOKEN_MAX_HOURS``: the longest a
        token may live."""
        return cls(issuers_setting(config.get("TOKEN_ISSUERS")),
                   config.get("TOKEN_AUDIENCE") or DEFAULT_AUDIENCE,
                   config.get("TOKEN_MAX_HOURS") or MAX_TOKEN_HOURS)

    def read(self, token):
        """The identity in a token; a Problem 401 when it is missing or bad.
        A token verified before is not verified again (an Ed25519 check costs
        more than the rest of a small request) while it has not expired and
        its issuer still holds the same key under its key id: a retired or
        rotated key ends it as it would a token never seen."""
        if not token:
            raise unauthorized("A bearer token is required (Authorization: Bearer <token>).")
        seen = self._verified.get(token)
        if seen is not None:
            identity, expires, issuer, kid, key = seen
            if time.time() < expires + 30 and self.issuers[issuer].key(kid) is key:
                return identity
            del self._verified[token]
        identity, claims, issuer, kid, key = self._verify(token)
        if len(self._verified) >= self.VERIFIED_CACHE_SIZE:
            del self._verified[next(iter(self._verified))]  # the oldest
        self._verified[token] = (identity, claims["exp"], issuer, kid, key)
        return identity

    def _verify(self, token):
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError as exc:
            raise unauthorized(f"The token is not valid: {exc}.") from None
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise unauthorized(f"Tokens signed with {algorithm!r} are not accepted; "
                               f"only {', '.join(ALGORITHMS)}.")
        issuer = unverified.get("iss")
        key_set = self.issuers.get(issuer) if isinstance(issuer, str) else None
        if key_set is None:
            raise unauthorized(f"The token's issuer {issuer!r} is not trusted.")
        key = key_set.key(header.get("kid"))
        if key is None:
            raise unauthorized(f"The token's key {header.get('kid')!r} is not among the issuer's keys.")
        if key.algorithm_name != algorithm:
            raise unauthorized("The token's algorithm does not match its key.")
        try:
            claims = jwt.decode(token, key.key, algorithms=[algorithm], issuer=issuer, audience=self.audience,
                                options={"require": ["exp", "iat", "iss", "aud", "sub"]}, leeway=30)
        except jwt.ExpiredSignatureError:
            raise unauthorized("The token has expired.") from None
        except jwt.InvalidTokenError as exc:
            raise unauthorized(f"The token is not valid: {exc}.") from None
        if not isinstance(claims["iat"], (int, float)) or claims["exp"] - claims["iat"] > self.max_seconds:
            raise unauthorized(f"The token lives longer than {self.max_seconds / 3600:g} hours.")
        identity = identity_from_claims(claims)
        self.policies[issuer].check(identity, issuer)
        return identity, claims, issuer, header.get("kid"), key


POLICY_KEYS = ("kinds", "roles", "regions", "agencies")


def issuers_setting(value):
    """The ``TOKEN_ISSUERS`` setting as {issuer: JWKS location or policy
    mapping}; ValueError when it names none or names one badly."""
    if isinstance(value, str) and value.strip():
        value = {DEFAULT_ISSUER: value.strip()}
    if not isinstance(value, dict) or not value:
        raise ValueError("TOKEN_ISSUERS must name the JWKS (path or URL) of at least one trusted issuer")
    issuers = {}
    for issuer, trusted in value.items():
        if isinstance(trusted, str) and trusted.strip():
            issuers[issuer] = trusted.strip()
        elif isinstance(trusted, dict) and isinstance(trusted.get("jwks"), str) and trusted["jwks"].strip() \
                and set(trusted) <= {"jwks", *POLICY_KEYS} \
                and all(isinstance(trusted.get(k) or [], list) for k in POLICY_KEYS):
            if any(not isinstance(r, str) or not REGION_CODE.match(r) for r in trusted.get("regions") or []):
                raise ValueError(f"TOKEN_ISSUERS: the regions of issuer {issuer!r} are not Kemendagri codes")
            issuers[issuer] = dict(trusted, jwks=trusted["jwks"].strip())
        else:
            raise ValueError(f"TOKEN_ISSUERS: issuer {issuer!r} needs a JWKS path or URL, or "
                             f"{{jwks: ..., {', '.join(k + ': [...]' for k in POLICY_KEYS)}}}")
        location = issuers[issuer] if isinstance(issuers[issuer], str) else issuers[issuer]["jwks"]
        if location.startswith(("https://", "http://")):
            _check_jwks_url(location)
    return issuers


def jwks_locations(issuers):
    return {issuer: trusted if isinstance(trusted, str) else trusted["jwks"] for issuer, trusted in issuers.items()}


def identity_from_claims(claims):
    regions = claims.get("regions")
    if (claims.get("kind") not in KINDS or claims.get("role") not in ROLES
            or not isinstance(regions, list) or not regions
            or not all(isinstance(r, str) and REGION_CODE.match(r) for r in regions)):
        raise unauthorized("The token does not name a valid kind, role and regions.")
    agency = claims.get("agency", claims.get("sub"))  # an OIDC provider's sub is a user: it may name the agency apart
    if not _agency_name(agency):
        raise unauthorized("The token does not name an agency.")
    return Identity(agency=agency, kind=claims["kind"], role=claims["role"], regions=tuple(regions))


def _agency_name(agency):
    """An agency's name as every service stores it (PostgreSQL text holds no NUL)."""
    return isinstance(agency, str) and bool(agency.strip()) and "\x00" not in agency


def bearer(authorization_header):
    if not authorization_header:
        return None
    scheme, _, token = authorization_header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def require_role(identity, *roles):
    if identity.role not in roles:
        raise forbidden(f"Role {identity.role!r} may not do this; it needs one of: {', '.join(roles)}.")


def require_region(identity, region_code):
    if not identity.covers(region_code):
        raise forbidden(f"Region {region_code} is outside the regions of agency {identity.agency!r}.")
