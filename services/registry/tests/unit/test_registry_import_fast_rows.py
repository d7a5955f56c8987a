"""The C fast path of an import chunk, held to the Python rules.

``ChunkBuilder(..., fast=True)`` lets ``_bulktext`` scan the lines and check
the common valid rows itself, handing every line it is not sure of to the
Python rules (``rules.rows``), which define what a row means. For the same
lines both paths must give the same Chunk byte for byte: households, COPY
text, offsets, rejects (with their reasons) and the row count.

The fuzz damages generated rows at the edges of those rules that a C
reimplementation could read differently: whitespace that Python's
``str.strip`` removes and C's ``isspace`` does not, digits that ``int()``
and ``str.isdigit`` take beyond 0-9, the ISO dates Python 3.11 reads,
fields at their length limits, CSV quoting, households split or repeated
within a chunk."""
import io
import random
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

import pytest

from setiakawan_registry import import_chunks
from setiakawan_registry.import_chunks import ChunkBuilder
from setiakawan_registry.rules import identity
from setiakawan_registry.rules.rows import COLUMNS, HOUSEHOLD_COLUMNS, SEXES, column_order
from demo.population import Population, spoil, villages, write_csv

pytestmark = pytest.mark.skipif(import_chunks.Writer is None, reason="setiakawan_registry._bulktext was not built")

TODAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 3, 4, 5, 678901, tzinfo=timezone.utc)
IMPORT_ID = "01a2102c-4b51-766f-a1fb-3d8a6686a149"
SETTINGS = {"welfare": {}}
IDENTITY = {"agency": 'Dinas Sosial "Kalteng"\\Pusat', "role": "operator", "regions": ["62", "63.03"]}


# -- running both paths ---------------------------------------------------------

def builder(fast):
    return ChunkBuilder(TODAY, SETTINGS, IDENTITY, IMPORT_ID, fast=fast)


def both_paths(lines, order, first_line=2):
    """(fast chunk, Python chunk, households the C scanner wrote), each from a fresh builder."""
    fast = builder(True)
    fast_chunk = fast.chunk(first_line, lines, order, now=NOW)
    return fast_chunk, builder(False).chunk(first_line, lines, order, now=NOW), fast.fast_households


def same(fast, slow):
    return (fast.rows == slow.rows and sorted(fast.rejects) == sorted(slow.rejects)
            and fast.households == slow.households and fast.blocks == slow.blocks and fast.offsets == slow.offsets)


def assert_same(fast, slow, context=""):
    """Field by field, the most telling first, so that a failure shows what differs."""
    assert fast.rows == slow.rows, context
    assert sorted(fast.rejects) == sorted(slow.rejects), context
    assert fast.households == slow.households, context
    for table, fast_block, slow_block in zip(("households", "members", "outbox"), fast.blocks, slow.blocks):
        assert fast_block.split(b"\n") == slow_block.split(b"\n"), f"{context} ({table} block)"
    assert fast.blocks == slow.blocks, context
    assert fast.offsets == slow.offsets, context


# -- writing rows as the importer reads them --------------------------------------

def quoted(value):
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def row_text(row, columns):
    return ",".join(quoted(row[c]) for c in columns) + "\n"


def physical_lines(text):
    """The lines the importer reads from a file holding ``text`` (it opens the
    file with newline="", so a lone \\r ends a line too)."""
    return io.StringIO(text, newline="").readlines()


def shuffled_columns(seed):
    columns = list(COLUMNS)
    random.Random(seed).shuffle(columns)
    return tuple(columns)


@lru_cache(maxsize=None)
def region_villages():
    """Villages inside IDENTITY's regions (62, 63.03) and outside them (other 63s, 64)."""
    of_63 = villages(("63",))
    inside = villages(("62",))[:50] + [v for v in of_63 if v.startswith("63.03.")]
    outside = [v for v in of_63 if not v.startswith("63.03.")] + villages(("64",))
    return inside, outside


# -- damage to a value -------------------------------------------------------------

# str.strip removes all of these but the zero-width space; C's isspace only the first five
SPACES = (" ", "  ", "\t", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\u00a0", "\u2028", "\u3000", "\u200b")
# str.isdigit is true for all of these and int() reads all but the superscripts
DIGIT_SCRIPTS = ("٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "०१२३४५६७८९", "０１２３４５６７８９", "⁰¹²³⁴⁵⁶⁷⁸⁹")
LETTERS = "éñØÇüİß王"


def padded(rng, value):
    space = rng.choice(SPACES)
    return rng.choice((space + value, value + space, space + value + rng.choice(SPACES)))


def foreign_digits(rng, value):
    """``value`` with one of its digits, or all, in another script."""
    script = rng.choice(DIGIT_SCRIPTS)
    places = [i for i, c in enumerate(value) if c in "0123456789"]
    if not places:
        return value + script[1]
    if rng.random() < 0.3:
        return "".join(script[int(c)] if c in "0123456789" else c for c in value)
    i = rng.choice(places)
    return value[:i] + script[int(value[i])] + value[i + 1:]


def with_letter(rng, value):
    i = rng.randint(0, len(value))
    return value[:i] + rng.choice(LETTERS + "xO") + value[i:]


def nik_with(nik, region=None, date_part=None, serial=None):
    return (region or nik[:6]) + (date_part or nik[6:12]) + (serial or nik[12:])


def agree_with_nik(row, rng=None):
    """Give the row the birth date and sex its NIK encodes (always, or with an
    RNG mostly), so that a NIK that is still valid makes a valid row."""
    try:
        nik = identity.parse_nik(row["nik"], TODAY)
    except identity.InvalidIdentity:
        return
    if rng is None or rng.random() < 0.85:
        row["birth_date"] = nik.birth_date.isoformat()
    if rng is None or rng.random() < 0.85:
        row["sex"] = nik.sex


# DDMMYY parts; TODAY is 2026-11-24, so yy 26 is 2026 and yy 27 is 1927
NIK_DATES = ("290224", "290225", "290200", "690224", "690225", "290227", "290228", "241126", "251126", "641126",
             "651126", "241127", "311126", "011226", "311226", "010127", "000000", "001090", "321090", "401090",
             "411090", "711090", "720190", "010090", "011390", "999999")
NIK_DAYS, NIK_MONTHS, NIK_YEARS = (0, 1, 29, 31, 32, 40, 41, 69, 71, 72), (0, 1, 2, 12, 13), (0, 24, 25, 26, 27, 99)
KK_DATES = ("000126", "320126", "410126", "011326", "010026", "290224", "290225", "290200", "311126", "251126",
            "010199", "999999")
REGIONS = ("999999", "620000", "000000", "621399", "630301", "640101", "621301")
INCOMES = ("0", "00", "007", "+5", "-0", "-1", "1_000", "1__000", "_1", " 12", "12 ", "\u00a012", "12\u3000",
           "10000000000", "10000000001", "010000000000", "99999999999999999999999999", "2147483648", "4294967296",
           "9223372036854775808", "", "1e3", "1.5", "0x10", "١٢٠٠", "１２", "1 000", "Rp1000", "²")
RT_RW = ("", "1", "01", "001", "0001", "1234", " 01", "01 ", "0 1", "ab", "-1", "+1", "١", "0²", "１２", "\u00a0001",
         "\t1", "00١")
SEX_VALUES = ("m", "f", "L", "P", "l", "p", " M", "F ", "\u00a0F", "X", "", "MF", "Laki-laki", "Ｍ", "ß")
RELATIONSHIP_VALUES = ("Head", "HEAD", " head", "head ", "kepala", "", "in-law", "In_law", "grandchild", "other",
                       "sibling", "parent", "head")
DISABILITY_VALUES = ("", "none", "None", " none", "physical", "Physical", "sensory ", "blind", "multiple", "mental",
                     "\u00a0none")
EDUCATION_VALUES = ("", "none", "SD", " sd", "sma ", "s1", "S1", "s3", "phd", "diploma", "D3")
ASSET_VALUES = (" motorcycle ; land", "land;land", "car", "plane", ";;", "land;;gold", "gold;land", ";", " ",
                "Land", "land,gold", "land; gold ;", "land\tgold", "gold;\u00a0land", "ｌａｎｄ", "",
                "motorcycle;refrigerator;land;livestock;boat;gold;car")
CONSENTS = (("consent", "2025-02-28", "Petugas Desa"), ("consent", "", "Petugas"), ("consent", "2025-02-28", ""),
            ("consent", "2025-02-28", " \t "), ("consent", "2026-11-25", "X"), ("consent", "2026-11-24", "X"),
            ("consent", "20250228", "X"), ("consent", "2025-W09-5", "X"), ("consent", " 2025-02-28 ", " Petugas "),
            ("consent", "2025-02-30", "X"), ("consent", "28-02-2025", "X"), ("consent", "2025-2-28", "X"),
            ("Consent", "2025-02-28", "X"), ("consent ", "2025-02-28", "X"), ("", "", ""), ("public_duty ", "", ""),
            ("public_duty", "2025-01-01", ""), ("public_duty", "garbage", "Petugas"),
            ("public_duty", "", "Petugas \\ Desa"), ("consent", "2025-02-28", "Petugas \\ Desa"),
            ("consent", "2025-02-28", "x" * 200), ("consent", "2025-02-28", "x" * 201),
            ("consent", "2025-02-28", " " + "x" * 200), ("consent", "2025-02-28", "Ségolène Ñ"),
            ("consent", "2025-02-28", "a\tb"), ("consent", "2025-02-28", "a\nb"), ("consent", "\u00a02025-02-28", "X"),
            ("Consent", "", ""), ("CONSENT", "", ""), ("consent", "", ""), ("Public_duty", "", ""),
            ("public_duty", " ", ""), ("public_duty", "", " "), ("public_duty", "\t", ""))
PHONES = ("08123456789", "628123456789", "+628123456789", "8123456789", "0812-3456-789", "0812 3456 789",
          "(0812) 3456789", "0812.3456.789", "0215551234", "+62215551234", "(021) 5551234", "0812345",
          "081234567890123", "+1 555 1234", "٠٨١٢٣٤٥٦٧٨٩", " 08123456789 ", "08123456789\u00a0", "", " ",
          "+62 812 3456 789", "62-812-3456-789", "0062812345678", "08l23456789", "081234567890", "0812345678901",
          "08" + "1" * 7, "08" + "1" * 8, "08" + "1" * 11, "08" + "1" * 12, "6208123456789", "+6208123456789",
          "62812345678", "0628123456789", "+62 8123456789")
NAMES = ("Budi 2", "O'Brien", "St. Aminah", "Siti-Nur", "Budi  Santoso", "BUDI SANTOSO", "Budi\\Santoso", "...",
         "-", "'", "x" * 200, "x" * 201, " " + "x" * 200, "", "   ", "Séna Rahmân", "Ñoño", "Øystein",
         "\u00a0Budi", "Budi\tSantoso", "Se\u0301na", "İbrahim", "王小明", "Budi\x00Santoso", "Budi\u200bSantoso",
         "\x1cBudi", "Budi, Santoso", 'Budi "Bud" Santoso', "Budi\nSantoso", "Budi\r\nSantoso", "\\N")
STREETS = ("Jl. A\\B", "\\N", "x" * 300, "x" * 301, " " + "x" * 299, "x" * 299 + "\t", "Jl. A, No. 5", 'Jl. "Baru"',
           "Jl. A\nNo. 5", "Jl.\tA", "", "   ", "Jalan Ségara", "\u00a0Jl. A", "Jl. A\rNo. 5")
OCCUPATIONS = ("x" * 100, "x" * 101, " " * 5 + "x" * 100, "x" * 100 + "\t", "buruh\\tani", "\\", "petani\tkebun",
               " petani ", "nelayan à", "x" * 300, "x" * 301, "a,b", "a\nb")


def birth_date_forms(rng, row):
    born = date.fromisoformat(row["birth_date"])
    year, week, weekday = born.isocalendar()
    return rng.choice((f"{born.year}-{born.month}-{born.day}", born.strftime("%Y%m%d"), f"{year}-W{week:02d}-{weekday}",
                       f"{year}W{week:02d}{weekday}", " " + born.isoformat(), born.isoformat() + "\t",
                       (born + timedelta(days=1)).isoformat(), f"{born.year - 100:04d}{row['birth_date'][4:]}",
                       born.strftime("%d-%m-%Y"), born.isoformat() + "T00:00", "", "1990-02-30",
                       foreign_digits(rng, born.isoformat()), "\u00a0" + born.isoformat()))


def choice_forms(rng, value):
    return rng.choice((value.upper(), value.capitalize(), " " + value, value + " ", "marble", "", "none",
                       "PLN_450", "brick-unplastered", value + "\u00a0", with_letter(rng, value)))


# -- mutations: each takes a household (row dicts), an RNG and the context and
# gives the text of its rows, damaged -----------------------------------------------

class Context:
    def __init__(self, population, columns):
        self.population, self.columns = population, columns

    def text(self, *households):
        return [row_text(row, self.columns) for household in households for row in household]


def on_field(column, make):
    """Give ``column`` the value ``make(rng, row)``: on every row for a
    household column (the household stays consistent), on one row otherwise."""
    def mutate(household, rng, ctx):
        rows = household if column in HOUSEHOLD_COLUMNS else [rng.choice(household)]
        value = make(rng, rows[0])
        for row in rows:
            row[column] = value
        return ctx.text(household)
    return mutate


def pick(values):
    return lambda rng, row: rng.choice(values)


def any_column(make):
    def mutate(household, rng, ctx):
        column = rng.choice(COLUMNS)
        return on_field(column, lambda rng, row: make(rng, row[column]))(household, rng, ctx)
    return mutate


def digits_elsewhere(household, rng, ctx):
    column = rng.choice(("kk_number", "nik", "rt", "rw", "monthly_income", "phone", "birth_date", "consent_date"))
    return on_field(column, lambda rng, row: foreign_digits(rng, row[column]))(household, rng, ctx)


def nik_date(household, rng, ctx):
    row = rng.choice(household)
    if rng.random() < 0.5:
        part = rng.choice(NIK_DATES)
    else:
        part = f"{rng.choice(NIK_DAYS):02d}{rng.choice(NIK_MONTHS):02d}{rng.choice(NIK_YEARS):02d}"
    row["nik"] = nik_with(row["nik"], date_part=part)
    agree_with_nik(row, rng)
    return ctx.text(household)


def nik_sex_flipped(household, rng, ctx):
    row = rng.choice(household)
    day = int(row["nik"][6:8])
    row["nik"] = nik_with(row["nik"], date_part=f"{day - 40 if day > 40 else day + 40:02d}{row['nik'][8:12]}")
    agree_with_nik(row, rng)
    return ctx.text(household)


def nik_region(household, rng, ctx):
    row = rng.choice(household)
    row["nik"] = nik_with(row["nik"], region=rng.choice(REGIONS))
    return ctx.text(household)


def nik_serial(household, rng, ctx):
    """Another serial on the same region-and-date part as another member's
    NIK (the Python rules keep what they parsed of a part)."""
    row, other = rng.choice(household), rng.choice(household)
    serial = rng.choice(("0000", "0001", "9999", "00x1", "١٢٣٤", " 123", f"{rng.randint(1, 9999):04d}"))
    row["nik"] = other["nik"][:12] + serial
    row["birth_date"], row["sex"] = other["birth_date"], other["sex"]
    return ctx.text(household)


def nik_shape(household, rng, ctx):
    row = rng.choice(household)
    nik = row["nik"]
    row["nik"] = rng.choice((nik[:15], nik + "1", nik[:8] + " " + nik[9:], with_letter(rng, nik[1:]), "",
                             "-" + nik[1:], "+" + nik[1:], foreign_digits(rng, nik), nik[:15] + "²"))
    return ctx.text(household)


def kk_date(household, rng, ctx):
    return on_field("kk_number", lambda rng, row: nik_with(row["kk_number"], date_part=rng.choice(KK_DATES)))(
        household, rng, ctx)


def kk_region(household, rng, ctx):
    return on_field("kk_number", lambda rng, row: nik_with(row["kk_number"], region=rng.choice(REGIONS)))(
        household, rng, ctx)


def kk_shape(household, rng, ctx):
    def shape(rng, row):
        kk = row["kk_number"]
        return rng.choice((kk[:15], kk + "0", with_letter(rng, kk[1:]), foreign_digits(rng, kk), kk[:15] + "²"))
    return on_field("kk_number", shape)(household, rng, ctx)


def village_form(household, rng, ctx):
    def form(rng, row):
        v = row["village_code"]
        return rng.choice((v.replace(".", "-"), v.replace(".", "", 1), v[:-1], v + "0", v[:9] + "9999", v[:8],
                           v[:2] + v[3:] + ".", v.replace(".", ","), v.lower(), foreign_digits(rng, v),
                           v[:9] + "0000", "62.13.01.2003"))
    return on_field("village_code", form)(household, rng, ctx)


def village_region(household, rng, ctx):
    inside, outside = region_villages()
    return on_field("village_code", lambda rng, row: rng.choice(rng.choice((inside, outside))))(household, rng, ctx)


def a_choice(household, rng, ctx):
    column = rng.choice(("floor", "wall", "roof", "electricity", "water", "sanitation"))
    return on_field(column, lambda rng, row: choice_forms(rng, row[column]))(household, rng, ctx)


def consent(household, rng, ctx):
    legal_basis, consent_date, recorded_by = rng.choice(CONSENTS)
    for row in household:
        row.update(legal_basis=legal_basis, consent_date=consent_date, consent_recorded_by=recorded_by)
    return ctx.text(household)


def rt_rw(household, rng, ctx):
    return on_field(rng.choice(("rt", "rw")), pick(RT_RW))(household, rng, ctx)


def sex(household, rng, ctx):
    row = rng.choice(household)
    row["sex"] = {"M": "F", "F": "M"}[row["sex"]] if rng.random() < 0.2 else rng.choice(SEX_VALUES)
    return ctx.text(household)


def two_mutations(household, rng, ctx):
    """Two kinds of damage on one household: which error a row reports first."""
    for _, mutate in rng.sample(FIELD_MUTATIONS, 2):
        mutate(household, rng, ctx)
    return ctx.text(household)


# line-level damage

def one_line(change):
    """Apply ``change(rng, text)`` to the text of one of the household's rows."""
    def mutate(household, rng, ctx):
        texts = ctx.text(household)
        i = rng.randrange(len(texts))
        texts[i] = change(rng, texts[i])
        return texts
    return mutate


def insert_at_random(text, rng, piece):
    i = rng.randint(0, len(text) - 1)
    return text[:i] + piece + text[i:]


def fewer_columns(rng, text):
    body = text.rstrip("\r\n")
    return body[:body.rfind(",")] + "\n"


def more_columns(rng, text):
    return rng.choice((text.rstrip("\n") + ",\n", text.rstrip("\n") + ",x\n", "," + text))


def empty_line(household, rng, ctx):
    texts = ctx.text(household)
    texts.insert(rng.randint(0, len(texts)), rng.choice(("\n", "\r\n", " \n", ",,,\n", "\r", ",\n")))
    return texts


def line_endings(household, rng, ctx):
    ending = rng.choice(("\r\n", "\r"))
    texts = ctx.text(household)
    return [t[:-1] + ending if rng.random() < 0.7 else t for t in texts]


def stray_quotes(household, rng, ctx):
    """A quote inside an unquoted field (often free text, where the row stays
    valid), in one row or two: CSV takes it literally, but an odd count sends
    the lines that follow to the csv module too."""
    texts = ctx.text(household)
    for i in rng.sample(range(len(texts)), min(len(texts), rng.choice((1, 2)))):
        free_text = [household[i][c] for c in ("name", "street", "occupation") if len(household[i][c]) > 1]
        if free_text and rng.random() < 0.7:
            value = rng.choice(free_text)
            k = rng.randint(1, len(value) - 1)
            texts[i] = texts[i].replace(value, value[:k] + '"' + value[k:], 1)
        else:
            texts[i] = insert_at_random(texts[i], rng, '"')
    return texts


# household-level damage

def column_differs(household, rng, ctx):
    """One row's household column differs from the others', truly or only in
    spacing or in the order of assets (the same household after cleaning)."""
    row = rng.choice(household)
    column = rng.choice(HOUSEHOLD_COLUMNS)
    other = ctx.population.household()[0][column]
    row[column] = rng.choice((padded(rng, row[column]), other, ";".join(reversed(row["assets"].split(";"))),
                              row[column] + " "))
    return ctx.text(household)


def heads(household, rng, ctx):
    if rng.random() < 0.5:
        for row in household:
            if row["relationship"] == "head":
                row["relationship"] = rng.choice(("other", "spouse"))
    else:
        rng.choice(household)["relationship"] = "head"
    return ctx.text(household)


def size_limit(household, rng, ctx):
    return ctx.text(ctx.population.household(size=rng.choice((30, 31))))


def nik_twice_in_household(household, rng, ctx):
    twin = dict(rng.choice(household))
    if rng.random() < 0.5:
        twin["relationship"] = "other"
    household.insert(rng.randint(0, len(household)), twin)
    return ctx.text(household)


def nik_in_two_households(household, rng, ctx):
    earlier = ctx.population.household()
    person = rng.choice(earlier)
    household.append(dict(household[0], nik=person["nik"], name=person["name"], birth_date=person["birth_date"],
                          sex=person["sex"], relationship="other"))
    return ctx.text(earlier, household)


def kk_split(household, rng, ctx):
    """A household's rows in two runs with another household between: valid."""
    household = ctx.population.household(size=rng.randint(2, 6))
    k = rng.randint(1, len(household) - 1)
    return ctx.text(household[:k], ctx.population.household(), household[k:])


def interleaved(household, rng, ctx):
    other = ctx.population.household()
    rows = [row for pair in zip(household, other) for row in pair]
    rows += household[len(other):] + other[len(household):]
    return ctx.text(rows)


def kk_shared(household, rng, ctx):
    """Two households under one KK number, adjacent or apart."""
    second = [dict(row, kk_number=household[0]["kk_number"]) for row in ctx.population.household()]
    between = ctx.population.household() if rng.random() < 0.5 else []
    return ctx.text(household, between, second)


FIELD_MUTATIONS = [
    ("edge space", any_column(padded)),
    ("non-ASCII letter", any_column(with_letter)),
    ("301 characters", any_column(lambda rng, value: rng.choice(("x", "1", " ")) * 301)),
    ("300 characters", any_column(lambda rng, value: "1" * 300)),
    ("foreign digits", digits_elsewhere),
    ("nik date", nik_date),
    ("nik sex flipped", nik_sex_flipped),
    ("nik region", nik_region),
    ("nik serial", nik_serial),
    ("nik shape", nik_shape),
    ("kk date", kk_date),
    ("kk region", kk_region),
    ("kk shape", kk_shape),
    ("birth date", on_field("birth_date", birth_date_forms)),
    ("sex", sex),
    ("relationship", on_field("relationship", pick(RELATIONSHIP_VALUES))),
    ("disability", on_field("disability", pick(DISABILITY_VALUES))),
    ("education", on_field("education", pick(EDUCATION_VALUES))),
    ("income", on_field("monthly_income", pick(INCOMES))),
    ("rt/rw", rt_rw),
    ("village form", village_form),
    ("village region", village_region),
    ("choice", a_choice),
    ("assets", on_field("assets", pick(ASSET_VALUES))),
    ("consent", consent),
    ("phone", on_field("phone", pick(PHONES))),
    ("name", on_field("name", pick(NAMES))),
    ("street", on_field("street", pick(STREETS))),
    ("occupation", on_field("occupation", pick(OCCUPATIONS))),
]
MUTATIONS = FIELD_MUTATIONS + [
    ("two mutations", two_mutations),
    ("24 columns", one_line(fewer_columns)),
    ("26 columns", one_line(more_columns)),
    ("empty line", empty_line),
    ("line endings", line_endings),
    ("stray \\r", one_line(lambda rng, text: insert_at_random(text, rng, "\r"))),
    ("NUL", one_line(lambda rng, text: insert_at_random(text, rng, "\x00"))),
    ("stray quotes", stray_quotes),
    ("column differs", column_differs),
    ("heads", heads),
    ("size limit", size_limit),
    ("nik twice in household", nik_twice_in_household),
    ("nik in two households", nik_in_two_households),
    ("kk split", kk_split),
    ("interleaved", interleaved),
    ("kk shared", kk_shared),
]


def listed_cases():
    """(label, change) for every value listed above, each to be made on an
    otherwise clean household: the fuzz draws each of them only now and then.
    A value may be a function of the row."""
    for column, values in (("monthly_income", INCOMES), ("rt", RT_RW), ("rw", RT_RW), ("sex", SEX_VALUES),
                           ("relationship", RELATIONSHIP_VALUES), ("disability", DISABILITY_VALUES),
                           ("education", EDUCATION_VALUES), ("assets", ASSET_VALUES), ("phone", PHONES),
                           ("name", NAMES), ("street", STREETS), ("occupation", OCCUPATIONS)):
        for value in values:
            yield f"{column}={value!r}", set_values(**{column: value})
    for legal_basis, consent_date, recorded_by in CONSENTS:
        yield (f"consent {legal_basis!r} {consent_date!r} {recorded_by!r}",
               set_values(legal_basis=legal_basis, consent_date=consent_date, consent_recorded_by=recorded_by))
    for part in NIK_DATES:
        yield f"nik date {part}", set_values(nik=lambda row, part=part: nik_with(row["nik"], date_part=part))
    for part in KK_DATES:
        yield f"kk date {part}", set_values(
            kk_number=lambda row, part=part: nik_with(row["kk_number"], date_part=part))
    for region in REGIONS:
        yield f"nik region {region}", set_values(nik=lambda row, region=region: nik_with(row["nik"], region=region))
        yield f"kk region {region}", set_values(
            kk_number=lambda row, region=region: nik_with(row["kk_number"], region=region))
    for column in COLUMNS:
        for space in SPACES:
            yield f"{column} after {space!r}", set_values(**{column: lambda row, c=column, s=space: s + row[c]})
            yield f"{column} before {space!r}", set_values(**{column: lambda row, c=column, s=space: row[c] + s})
    for column in ("kk_number", "nik", "rt", "rw", "monthly_income", "phone", "birth_date"):
        for script in DIGIT_SCRIPTS:
            yield f"{column} in {script[:3]}", set_values(**{column: lambda row, c=column, script=script: "".join(
                script[int(d)] if d in "0123456789" else d for d in row[c])})


def set_values(**values):
    """A change that gives a household column its value on every row, and a
    member column its value on one row (a NIK with the birth date and sex it
    encodes)."""
    def change(household):
        for column, value in values.items():
            rows = household if column in HOUSEHOLD_COLUMNS else [member_row(household, column, value)]
            for row in rows:
                row[column] = value(row) if callable(value) else value
                if column == "nik":
                    agree_with_nik(row)
    return change


def member_row(household, column, value):
    """The last row (not the head's, in a household of two or more), or for a
    sex, the last row of the sex the value means."""
    meant = SEXES.get(value.strip().upper()) if column == "sex" and isinstance(value, str) else None
    return next((row for row in reversed(household) if row["sex"] == meant), household[-1])




def mutated_units(seed, count, columns=COLUMNS):
    """``count`` (name, text) units: a household damaged one way (with the
    households the damage needs), or a clean one now and then."""
    rng = random.Random(seed)
    # households in 62, inside IDENTITY's regions: damage that leaves a row valid reaches the writer
    ctx = Context(Population(seed=seed, provinces=("62",), today=TODAY), columns)
    units = []
    for _ in range(count):
        household = ctx.population.household()
        name, mutate = ("clean", lambda h, rng, ctx: ctx.text(h)) if rng.random() < 0.15 else rng.choice(MUTATIONS)
        units.append((name, "".join(mutate(household, rng, ctx))))
    return units


def chunk_ending(rng, text):
    """The end of a chunk: a quote that opens and never closes (the record
    runs to the end), a last line without its line break, or nothing."""
    lines = physical_lines(text)
    i = rng.randrange(len(lines))
    return rng.choice((
        text,
        "".join(lines[:i]) + lines[i].replace(",", ',"', 1) + "".join(lines[i + 1:]),
        text.rstrip("\r\n"),
    ))


def assert_units_agree(units, order, rng, ends=True):
    """Compare the two paths on the units in chunks of 20 (with a damaged
    end, if ``ends``); where a chunk differs, name the units that differ
    alone too."""
    fast_households = 0
    for start in range(0, len(units), 20):
        part = units[start:start + 20]
        text = "".join(unit for _, unit in part)
        lines = physical_lines(chunk_ending(rng, text) if ends else text)
        fast, slow, written = both_paths(lines, order)
        fast_households += written
        if not same(fast, slow):
            alone = [name for name, unit in part if not same(*both_paths(physical_lines(unit), order)[:2])]
            assert_same(fast, slow, f"units {[name for name, _ in part]}; differing alone: {alone}")
    return fast_households


# -- the tests -------------------------------------------------------------------------

def test_clean_generated_rows_give_the_same_chunk_and_most_households_take_the_fast_path(tmp_path):
    population = Population(seed=21, provinces=("62", "63"), today=TODAY)
    path = tmp_path / "list.csv"
    write_csv(path, [population.household() for _ in range(400)], bad_share=0.05, duplicate_share=0.01, seed=5)
    header, *lines = open(path, newline="", encoding="utf-8").readlines()
    fast, slow, written = both_paths(lines, column_order(header.rstrip("\r\n").split(",")))
    assert_same(fast, slow)
    assert len(fast.households) > 100 and fast.rejects
    assert written > 0.7 * len(fast.households), (written, len(fast.households))


@pytest.mark.parametrize("seed", range(6))
def test_damaged_rows_give_the_same_chunk_on_both_paths(seed):
    units = mutated_units(seed, 300)
    lines = sum(len(physical_lines(text)) for name, text in units if name != "clean")
    assert lines > 1000  # about 1,200 damaged lines a seed
    written = assert_units_agree(units, list(range(len(COLUMNS))), random.Random(seed))
    assert written > 0


def test_every_listed_value_on_an_otherwise_clean_household_gives_the_same_chunk():
    population = Population(seed=51, provinces=("62",), today=TODAY)
    ctx = Context(population, COLUMNS)
    units = []
    for label, change in listed_cases():
        household = population.household(size=population.random.choice((2, 3, 4)))
        change(household)
        units.append((label, "".join(ctx.text(household))))
    assert len(units) > 900
    assert_units_agree(units, list(range(len(COLUMNS))), random.Random(51), ends=False)


@pytest.mark.parametrize("seed", (31, 32))
def test_columns_in_another_order_give_the_same_chunk(seed):
    columns = shuffled_columns(seed)
    order = column_order(columns)
    assert order != list(range(len(COLUMNS)))
    population = Population(seed=seed, provinces=("62", "63"), today=TODAY)
    rng = random.Random(seed)
    rows = [spoil(row, rng)[0] if rng.random() < 0.05 else row for _ in range(150) for row in population.household()]
    fast, slow, _ = both_paths(physical_lines("".join(row_text(row, columns) for row in rows)), order)
    assert_same(fast, slow)
    assert_units_agree(mutated_units(seed, 120, columns), order, rng)


@pytest.mark.parametrize("seed", (41, 42, 43))
def test_a_chunk_cut_at_any_line_gives_the_same_chunk(seed):
    rng = random.Random(seed)
    population = Population(seed=seed, provinces=("62",), today=TODAY)
    text = "".join(row_text(row, COLUMNS) for _ in range(150) for row in population.household())
    text += "".join(unit for _, unit in mutated_units(seed, 60))
    lines = physical_lines(text.rstrip("\r\n"))  # the file's last line may lack its line break
    order = list(range(len(COLUMNS)))
    cuts = sorted(rng.sample(range(1, len(lines)), 8))
    fast_builder, slow_builder = builder(True), builder(False)
    for first, end in zip([0] + cuts, cuts + [len(lines)]):
        piece = lines[first:end]
        # a fresh builder on the piece alone, and builders fed the pieces in turn
        assert_same(*both_paths(piece, order, first_line=2 + first)[:2], f"lines {2 + first}-{1 + end}")
        assert_same(fast_builder.chunk(2 + first, piece, order, now=NOW),
                    slow_builder.chunk(2 + first, piece, order, now=NOW), f"in turn, lines {2 + first}-{1 + end}")
    assert fast_builder.fast_households > 0


def test_the_scanner_refuses_bad_calls_instead_of_crashing():
    identity_order = list(range(len(COLUMNS)))
    with pytest.raises(RuntimeError):
        import_chunks.Writer.__new__(import_chunks.Writer).scan(["a\n"], 2, "t")  # never initialised
    scanner = builder(True)
    with pytest.raises(RuntimeError):
        scanner._writer.scan(["a\n"], 2, "t")  # no rules() yet
    with pytest.raises(TypeError):
        scanner._writer.rules(order=identity_order)  # the rules are given whole
    with pytest.raises(ValueError):
        scanner._writer.rules(**dict(scanner._scanner_rules(identity_order), order=[0, 1]))
    scanner._scanner(identity_order)
    with pytest.raises(TypeError):
        scanner._writer.scan([b"bytes\n"], 2, "t")
    assert scanner._writer.scan([], 2, "t") == []


def test_rules_the_scanner_is_not_built_for_leave_the_chunk_to_python(tmp_path, monkeypatch):
    population = Population(seed=21, provinces=("62",))
    path = tmp_path / "list.csv"
    write_csv(path, [population.household() for _ in range(20)])
    lines = open(path, newline="").readlines()
    order = column_order(lines[0].rstrip("\r\n").split(","))
    fast = builder(True)
    rules = fast._scanner_rules
    monkeypatch.setattr(fast, "_scanner_rules", lambda o: dict(rules(o), cut_points=tuple(range(1, 18))))
    chunk = fast.chunk(2, lines[1:], order, now=NOW)
    assert (fast.fast, fast.fast_households) == (False, 0)
    assert same(chunk, builder(False).chunk(2, lines[1:], order, now=NOW))


def test_the_oldest_people_are_imported_with_the_century_of_their_birth_date_on_both_paths():
    population = Population(seed=61, provinces=("62",), today=TODAY)
    births = [date(1900, 1, 1), date(1920, 6, 15), date(1925, 1, 1), date(1926, 12, 31), date(2025, 1, 1)]
    text = ""
    for born in births:
        household = population.household(size=2)
        member = household[1]
        member["nik"] = population.nik(member["village_code"][:8], born, member["sex"])
        member["birth_date"] = born.isoformat()
        text += "".join(row_text(row, COLUMNS) for row in household)
    fast, slow, _ = both_paths(physical_lines(text), list(range(len(COLUMNS))))
    assert_same(fast, slow)
    assert slow.rejects == [] and len(slow.households) == len(births)
    members = slow.blocks[1].decode()
    for born in births:
        assert f"\t{born.isoformat()}\t" in members, born
