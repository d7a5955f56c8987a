"""What an importer worker makes of a chunk (import_chunks.py): CSV records,
the ids it gives, and the COPY text and events it writes by hand, held to
the HTTP path's snapshot, schema check and envelope for every household."""
import csv
import json
import random
import re
from datetime import date

import pytest

from setiakawan_registry import import_chunks
from setiakawan_registry.import_chunks import (BuilderMismatch, ChunkBuilder, _records, id_range, row_id)
from setiakawan_registry.rules.identity import normalize_phone
from setiakawan_registry.rules.rows import COLUMNS, RowValidator, column_order
from demo.population import Population, write_csv

TODAY = date(2026, 11, 24)
IMPORT_ID = "01a2102c-4b51-766f-a1fb-3d8a6686a149"
SETTINGS = {"welfare": {}}
IDENTITY = {"agency": 'Dinas Sosial "Kalteng"\\Pusat', "role": "operator", "regions": ["62", "63.03"]}


def chunk_of(tmp_path, households, **spoil):
    path = tmp_path / "list.csv"
    write_csv(path, households, **spoil)
    lines = open(path, newline="").readlines()
    return lines[1:], column_order(next(csv.reader([lines[0]])))


def test_records_split_like_the_csv_module_with_their_line_spans():
    lines = ['a,b,c\n', '"x, y",z\n', '"multi\n', 'line",q\n', 'ab"c,d\n', 'e,f\r\n', '\n', 'h,"i\n']
    assert [r[:3] for r in _records(10, lines)] == [
        (10, 10, ["a", "b", "c"]), (11, 11, ["x, y", "z"]), (12, 13, ["multi\nline", "q"]),
        (14, 14, ['ab"c', "d"]), (15, 15, ["e", "f"]), (16, 16, []), (17, 17, ["h", "i\n"])]
    plain = [",".join(str(random.Random(i).random()) for _ in range(5)) + "\n" for i in range(50)]
    assert [r[2] for r in _records(2, plain)] == list(csv.reader(plain))


def test_lines_of_one_household_reuse_its_leading_fields_and_still_split_like_csv():
    rng = random.Random(4)
    lines = []
    for _ in range(400):
        head = ",".join(rng.choice(["a", "b", ""]) for _ in range(rng.randint(0, 4)))
        for _ in range(rng.randint(1, 3)):
            tail = ",".join(rng.choice(["1", "2", ""]) for _ in range(rng.randint(0, 4)))
            lines.append(",".join(p for p in (head, tail) if p or rng.random() < 0.5) + rng.choice(["\n", "\r\n"]))
    assert [r[2] for r in _records(2, lines, tail=2)] == list(csv.reader(lines))


def test_ids_grow_with_the_line_and_stay_within_the_import_range():
    ids = [row_id(IMPORT_ID, "member", line) for line in (2, 3, 1000, 10 ** 9)]
    assert ids == sorted(ids)
    low, high = id_range(IMPORT_ID, "member")
    assert all(low <= i <= high for i in ids)
    assert row_id(IMPORT_ID, "household", 2) < low and row_id(IMPORT_ID, "event", 2) > high
    assert ids[0] == "01a2102c-4b51-8200-8000-000000000002"


def test_every_household_of_a_chunk_matches_the_http_paths_snapshot_and_event(tmp_path):
    population = Population(seed=8, provinces=("62", "63"))
    lines, order = chunk_of(tmp_path, [population.household() for _ in range(400)], bad_share=0.05, seed=2)
    builder = ChunkBuilder(TODAY, SETTINGS, IDENTITY, IMPORT_ID)
    chunk = builder.chunk(2, lines, order)
    assert chunk.rows == len(lines) and chunk.households and chunk.rejects
    household_lines = chunk.blocks[0].decode().splitlines(keepends=True)
    event_lines = chunk.blocks[2].decode().splitlines(keepends=True)
    assert len(household_lines) == len(event_lines) == len(chunk.households)
    # rebuild each household's rows and hold its text to the reference path
    by_first_line = {}
    validator = RowValidator(TODAY)
    for start, _, fields, _ in _records(2, lines):
        try:
            household, member = validator.row(start, fields, order)
        except Exception:  # noqa: BLE001 - rejected rows are not built
            continue
        by_first_line.setdefault(household.kk_number, []).append((household, member))
    for index, (kk, niks, spans) in enumerate(chunk.households):
        rows = [r for r in by_first_line[kk] if r[1].nik in niks]
        text = (household_lines[index], "", event_lines[index])
        builder.check_against_reference(rows, _event_time(event_lines[index]), text)
    # the events carry no KK number or NIK, nor a digest of one
    events = chunk.blocks[2].decode()
    for kk, niks, _ in chunk.households:
        assert kk not in events and not any(nik in events for nik in niks)
    assert not re.search(r"[0-9a-fA-F]{17,}", events)
    # and the offsets cut the blocks at household boundaries
    members = chunk.blocks[1]
    ends = chunk.offsets[1]
    firsts = [members[(ends[i - 1] if i else 0):ends[i]].decode().split("\t", 2)[1] for i in range(len(ends))]
    assert firsts == [line.split("\t", 1)[0] for line in household_lines]


@pytest.mark.parametrize("fast", [True, False])
def test_a_builder_that_disagrees_with_the_reference_stops_the_import(tmp_path, fast):
    # fast: the C scanner's first household of the chunk is also written from
    # the rules' rows, by Python; either way the HTTP path's is the reference
    population = Population(seed=9, provinces=("62",))
    lines, order = chunk_of(tmp_path, [population.household() for _ in range(3)])
    builder = ChunkBuilder(TODAY, SETTINGS, IDENTITY, IMPORT_ID, fast=fast)
    original = builder.household_bytes

    def wrong(rows, time_text, scanner=True):
        household, members, event = original(rows, time_text, scanner)
        return household, members, event.replace(b'"decile":', b'"decile":1')

    builder.household_bytes = wrong
    with pytest.raises(BuilderMismatch):
        builder.chunk(2, lines, order)


def test_the_c_writer_is_built():
    # setup.py builds it when a C compiler is there, as on CI; without it
    # imports still work, several times slower
    assert import_chunks.Writer is not None, "setiakawan_registry._bulktext was not built"
    assert import_chunks.import_path() == {"bulk_import": "c"}


def test_without_the_c_writer_health_says_which_path_and_why(monkeypatch):
    monkeypatch.setattr(import_chunks, "Writer", None)
    monkeypatch.setattr(import_chunks, "WRITER_MISSING", "No module named 'setiakawan_registry._bulktext'")
    assert import_chunks.import_path() == {
        "bulk_import": "python",
        "bulk_import_reason": "the C accelerator is not built (No module named 'setiakawan_registry._bulktext')"}


@pytest.mark.parametrize("seed", [11, 13, 17])
def test_the_c_writer_writes_the_bytes_of_the_python_definition_for_every_household(tmp_path, seed):
    population = Population(seed=seed, provinces=("62",))
    households = [population.household() for _ in range(300)]
    rng = random.Random(seed)
    for household in households:  # free text that needs escaping, non-ASCII, consent, no phone
        street = rng.choice([household[0]["street"], "Jl. A\\B", "Jalan Raya Sei Ahas \u00e9\u00e8"])
        recorded_by = rng.choice(["", "Petugas \\ Lapangan", "Siti \u00dcmm\u00fc"])
        for row in household:
            row["street"] = street
            if recorded_by:
                row["legal_basis"], row["consent_date"], row["consent_recorded_by"] = "consent", "2025-02-28", recorded_by
            row["name"] = rng.choice([row["name"], row["name"] + " \\ Jr", "Ni Luh Ayu \u00c7elik"])
            row["occupation"] = rng.choice(["", "petani", "buruh\\tani", "nelayan \u00e0"])
            row["phone"] = rng.choice([row["phone"], ""])
            row["disability"] = rng.choice(["", "none", "physical"])
    lines, order = chunk_of(tmp_path, households)
    builder = ChunkBuilder(TODAY, SETTINGS, IDENTITY, IMPORT_ID, fast=False)
    assert builder._writer is not None
    valid = []
    builder.build = lambda v, *_: valid.extend(v)
    builder.chunk(2, lines, order)
    assert len(valid) > 250
    seen = set()
    for _, rows in valid:
        expected = tuple(text.encode() for text in builder.household_text(rows, "2026-11-24T01:02:03.000004Z"))
        assert builder.household_bytes(rows, "2026-11-24T01:02:03.000004Z") == expected
        household, members = expected[0].decode(), expected[1].decode()
        seen.update(name for name, present in (
            ("escaped street", "A\\\\B" in household), ("non-ASCII street", "Ahas \u00e9" in household),
            ("no consent", "\t\\N\t\\N\t" in household), ("consent", "Petugas \\\\ Lapangan" in household),
            ("escaped name", " \\\\ Jr" in members), ("no phone", "\t\\N\t" in members),
            ("disability", '"disability":true' in expected[2].decode())) if present)
    assert len(seen) == 7, seen


def test_copy_text_escapes_backslashes_in_free_text(tmp_path):
    population = Population(seed=10, provinces=("62",))
    household = population.household(size=2)
    for row in household:
        row["street"] = "Jl. Kenanga \\ Gang 3"
    lines, order = chunk_of(tmp_path, [household])
    chunk = ChunkBuilder(TODAY, SETTINGS, IDENTITY, IMPORT_ID).chunk(2, lines, order)
    assert len(chunk.households) == 1, chunk.rejects
    assert "Jl. Kenanga \\\\ Gang 3" in chunk.blocks[0].decode()
    assert "Dinas Sosial \"Kalteng\"\\\\Pusat" in chunk.blocks[0].decode()  # the agency, as COPY text


@pytest.mark.parametrize("seed", range(3))
def test_the_fast_phone_path_agrees_with_lokal_id(seed):
    from lokal.phone import parse_phone
    rng = random.Random(seed)
    for _ in range(3000):
        prefix = rng.choice(["", "0", "62", "+62", "+620", "620", "00", "8"])
        digits = rng.choice("8" * 6 + "2567") + "".join(rng.choice("0123456789") for _ in range(rng.randint(6, 13)))
        value = prefix + digits
        info = parse_phone(value)
        expected = info.e164 if info.valid else None
        try:
            got = normalize_phone(value)
        except ValueError:
            got = None
        assert got == expected, value


def test_cached_nik_parts_give_the_same_verdicts_as_the_first_parse():
    validator = RowValidator(TODAY)
    base = {"kk_number": "6213010107200001", "street": "", "rt": "", "rw": "", "village_code": "62.13.01.2003",
            "monthly_income": "0", "floor": "wood", "wall": "wood", "roof": "zinc", "electricity": "pln_450",
            "water": "river", "sanitation": "none", "assets": "", "legal_basis": "public_duty", "consent_date": "",
            "consent_recorded_by": "", "name": "Siti", "birth_date": "1985-07-01", "sex": "F",
            "relationship": "head", "disability": "", "occupation": "", "education": "", "phone": ""}
    order = column_order(COLUMNS)

    def verdict(nik, **over):
        values = {**base, "nik": nik, **over}
        try:
            validator.row(2, [values[c] for c in COLUMNS], order)
            return "ok"
        except ValueError as exc:
            return str(exc)

    for _ in range(2):  # the second round answers from the caches
        assert verdict("6213014107850003") == "ok"
        assert "serial" in verdict("6213014107850000")
        assert "16 digits" in verdict("62130141078500x3")
        assert "contradicts" in verdict("6213014107850003", birth_date="1985-07-02")
        assert "contradicts" in verdict("6213014107850003", sex="M")
        assert verdict("6213014107850004", sex="P") == "ok"


def _event_time(event_line):
    from datetime import datetime
    headers = json.loads(event_line.split("\t")[4].replace("\\\\", "\\"))
    return datetime.fromisoformat(headers["ce-time"].replace("Z", "+00:00"))


def test_offsets_count_bytes_when_names_are_not_ascii(tmp_path):
    population = Population(seed=12, provinces=("62",))
    households = [population.household(size=2) for _ in range(3)]
    for row in households[1]:
        row["name"] = "Séna Rahmân"
    lines, order = chunk_of(tmp_path, households)
    chunk = ChunkBuilder(TODAY, SETTINGS, IDENTITY, IMPORT_ID).chunk(2, lines, order)
    assert len(chunk.households) == 3, chunk.rejects
    for block, ends in zip(chunk.blocks, chunk.offsets):
        pieces = [block[(ends[i - 1] if i else 0):ends[i]].decode() for i in range(3)]
        assert all(piece.endswith("\n") for piece in pieces)
    members = chunk.blocks[1][chunk.offsets[1][0]:chunk.offsets[1][1]].decode()
    assert "Séna Rahmân" in members


def _cuts_line_by_line(lines, rows):
    """The importer's cutting rule, one line at a time: a chunk ends before
    a line, once it holds ``rows`` lines, if that line starts a record (even
    quotes so far) of another KK number than the record before it."""
    from setiakawan_registry.importer import _kk_of
    out, current, first, line_no, quotes, last_kk = [], [], 2, 2, 0, None
    for text in lines:
        if quotes % 2 == 0 and len(current) >= rows and _kk_of(text, 0) != last_kk:
            out.append((first, current))
            current, first, quotes = [], line_no, 0
        if quotes % 2 == 0:
            last_kk = _kk_of(text, 0)
        current.append(text)
        quotes += text.count('"')
        line_no += 1
    return out + ([(first, current)] if current else [])


def test_the_importer_cuts_the_file_between_households_and_outside_quotes(tmp_path, monkeypatch):
    import threading

    from setiakawan_registry import importer
    rng = random.Random(3)
    for trial in range(100):
        lines = []
        for h in range(rng.randint(1, 60)):
            for _ in range(rng.randint(1, 4)):
                lines.append(rng.choice([f"{h:04d},a,b\n"] * 18 + [f'{h:04d},"multi\nline",x\n',
                                                                   f'{h:04d},"q, u",x\n']))
        path = tmp_path / "cut.csv"
        path.write_text("kk,a,b\n" + "".join(lines), newline="")
        physical = [line + "\n" for line in "".join(lines).split("\n")[:-1]]
        rows = rng.randint(1, 10)
        monkeypatch.setattr(importer, "CHUNK_ROWS", rows)
        monkeypatch.setattr(importer, "READ_HINT", rng.choice([1, 10, 50, 1000]))
        reader = importer.Importer.__new__(importer.Importer)
        reader.path, reader.reading = path, True
        chunks = [(first, lines) for first, lines, _ in reader._chunks([0], [], threading.Semaphore(10 ** 6))]
        assert chunks == _cuts_line_by_line(physical, rows), trial


def test_kept_households_are_copied_as_runs_that_cover_exactly_them():
    from setiakawan_registry.importer import _runs
    rng = random.Random(6)
    assert _runs([]) == [] and _runs([4]) == [[4, 4]] and _runs([0, 1, 2, 5, 7, 8]) == [[0, 2], [5, 5], [7, 8]]
    for _ in range(200):
        keep = sorted(rng.sample(range(60), rng.randint(0, 60)))
        runs = _runs(keep)
        assert [i for first, last in runs for i in range(first, last + 1)] == keep
        assert all(b[0] > a[1] + 1 for a, b in zip(runs, runs[1:]))


def test_the_c_writer_refuses_what_rules_rows_never_makes_instead_of_crashing(tmp_path):
    population = Population(seed=12, provinces=("62",))
    lines, order = chunk_of(tmp_path, [population.household(size=2)])
    builder = ChunkBuilder(TODAY, SETTINGS, IDENTITY, IMPORT_ID, fast=False)
    valid = []
    builder.build = lambda v, *_: valid.extend(v)
    builder.chunk(2, lines, order)
    rows = valid[0][1]
    assert builder.household_bytes(rows, "t")  # as made, it writes
    household, member = rows[0]
    for broken in ([(household._replace(consent_date=None), member)], [(household, member._replace(phone=None))],
                   [(household, member._replace(disability=1))], [(household, member._replace(birth_date="x"))],
                   [(household._replace(indicators=(1, None, "a", "b", "c", "d", "e", ())), member)], [], [None]):
        with pytest.raises((TypeError, ValueError)):
            builder._writer.household(broken, "t", 50.0, 5)
    with pytest.raises(RuntimeError):
        import_chunks.Writer.__new__(import_chunks.Writer).household(rows, "t", 50.0, 5)
