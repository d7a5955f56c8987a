"""Column mappings: how an export's own headers and codes (a DTKS export, a
village survey, an NGO's sheet) become the registry's import columns.

A mapping names, for a header of the file, the registry column it holds
(``columns``), for a column, what a code of the file means (``values``:
``JENIS_KELAMIN`` 1 is M), and for a column the file lacks, the value every
row takes (``defaults``: ``legal_basis`` public_duty). Headers are matched
without regard to case or surrounding spaces; a header that already names a
registry column needs no entry; the file's other columns are left out. A
value the mapping does not list passes unchanged to the rules, which read
the usual Indonesian forms themselves (``rules.forms``)."""
from dataclasses import dataclass, field

from .forms import key as _key
from .rows import COLUMNS, HeaderError

#: columns a list must give, or a mapping must default; the others may be left empty
REQUIRED = ("kk_number", "village_code", "monthly_income", "floor", "wall", "roof", "electricity", "water",
            "sanitation", "legal_basis", "nik", "name", "birth_date", "sex", "relationship")


class MappingError(ValueError):
    """A mapping that cannot be one (unknown columns, values of the wrong kind)."""


@dataclass(frozen=True)
class Mapping:
    columns: dict = field(default_factory=dict)   # the file's header (lower case) -> registry column
    values: dict = field(default_factory=dict)    # registry column -> {the file's value (lower case) -> value}
    defaults: dict = field(default_factory=dict)  # registry column -> the value of every row

    def document(self):
        return {"columns": dict(self.columns), "values": {c: dict(v) for c, v in self.values.items()},
                "defaults": dict(self.defaults)}


def from_document(document):
    """A mapping from its JSON form ({"columns", "values", "defaults"}); MappingError if it is none."""
    if not isinstance(document, dict) or set(document) - {"columns", "values", "defaults"}:
        raise MappingError("A mapping is an object with columns, values and defaults.")
    columns, values, defaults = (document.get(k) or {} for k in ("columns", "values", "defaults"))
    if not all(isinstance(part, dict) for part in (columns, values, defaults)):
        raise MappingError("columns, values and defaults are objects.")
    unknown = sorted({c for c in [*columns.values(), *values, *defaults] if c not in COLUMNS})
    if unknown:
        raise MappingError(f"Not registry columns: {', '.join(map(str, unknown))}. The columns are: "
                           f"{', '.join(COLUMNS)}.")
    for column, codes in values.items():
        if not isinstance(codes, dict) or not all(isinstance(v, str) for v in codes.values()):
            raise MappingError(f"values.{column} maps the file's values to text.")
    if not all(isinstance(k, str) and k.strip() for k in columns) or not all(
            isinstance(v, str) for v in defaults.values()):
        raise MappingError("Headers are non-empty text and defaults are text.")
    return Mapping({_key(k): v for k, v in columns.items()},
                   {c: {_key(k): v for k, v in codes.items()} for c, codes in values.items()},
                   dict(defaults))


def from_spec(spec):
    """A mapping of headers from the command line: ``NIK=nik,NAMA=name,…``."""
    pairs = [part.split("=", 1) for part in spec.split(",") if part.strip()]
    if not pairs or any(len(p) != 2 or not p[0].strip() for p in pairs):
        raise MappingError("Write a mapping as HEADER=column pairs separated by commas, e.g. NIK=nik,NAMA=name.")
    return from_document({"columns": {h.strip(): c.strip() for h, c in pairs}})


def plan(mapping, header):
    """For each registry column, the position of the file's column that holds
    it (or None); HeaderError naming every required column left unmapped,
    before any row is read."""
    positions = {}
    for i, name in enumerate(header):
        key = _key(name)
        column = mapping.columns.get(key) or (key if key in COLUMNS else None)
        if column is not None and column not in positions:
            positions[column] = i
    missing = [c for c in REQUIRED if c not in positions and c not in mapping.defaults]
    if missing:
        raise HeaderError(f"No column of the file is mapped to: {', '.join(missing)}.")
    return [positions.get(c) for c in COLUMNS]


def convert(mapping, positions, record):
    """A record of the file as the registry's import row."""
    out = []
    for column, position in zip(COLUMNS, positions):
        if position is None:
            out.append(mapping.defaults.get(column, ""))
            continue
        value = record[position] if position < len(record) else ""
        codes = mapping.values.get(column)
        out.append(codes.get(_key(value), value) if codes else value)
    return out


#: The headers and codes of a DTKS (Data Terpadu Kesejahteraan Sosial) export as
#: district offices receive it; the README lists them.
DTKS = from_document({
    "columns": {"NO_KK": "kk_number", "NIK": "nik", "NAMA": "name", "TGL_LAHIR": "birth_date",
                "JENIS_KELAMIN": "sex", "HUB_KELUARGA": "relationship", "KODE_DESA": "village_code",
                "ALAMAT": "street", "RT": "rt", "RW": "rw", "PENGHASILAN": "monthly_income",
                "LANTAI": "floor", "DINDING": "wall", "ATAP": "roof", "PENERANGAN": "electricity",
                "AIR_MINUM": "water", "JAMBAN": "sanitation", "ASET": "assets", "PEKERJAAN": "occupation",
                "PENDIDIKAN": "education", "DISABILITAS": "disability", "NO_HP": "phone"},
    "values": {
        "sex": {"1": "M", "2": "F"},
        "relationship": {"1": "head", "2": "spouse", "3": "child", "4": "in_law", "5": "grandchild",
                         "6": "parent", "7": "other", "8": "other"},
        "floor": {"tanah": "earth", "bambu": "bamboo", "kayu": "wood", "papan": "wood", "semen": "cement",
                  "plester": "cement", "keramik": "ceramic", "ubin": "ceramic", "marmer": "ceramic"},
        "wall": {"bambu": "bamboo", "anyaman bambu": "bamboo", "kayu": "wood", "papan": "wood",
                 "tembok tanpa plester": "brick_unplastered", "tembok": "brick"},
        "roof": {"ijuk": "thatch", "rumbia": "thatch", "daun": "thatch", "seng": "zinc", "genteng": "tile",
                 "beton": "concrete"},
        "electricity": {"tidak ada": "none", "bukan pln": "shared", "listrik bersama": "shared",
                        "pln 450": "pln_450", "pln 900": "pln_900", "pln 1300": "pln_1300"},
        "water": {"sungai": "river", "sumur tak terlindung": "unprotected_well",
                  "sumur terlindung": "protected_well", "ledeng": "piped", "pam": "piped"},
        "sanitation": {"tidak ada": "none", "bersama": "shared", "umum": "shared", "sendiri": "private"},
        "education": {"tidak sekolah": "none", "d1": "diploma", "d2": "diploma", "d3": "diploma"},
        "disability": {"tidak ada": "none", "fisik": "physical", "sensorik": "sensory",
                       "intelektual": "intellectual", "mental": "mental", "ganda": "multiple"},
    },
    "defaults": {"legal_basis": "public_duty"},
})

BUILT_IN = {"dtks": DTKS}
