"""Who sees personal data in clear: the disclosure policy, and the masked
form everyone else sees.

Agencies that do not control each other share one registry (issue 14): a
village office needs its residents' NIKs to serve them, a company's CSR team
running a programme does not. The policy below is data, listed in the
README; a kind or role it does not name sees the masked form.

Masked: a NIK or KK number keeps its first 4 and last 4 digits
(``6213••••••••0012``), a name becomes its initials (``Siti Aminah`` →
``S. A.``), and the birth date and phone are withheld (null). Other free
text in what is shown (notes, reasons in history entries and import
rejections) goes through the log redaction, which masks sixteen-digit
numbers and phone numbers."""
import unicodedata

from setiakawan_kit.logs import redact

CLEAR = "clear"
MASKED = "masked"
LEVELS = (CLEAR, MASKED)

_OFFICE = {"admin": CLEAR, "operator": CLEAR, "field_officer": CLEAR, "viewer": MASKED}
_OUTSIDE = {"admin": MASKED, "operator": MASKED, "field_officer": MASKED, "viewer": MASKED}

#: kind of agency → role → disclosure level
POLICY = {
    "province": _OFFICE,   # Dinas Sosial Provinsi
    "district": _OFFICE,   # Dinas Sosial Kabupaten/Kota, kecamatan
    "village": _OFFICE,    # pemerintah desa/kelurahan
    "ngo": _OUTSIDE,
    "csr": _OUTSIDE,
}

BULLET = "\u2022"
NUMBER_FIELDS = ("nik", "kk_number")
NAME_FIELDS = ("name",)
WITHHELD_FIELDS = ("birth_date", "phone", "name_norm")  # name_norm: the name, lower case


def level(kind, role):
    """The disclosure level of an agency's kind and a role in it."""
    return POLICY.get(kind, {}).get(role, MASKED)


def mask_number(value):
    """``6213014107850003`` → ``6213••••••••0003``: the region part's first
    four digits and the last four, never the birth date part. A value
    shorter than 16 characters (a bad row of an import) shows nothing."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return text
    if len(text) < 16:
        return BULLET * 8
    return text[:4] + BULLET * 8 + text[-4:]


def initials(name):
    """``Siti Aminah`` → ``S. A.``: the first letter or digit of each word
    (with its accents), upper case; words without one are left out."""
    if name is None:
        return None
    out = []
    for word in unicodedata.normalize("NFC", str(name)).split():
        start = next((i for i, ch in enumerate(word) if ch.isalnum()), None)
        if start is None:
            continue
        end = start + 1
        while end < len(word) and unicodedata.combining(word[end]):
            end += 1
        letter = word[start:end]
        upper = letter.upper()
        out.append((upper if len(upper) == len(letter) else letter) + ".")
    return " ".join(out)


def _field(name, value):
    if name in NUMBER_FIELDS:
        return mask_number(value)
    if name in NAME_FIELDS:
        return initials(value)
    if name in WITHHELD_FIELDS:
        return None
    return value


def person(record, disclosure):
    """A member or a search result (a dict), as the level shows it."""
    if disclosure == CLEAR:
        return dict(record)
    return {k: _field(k, v) for k, v in record.items()}


def household(record, disclosure):
    """A household with its ``members``, as the level shows it."""
    if disclosure == CLEAR:
        return dict(record)
    out = {k: _field(k, v) for k, v in record.items() if k != "members"}
    if out.get("verification_notes"):
        out["verification_notes"] = redact(out["verification_notes"])
    if "members" in record:
        out["members"] = [person(m, disclosure) for m in record["members"]]
    return out


def history_entry(entry, disclosure):
    """A history entry: its ``changes`` can hold a member's name (or its
    change, ``[before, after]``), a phone, a KK number, and free text."""
    if disclosure == CLEAR:
        return dict(entry)
    personal = entry.get("entity") != "group"  # a group's name is no person's
    return dict(entry, changes=_changes(entry.get("changes"), personal))


def _changes(value, personal, key=None):
    if isinstance(value, dict):
        return {k: _changes(v, personal, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_changes(v, personal, key) for v in value]
    if personal and key in NUMBER_FIELDS + NAME_FIELDS + WITHHELD_FIELDS:
        return _field(key, value)
    if isinstance(value, str):
        return redact(value)
    return value


def import_row(columns, fields, disclosure):
    """A rejected row of an import (``fields`` named by ``columns``): in the
    masked form its NIK, KK number, name, birth date and phone are masked
    like a member's (withheld ones left empty); a row whose fields cannot be
    told apart (another number of columns than the header) shows none."""
    if disclosure == CLEAR:
        return list(fields)
    if len(fields) != len(columns):
        return [""] * len(fields)
    out = []
    for name, value in zip(columns, fields):
        masked = _field(name, value)
        out.append("" if masked is None else masked)
    return out


def reason(text, disclosure):
    """Free text shown with personal data (a rejection's reason)."""
    return text if disclosure == CLEAR else redact(text)
