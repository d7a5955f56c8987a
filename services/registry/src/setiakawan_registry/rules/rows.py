"""Rows of a bulk import: one CSV row per member, with the household's
columns repeated on each member's row. Each row is checked by the same
rules as the HTTP API (identity, regions, welfare, households); this module
is their fast path for a million rows, written without marshmallow."""
import csv
from datetime import date
from typing import NamedTuple

from . import households as hh
from . import calendar, forms, identity, regions, welfare

COLUMNS = ("kk_number", "street", "rt", "rw", "village_code", "monthly_income", "floor", "wall", "roof",
           "electricity", "water", "sanitation", "assets", "legal_basis", "consent_date", "consent_recorded_by",
           "nik", "name", "birth_date", "sex", "relationship", "disability", "occupation", "education", "phone")
HOUSEHOLD_COLUMNS = COLUMNS[:16]
MAX_FIELD = 300
IDENTITY_ORDER = list(range(len(COLUMNS)))
SEXES = {"M": "M", "F": "F", "L": "M", "P": "F"}  # the forms the C scanner takes; forms.read_sex reads all


_CONTROL = str.maketrans({"\t": " ", "\r": " ", "\n": " "})


def _clean(text):
    """Free text with tabs and line breaks made spaces."""
    return text.translate(_CONTROL).strip()


class RowError(ValueError):
    """Every problem of a row, each ``column: what is wrong``, joined by
    ``PROBLEM_SEPARATOR``."""


PROBLEM_SEPARATOR = " | "


class HeaderError(ValueError):
    pass


DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs"}


def detect_delimiter(header_line):
    """The delimiter that splits a header line into the most columns (the
    comma where none splits it more). Excel in the Indonesian locale saves
    CSV with semicolons, since the comma is the decimal mark there."""
    best, most = ",", 1
    for delimiter in DELIMITERS:
        try:
            columns = len(next(csv.reader([header_line], delimiter=delimiter), []))
        except csv.Error:  # not a line the csv module reads (a lone CR): reading it says why
            continue
        if columns > most:
            best, most = delimiter, columns
    return best


def column_order(header, delimiter=","):
    """Positions of our columns in the file's header row (read with ``delimiter``)."""
    if len(header) == 1:
        others = [name for d, name in DELIMITERS.items() if d != delimiter and d in header[0]]
        hint = f" Is the file separated by {others[0]}?" if others else \
            f" Separate the columns with {', '.join(DELIMITERS.values())}."
        raise HeaderError(f"Read 1 column from the header ({header[0].strip()[:60]!r}).{hint}")
    names = [h.strip().lower() for h in header]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise HeaderError(f"The header lacks the columns: {', '.join(missing)}.")
    extra = [n for n in names if n not in COLUMNS]
    if extra:
        raise HeaderError(f"The header has unknown columns: {', '.join(extra)}.")
    if len(set(names)) != len(names):
        raise HeaderError("The header names a column twice.")
    return [names.index(c) for c in COLUMNS]


class Household(NamedTuple):
    kk_number: str
    street: str
    rt: str
    rw: str
    village_code: str
    indicators: tuple   # monthly_income, floor, wall, roof, electricity, water, sanitation, assets
    legal_basis: str
    consent_date: str
    consent_recorded_by: str


class Member(NamedTuple):
    line: int
    nik: str
    name: str
    name_norm: str
    birth_date: date
    sex: str
    relationship: str
    disability: str
    occupation: str
    education: str
    phone: str


class RowValidator:
    def __init__(self, today=None):
        self.today = today or calendar.today()
        self.oldest = hh.oldest_birth_date(self.today)
        self._last = (None, None)  # a household's rows repeat its columns: check them once
        # A million rows hold a few tens of thousands of distinct NIK region and
        # date parts, birth dates and names: each is worked out once.
        self._nik_parts = {}
        self._kk_parts = set()
        self._assets = {}
        self._names = {}

    def household(self, f):
        """The row's household; RowError naming every problem of its columns."""
        problems = []
        kk, street, rt, rw, village = f[0], _clean(f[1]), f[2].strip(), f[3].strip(), forms.read_village_code(f[4])
        if kk[:12] not in self._kk_parts or len(kk) != 16 or not kk.isdigit() or not kk.isascii():
            try:
                identity.check_kk(kk, today=self.today)
                self._kk_parts.add(kk[:12])
            except identity.InvalidIdentity as exc:
                problems.append(f"kk_number: {exc.message}")
        if regions.village(village) is None:
            problems.append(f"village_code: {village} is not a village on the Kemendagri list.")
        if not (rt.isdigit() or rt == "") or len(rt) > 3 or not (rw.isdigit() or rw == "") or len(rw) > 3:
            problems.append("rt/rw: up to 3 digits each.")
        try:
            income = int(f[5])
            if not 0 <= income <= hh.INCOME_MAX:
                problems.append(f"monthly_income: must be between 0 and {hh.INCOME_MAX}.")
        except ValueError:
            problems.append(f"monthly_income: {f[5]!r} is not a whole number of Rupiah.")
        if len(street) > hh.STREET_MAX:
            problems.append(f"street: longer than {hh.STREET_MAX} characters.")
        for i, name in ((6, "floor"), (7, "wall"), (8, "roof"), (9, "electricity"), (10, "water"),
                        (11, "sanitation")):
            if f[i] not in welfare.CHOICES[name]:
                problems.append(f"{name}: {f[i]!r} is not one of {', '.join(welfare.CHOICES[name])}.")
        assets = self._assets.get(f[12])
        if assets is None:
            assets = tuple(sorted({a.strip() for a in f[12].split(";") if a.strip()}))
            unknown = [a for a in assets if a not in welfare.ASSETS]
            if unknown:
                problems.append(f"assets: {unknown[0]!r} is not one of {', '.join(welfare.ASSETS)}.")
            else:
                self._assets[f[12]] = assets
        legal_basis, consent_date, recorded_by = f[13], f[14].strip(), _clean(f[15])
        if len(recorded_by) > hh.RECORDED_BY_MAX:
            problems.append(f"consent_recorded_by: longer than {hh.RECORDED_BY_MAX} characters.")
        if legal_basis not in hh.LEGAL_BASES:
            problems.append(f"legal_basis: {legal_basis!r} is not one of {', '.join(hh.LEGAL_BASES)}.")
        # a consent date is checked whatever the legal basis (the column is a date, as in the API),
        # and kept in one form: Python reads ISO forms (20240105, 2024-W01-5) that PostgreSQL does not
        consent = None
        if consent_date or legal_basis == "consent":
            try:
                consent = self._date(consent_date, "consent_date")
            except RowError as exc:
                problems.append(str(exc))
        if legal_basis == "consent" and consent is not None:
            try:
                hh.check_legal_basis(legal_basis, consent, recorded_by, self.today)
            except hh.RuleViolation as exc:
                problems.append(f"{exc.field}: {exc}")
        if problems:
            raise RowError(PROBLEM_SEPARATOR.join(problems))
        return Household(kk, street, rt, rw, village, (income, f[6], f[7], f[8], f[9], f[10], f[11], assets),
                         legal_basis, consent.isoformat() if consent else "", recorded_by)

    def _nik(self, value):
        """(birth date, its ISO text, sex) that a NIK encodes; parsed once per
        region-and-date part (the serial part is checked every time)."""
        encoded = self._nik_parts.get(value[:12]) if len(value) == 16 and value[12:] != "0000" else None
        if encoded is None:
            try:
                nik = identity.parse_nik(value, self.today)
            except identity.InvalidIdentity as exc:
                raise RowError(f"nik: {exc.message}") from None
            encoded = self._nik_parts[value[:12]] = (nik.birth_date, nik.birth_date.isoformat(), nik.sex)
        elif not value.isdigit() or not value.isascii():
            raise RowError("nik: A NIK has exactly 16 digits.")
        return encoded

    def _name(self, value):
        known = self._names.get(value)
        if known is None:
            name = _clean(value)
            if not name or len(name) > hh.NAME_MAX:
                raise RowError(f"name: missing or longer than {hh.NAME_MAX} characters.")
            if len(self._names) > 500_000:
                self._names.clear()
            known = self._names[value] = (name, identity.normalize_name(name))
        return known

    def member(self, line, f):
        """The row's member; RowError naming every problem of its columns."""
        problems = []
        try:
            nik_born, nik_born_text, nik_sex = self._nik(f[16])
        except RowError as exc:
            problems.append(str(exc))
            nik_born = nik_born_text = nik_sex = None
        try:
            name, name_norm = self._name(f[17])
        except RowError as exc:
            problems.append(str(exc))
        if len(f[22].strip()) > hh.OCCUPATION_MAX:
            problems.append(f"occupation: longer than {hh.OCCUPATION_MAX} characters.")
        sex = SEXES.get(f[19]) or forms.read_sex(f[19])
        if nik_born_text is not None and f[18] == nik_born_text and sex == nik_sex:
            born = nik_born
        else:
            born = None
            try:
                born = self._date(f[18], "birth_date")
                if born < self.oldest:
                    problems.append(f"birth_date: {f[18].strip()} is more than 130 years ago.")
            except RowError as exc:
                problems.append(str(exc))
            if sex is None:
                problems.append(f"sex: {f[19]!r} is not M or F (L or P, Laki-laki or Perempuan).")
            if nik_born is not None:
                try:
                    identity.check_nik_matches(identity.Nik(f[16], "", nik_born, nik_sex), born, sex)
                except identity.InvalidIdentity as exc:
                    problems.append(f"{exc.field}: {exc.message}")
        relationship, disability, education = f[20], f[21] or "none", f[23]
        if relationship not in hh.RELATIONSHIPS:
            relationship = forms.read_relationship(f[20])
            if relationship is None:
                problems.append(f"relationship: {f[20]!r} is not one of {', '.join(hh.RELATIONSHIPS)} "
                                f"(or its Indonesian name: Kepala Keluarga, Istri, Anak, …).")
        if disability not in hh.DISABILITIES:
            problems.append(f"disability: {disability!r} is not one of {', '.join(hh.DISABILITIES)}.")
        if education not in hh.EDUCATION:
            problems.append(f"education: {education!r} is not one of {', '.join(e for e in hh.EDUCATION if e)}.")
        phone = f[24].strip()
        if phone:
            try:
                phone = identity.normalize_phone(phone)
            except identity.InvalidIdentity as exc:
                problems.append(f"phone: {exc.message}")
        if problems:
            raise RowError(PROBLEM_SEPARATOR.join(problems))
        return Member(line, f[16], name, name_norm, born, sex, relationship,
                      disability, _clean(f[22]), education, phone)

    def row(self, line, fields, order, length=None):
        """The row's household and member; ``length``, the length of the row's
        text if the caller knows it, spares measuring every value."""
        if len(fields) != len(order):
            raise RowError(f"expected {len(order)} columns, found {len(fields)}.")
        f = fields if order is IDENTITY_ORDER or order == IDENTITY_ORDER else [fields[i] for i in order]
        if (length is None or length > MAX_FIELD) and max(map(len, f)) > MAX_FIELD:
            raise RowError(f"a value is longer than {MAX_FIELD} characters.")
        if any("\x00" in value for value in f):  # PostgreSQL stores no NUL in text, as the API says too
            raise RowError("a value contains the NUL character (\\u0000).")
        columns = f[:16]
        problems = []
        if columns == self._last[0]:
            household = self._last[1]
        else:
            try:
                household = self.household(f)
                self._last = (columns, household)
            except RowError as exc:
                problems.append(str(exc))
        try:
            member = self.member(line, f)
        except RowError as exc:
            problems.append(str(exc))
        if problems:
            raise RowError(PROBLEM_SEPARATOR.join(problems))
        return household, member

    def _date(self, value, name):
        try:
            parsed = forms.read_date(value)
        except ValueError as exc:
            raise RowError(f"{name}: {exc}") from None
        if parsed > self.today:
            raise RowError(f"{name}: {value} is in the future.")
        return parsed


def household_problem(household_rows):
    """Why a household (all its rows valid) cannot be imported, or None."""
    first = household_rows[0][0]
    for household, member in household_rows[1:]:
        if household != first:
            return f"household columns differ from line {household_rows[0][1].line} of the same KK number."
    heads = sum(1 for _, m in household_rows if m.relationship == "head")
    if heads != 1:
        return f"the household needs exactly one head; these rows give it {heads}."
    if len(household_rows) > hh.MAX_MEMBERS:
        return f"more than {hh.MAX_MEMBERS} members under one KK number."
    return None
