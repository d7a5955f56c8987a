"""The forms in which Indonesian offices write values, read into the
registry's canonical ones, by the same rules for the HTTP API and the import:
dates ``DD-MM-YYYY`` and ``DD/MM/YYYY`` besides ISO, sex ``L``/``P`` and
``Laki-laki``/``Perempuan``, relationships in Bahasa Indonesia, village codes
with or without dots. What is stored stays canonical."""
import re
from datetime import date

from . import households as hh

DATE_FORMS = "YYYY-MM-DD, DD-MM-YYYY or DD/MM/YYYY"
_DAY_FIRST = re.compile(r"(\d{1,2})([-/])(\d{1,2})\2(\d{4})")

SEX_FORMS = {"m": "M", "f": "F", "l": "M", "p": "F", "laki-laki": "M", "laki laki": "M", "lakilaki": "M",
             "pria": "M", "perempuan": "F", "wanita": "F"}

# The relationships of a Kartu Keluarga (SHDK), as DTKS exports and village
# offices write them, to the registry's own.
RELATIONSHIP_FORMS = {
    **{r: r for r in hh.RELATIONSHIPS},
    "kepala keluarga": "head", "kepala rumah tangga": "head", "kk": "head",
    "suami": "spouse", "istri": "spouse", "isteri": "spouse", "suami/istri": "spouse",
    "anak": "child", "anak kandung": "child", "anak angkat": "child", "anak tiri": "child",
    "menantu": "in_law", "mertua": "in_law",
    "cucu": "grandchild",
    "orang tua": "parent", "orangtua": "parent", "ayah": "parent", "ibu": "parent",
    "saudara": "sibling", "saudara kandung": "sibling",
    "famili lain": "other", "lainnya": "other", "pembantu": "other", "famili": "other",
}

_SPACES = re.compile(r"\s+")
_VILLAGE_DIGITS = re.compile(r"\d{10}")


def key(text):
    """A written value as forms and mappings compare it: lower case, single spaces."""
    return _SPACES.sub(" ", str(text).strip().lower())


def read_date(text):
    """A date written ISO, ``DD-MM-YYYY`` or ``DD/MM/YYYY``; ValueError if none."""
    value = text.strip()
    day_first = _DAY_FIRST.fullmatch(value)
    try:
        if day_first:
            return date(int(day_first.group(4)), int(day_first.group(3)), int(day_first.group(1)))
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is not a date ({DATE_FORMS}).") from None


def read_sex(text):
    """M or F from any written form, or None."""
    return SEX_FORMS.get(key(text))


def read_relationship(text):
    """The registry's relationship for an English or Indonesian one, or None."""
    return RELATIONSHIP_FORMS.get(key(text))


def read_village_code(text):
    """``6213012003`` as ``62.13.01.2003``; a dotted code as it is."""
    value = text.strip()
    if _VILLAGE_DIGITS.fullmatch(value):
        return f"{value[0:2]}.{value[2:4]}.{value[4:6]}.{value[6:10]}"
    return value
