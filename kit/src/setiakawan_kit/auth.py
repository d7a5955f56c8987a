"""Identity and scope. Every agency request carries a JWT (HS256, PyJWT)
naming the agency, its kind, its role and the Kemendagri region codes it
covers; a region covers every code below it (``62.13`` covers
``62.13.01.2003``)."""
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt

from .problems import forbidden, unauthorized

ISSUER = "setiakawan"
ALGORITHM = "HS256"
KINDS = ("province", "district", "village", "ngo", "csr")
ROLES = ("admin", "operator", "field_officer", "viewer")
REGION_CODE = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")


@dataclass(frozen=True)
class Identity:
    agency: str
    kind: str
    role: str
    regions: tuple

    def covers(self, region_code):
        code = str(region_code or "")
        return any(code == r or code.startswith(r + ".") for r in self.regions)


def check_region_code(code):
    if not REGION_CODE.match(code or ""):
        raise ValueError(f"{code!r} is not a Kemendagri region code (like 62, 62.13, 62.13.01 or 62.13.01.2003)")
    return code


def issue_token(secret, agency, kind, role, regions, ttl=timedelta(hours=12), now=None):
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    regions = [check_region_code(r) for r in regions]
    if not _agency_name(agency) or not regions:
        raise ValueError("a token needs an agency (text without NUL) and at least one region")
    now = now or datetime.now(timezone.utc)
    claims = {"iss": ISSUER, "sub": agency, "kind": kind, "role": role, "regions": regions,
              "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(secret, token):
    """The identity in a token; a Problem 401 when it is missing or bad."""
    if not token:
        raise unauthorized("A bearer token is required (Authorization: Bearer <token>).")
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["exp", "iat", "sub", "iss"]}, leeway=30)
    except jwt.ExpiredSignatureError:
        raise unauthorized("The token has expired.") from None
    except jwt.InvalidTokenError as exc:
        raise unauthorized(f"The token is not valid: {exc}.") from None
    regions = claims.get("regions")
    if (claims.get("kind") not in KINDS or claims.get("role") not in ROLES
            or not isinstance(regions, list) or not regions
            or not all(isinstance(r, str) and REGION_CODE.match(r) for r in regions)):
        raise unauthorized("The token does not name a valid kind, role and regions.")
    if not _agency_name(claims["sub"]):
        raise unauthorized("The token does not name an agency.")
    return Identity(agency=claims["sub"], kind=claims["kind"], role=claims["role"], regions=tuple(regions))


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
