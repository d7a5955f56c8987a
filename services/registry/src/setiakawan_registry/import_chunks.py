"""What an importer worker process makes of one chunk of the file.

Every row is checked with the registry's rules (``rules.rows``), then the
household rules (one head, the same household columns on every row, a
village in the importer's regions): a household is imported whole or not at
all. Each valid household becomes text in PostgreSQL's COPY format: its
``households`` row, its ``members`` rows and its ``household.registered``
outbox row, appended to three blocks per chunk with the offset of each
household in them, so that the parent can leave out a household that
another part of the file or the database already holds.

A million rows pass through here, so the text is written directly rather
than through the event and snapshot objects of the HTTP path; the first
household of every chunk is also built through that path (snapshot,
schema check, envelope) and the two must agree, or the import stops.
``household_text`` defines the text; the C module ``_bulktext`` writes the
same bytes several times faster and is used when it was built.
"""
import csv
import dataclasses
import gc
import json
from datetime import datetime, timezone
from itertools import accumulate
from typing import NamedTuple

from setiakawan_kit import envelope, outbox, topology
from setiakawan_kit.auth import Identity
from setiakawan_kit.contract import registry as contract

from .rules import households as hh
from .rules.matching import MatchKeys, match_key
from .rules.rows import COLUMNS, HOUSEHOLD_COLUMNS, IDENTITY_ORDER, RowError, RowValidator, household_problem
from .rules.welfare import WelfareModel

try:
    from ._bulktext import Writer
except ImportError:  # built without a C compiler: the Python definition does it all
    Writer = None

INDICATOR_NAMES = ("monthly_income", "floor", "wall", "roof", "electricity", "water", "sanitation", "assets")
HOUSEHOLD_COPY = ("households", "id, kk_number, kk_match, street, rt, rw, village_code, indicators, welfare_score,"
                                " decile, status, registering_agency, legal_basis, consent_date,"
                                " consent_recorded_by, import_id")
MEMBER_COPY = ("members", "id, household_id, nik, nik_match, name, name_norm, birth_date, sex, relationship,"
                          " disability, occupation, education, phone, regency_code, village_code")
OUTBOX_COPY = ("kit_outbox", outbox.COPY_COLUMNS)
TABLES = (HOUSEHOLD_COPY, MEMBER_COPY, OUTBOX_COPY)
KINDS = {"household": 1, "member": 2, "event": 3}


class BuilderMismatch(RuntimeError):
    """The fast text of a household differs from the HTTP path's: a bug."""


class Chunk(NamedTuple):
    """A worker's answer for one chunk.

    households: per valid household (kk, niks, spans) where spans are the
    (first, last) file lines of its rows; blocks: COPY text (UTF-8 bytes) for
    households, members and outbox; offsets: per block, where each
    household's text ends (in bytes); rejects: ((first, last), reason) per
    refused row; rows: rows read."""
    households: list
    blocks: tuple
    offsets: tuple
    rejects: list
    rows: int


def row_id(import_id, kind, line):
    """The id of the household, member or event first read from ``line`` of
    this import. Any process of the import computes the same one, and it says
    nothing about the person. It grows with the line (a UUIDv8 made of the
    import's first 48 bits, which are its creation time in milliseconds, then
    the kind and the line), so a million rows append to the primary-key and
    household indexes instead of landing at random pages in them."""
    return f"{import_id[:8]}-{import_id[9:13]}-8{KINDS[kind]}00-8000-{line:012x}"


def id_range(import_id, kind):
    """The lowest and highest id ``row_id`` can give this import and kind."""
    return (f"{import_id[:8]}-{import_id[9:13]}-8{KINDS[kind]}00-8000-000000000000",
            f"{import_id[:8]}-{import_id[9:13]}-8{KINDS[kind]}00-8000-ffffffffffff")


_COPY_BACKSLASH = "\\"
NULL = "\\N"


def _esc(text):
    """Free text in COPY's text format: it reaches here cleaned of tabs and
    line breaks, so only a backslash needs escaping."""
    return text.replace(_COPY_BACKSLASH, "\\\\") if _COPY_BACKSLASH in text else text


class ChunkBuilder:
    """Checks rows and writes the COPY text of valid households; one per
    worker process, fed chunk after chunk."""

    def __init__(self, today, settings, identity, import_id):
        self.today = today
        self.validator = RowValidator(today)
        self.agency = " ".join(identity["agency"].split())  # no tab may reach a COPY line
        self.scope = Identity(identity["agency"], identity.get("kind", ""), identity["role"],
                              tuple(identity["regions"]))
        self.import_id = import_id
        self.model = WelfareModel.from_config(settings["welfare"])
        self._score = self.model.scorer()
        self.secret = settings["match_secret"]
        self.match = MatchKeys(self.secret)
        self.agency_copy = _esc(self.agency)
        self.agency_json = _esc(json.dumps(self.agency, ensure_ascii=False))  # inside COPY text
        self.exchange = topology.exchange_name("registry")
        self.event_type = contract.HOUSEHOLD_REGISTERED
        self.source = envelope.source_of("registry")
        self._id_head = f"{import_id[:8]}-{import_id[9:13]}-8"
        self._ages = {}
        self._writer = None if Writer is None else Writer(
            head=self._id_head, agency_copy=self.agency_copy, agency_json=self.agency_json, import_id=import_id,
            exchange=self.exchange, event_type=self.event_type.name, dataschema=self.event_type.dataschema,
            source=self.source, today=today, child_under=hh.CHILD_UNDER, elderly_from=hh.ELDERLY_FROM,
            secret=self.secret.encode() if isinstance(self.secret, str) else self.secret)

    # -- checking ----------------------------------------------------------
    def chunk(self, first_line, lines, order):
        validator = self.validator
        rows_by_kk, spans, bad_lines, rejects, seen_nik = {}, {}, {}, [], {}
        count = 0
        if order == IDENTITY_ORDER:
            order = IDENTITY_ORDER
        tail = len(COLUMNS) - len(HOUSEHOLD_COLUMNS) if order is IDENTITY_ORDER else 0
        for start, end, fields, length in _records(first_line, lines, tail):
            span = (start, end)
            count += 1
            kk = fields[order[0]] if fields and len(fields) > order[0] else ""
            try:
                if fields is None:
                    raise RowError("not a CSV record (a quote or line break out of place).")
                household, member = validator.row(start, fields, order, length)
            except RowError as exc:
                rejects.append((span, str(exc)))
                bad_lines.setdefault(kk, []).append(start)
                continue
            earlier = seen_nik.setdefault(member.nik, start)
            if earlier != start:
                rejects.append((span, f"nik: the same NIK is on line {earlier} of this file."))
                bad_lines.setdefault(kk, []).append(start)
                continue
            rows = rows_by_kk.get(kk)
            if rows is None:
                rows_by_kk[kk] = [(household, member)]
            else:
                rows.append((household, member))
            spans[start] = span
        valid = []
        for kk, rows in rows_by_kk.items():
            problem = household_problem(rows)
            if problem is None and kk in bad_lines:
                problem = f"other rows of this KK number were rejected (lines {_lines(bad_lines[kk])})."
            if problem is None and not self.scope.covers(rows[0][0].village_code):
                problem = f"village {rows[0][0].village_code} is outside your regions."
            if problem:
                rejects.extend((spans[m.line], f"household: {problem}") for _, m in rows)
                continue
            valid.append((kk, rows))
        return self.build(valid, spans, rejects, count)

    # -- writing -----------------------------------------------------------
    def build(self, valid, spans, rejects, count):
        households, texts = [], ([], [], [])
        time = datetime.now(timezone.utc)
        time_text = time.isoformat().replace("+00:00", "Z")
        for kk, rows in valid:
            households.append((kk, tuple(m.nik for _, m in rows), tuple(spans[m.line] for _, m in rows)))
            for block, text in zip(texts, self.household_bytes(rows, time_text)):
                block.append(text)
        if valid:
            self.check_against_reference(valid[0][1], time, [t[0].decode() for t in texts])
        blocks, offsets = zip(*(_encoded(t) for t in texts)) if texts else ((), ())
        return Chunk(households, blocks, offsets, rejects, count)

    def household_bytes(self, rows, time_text):
        """``household_text`` as UTF-8, written by the C module if built."""
        if self._writer is None:
            return tuple(text.encode() for text in self.household_text(rows, time_text))
        score, decile = self.score(rows)
        return self._writer.household(rows, time_text, score, decile)

    def score(self, rows):
        income, *choices, assets = rows[0][0].indicators
        score = self._score(income, tuple(choices), assets, len(rows))
        return score, self.model.decile(score)

    def household_text(self, rows, time_text):
        """(household line, member lines, outbox line) of one household."""
        first = rows[0][0]
        head, village, match = self._id_head, first.village_code, self.match
        household_id = f"{head}100-8000-{rows[0][1].line:012x}"
        kk_match = match("kk", first.kk_number)
        income, floor, wall, roof, electricity, water, sanitation, assets = first.indicators
        score, decile = self.score(rows)
        assets_json = ",".join(f'"{a}"' for a in assets)
        household_line = (
            f"{household_id}\t{first.kk_number}\t{kk_match}\t{_esc(first.street)}\t{first.rt}\t{first.rw}\t{village}\t"
            f'{{"monthly_income":{income},"floor":"{floor}","wall":"{wall}","roof":"{roof}",'
            f'"electricity":"{electricity}","water":"{water}","sanitation":"{sanitation}",'
            f'"assets":[{assets_json}]}}\t'
            f"{score!r}\t{decile}\tregistered\t{self.agency_copy}\t{first.legal_basis}\t{first.consent_date or NULL}\t"
            f"{_esc(first.consent_recorded_by) or NULL}\t{self.import_id}\n")
        member_lines, member_json = [], []
        children = elderly = disabled = 0
        for _, m in rows:
            member_id = f"{head}200-8000-{m.line:012x}"
            nik_match = match("nik", m.nik)
            born = m.birth_date
            age = self._ages.get(born)
            if age is None:
                age = self._ages[born] = hh.age_on(born, self.today)
            children += age < hh.CHILD_UNDER
            elderly += age >= hh.ELDERLY_FROM
            disability = m.disability != "none"
            disabled += disability
            member_lines.append(
                f"{member_id}\t{household_id}\t{m.nik}\t{nik_match}\t{_esc(m.name)}\t{m.name_norm}\t{born.isoformat()}\t"
                f"{m.sex}\t{m.relationship}\t{m.disability}\t{_esc(m.occupation)}\t{m.education}\t{m.phone or NULL}\t"
                f"{village[:5]}\t{village}\n")
            member_json.append(
                f'{{"person_ref":"{member_id}","nik_match":"{nik_match}","age":{age},"sex":"{m.sex}",'
                f'"relationship":"{m.relationship}","disability":{"true" if disability else "false"}}}')
        body = (f'{{"household":{{"household_id":"{household_id}","version":1,"kk_match":"{kk_match}",'
                f'"village_code":"{village}","district_code":"{village[:8]}","regency_code":"{village[:5]}",'
                f'"province_code":"{village[:2]}","status":"registered","welfare_score":{score!r},'
                f'"decile":{decile},"size":{len(rows)},"children":{children},"elderly":{elderly},'
                f'"disabled":{disabled},"registering_agency":{self.agency_json},'
                f'"members":[{",".join(member_json)}]}}}}')
        event_id = f"{head}300-8000-{rows[0][1].line:012x}"
        headers = (f'{{"ce-id": "{event_id}", "ce-source": "{self.source}", '
                   f'"ce-type": "{self.event_type.name}", "ce-specversion": "1.0", "ce-time": "{time_text}", '
                   f'"ce-subject": "{household_id}", "ce-dataschema": "{self.event_type.dataschema}", '
                   f'"ce-correlationid": "{self.import_id}", "ce-agency": {self.agency_json}}}')
        outbox_line = (f"{event_id}\t{self.exchange}\t{self.event_type.name}\t{household_id}\t"
                                 f"{headers}\tapplication/json\t{body}\n")
        return household_line, "".join(member_lines), outbox_line

    def check_against_reference(self, rows, time, fast):
        """Build one household through the HTTP path's snapshot, schema check
        and envelope, and require the same rows and event."""
        first = rows[0][0]
        household_id = row_id(self.import_id, "household", rows[0][1].line)
        income, *choices, assets = first.indicators
        indicators = {"monthly_income": income, **dict(zip(INDICATOR_NAMES[1:7], choices)), "assets": list(assets)}
        score = self.model.score(indicators, len(rows))
        stored = {"id": household_id, "kk_number": first.kk_number, "kk_match": self._match("kk", first.kk_number),
                  "village_code": first.village_code, "welfare_score": score, "decile": self.model.decile(score),
                  "status": "registered", "registering_agency": self.agency, "version": 1}
        members = [{"id": row_id(self.import_id, "member", m.line), "nik_match": self._match("nik", m.nik),
                    "birth_date": m.birth_date, "sex": m.sex, "relationship": m.relationship,
                    "disability": m.disability} for _, m in rows]
        event = outbox.new_event(self.event_type, household_id, {"household": hh.snapshot(stored, members, self.today)},
                                 service="registry", agency=self.agency, correlationid=self.import_id, plain=True)
        event = dataclasses.replace(event, id=row_id(self.import_id, "event", rows[0][1].line), time=time)
        reference = _unescape(outbox.copy_line(event, "registry")).rstrip("\n").split("\t")
        got = _unescape(fast[2]).rstrip("\n").split("\t")
        same = (len(got) == len(reference) and got[:4] + got[5:6] == reference[:4] + reference[5:6]
                and json.loads(got[4]) == json.loads(reference[4]) and json.loads(got[6]) == json.loads(reference[6])
                and fast[0].split("\t")[:3] == [household_id, first.kk_number, stored["kk_match"]]
                and json.loads(fast[0].split("\t")[7]) == indicators)
        if not same:
            raise BuilderMismatch(f"the bulk text of household {household_id} differs from the HTTP path's")

    def _match(self, kind, number):
        return match_key(self.secret, kind, number)


def _records(first_line, lines, tail=0):
    """(first line, last line, fields, length of the line or None) of each CSV
    record: a line without a quote is split on commas, which is what the csv
    module makes of it, and a quoted record (which may span lines) goes
    through the csv module. With ``tail``, the number of member columns that
    end each line, a line that starts like the one before (the same
    household) reuses that line's leading fields: only its tail is split."""
    i, n = 0, len(lines)
    head, head_fields = None, None
    while i < n:
        text = lines[i]
        if '"' not in text and "\r" not in text[:-2]:
            text = text.rstrip("\r\n")
            if tail:
                parts = text.rsplit(",", tail)
                if parts[0] == head and len(parts) == tail + 1:
                    fields = head_fields + parts[1:]
                else:
                    fields = text.split(",") if text else []
                    head, head_fields = (parts[0], fields[:-tail]) if len(parts) == tail + 1 else (None, None)
            else:
                fields = text.split(",") if text else []
            yield first_line + i, first_line + i, fields, len(text)
            i += 1
            continue
        j, quotes = i + 1, text.count('"')
        while quotes % 2 and j < n:
            quotes += lines[j].count('"')
            j += 1
        reader, done = csv.reader(lines[i:j]), 0
        try:
            for fields in reader:
                yield first_line + i + done, first_line + i + reader.line_num - 1, fields, None
                done = reader.line_num
        except csv.Error:
            yield first_line + i + done, first_line + j - 1, None, None
        i = j


def _encoded(pieces):
    """The UTF-8 pieces as one block and where each ends in it: bytes cross to
    the parent and on to PostgreSQL without being decoded and encoded again."""
    return b"".join(pieces), list(accumulate(map(len, pieces)))


def _unescape(copy_text):
    return copy_text.replace("\\\\", "\\")


def _lines(lines):
    shown = ", ".join(map(str, sorted(lines)[:5]))
    return shown + ("…" if len(lines) > 5 else "")


# -- the worker process's entry points (multiprocessing.Pool) -------------------
_builder = None


def init_worker(today, settings, identity, import_id):
    global _builder
    # A chunk makes hundreds of thousands of short-lived tuples and lists and
    # no reference cycles: the cyclic collector would take a third of the
    # time walking them. The worker lives for one import.
    gc.disable()
    _builder = ChunkBuilder(today, settings, identity, import_id)


def process_chunk(job):
    first_line, lines, order = job
    return _builder.chunk(first_line, lines, order)
