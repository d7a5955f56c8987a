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
``household_text`` defines the text. The C module ``_bulktext``, when it
was built, does the common case several times faster: its scanner checks
the households it can vouch for and writes their text, and leaves every
other line to the rules here, in file order (``chunk``).
"""
import csv
import dataclasses
import gc
import json
import logging
from datetime import datetime, timezone
from itertools import accumulate
from typing import NamedTuple

from setiakawan_contract import envelope
from setiakawan_kit import outbox, topology
from setiakawan_kit.auth import Identity
from setiakawan_contract import registry as contract

from .rules import households as hh
from .rules import regions, welfare
from .rules.rows import (COLUMNS, HOUSEHOLD_COLUMNS, IDENTITY_ORDER, MAX_FIELD, SEXES, RowError, RowValidator,
                         household_problem)
from .rules.welfare import WelfareModel

log = logging.getLogger(__name__)

try:
    from ._bulktext import Writer
    WRITER_MISSING = None
except ImportError as exc:  # built without a C compiler: the Python definition does it all
    Writer = None
    WRITER_MISSING = str(exc)


def import_path():
    """Which path bulk imports take here: the C accelerator, or Python alone
    (several times slower) and why."""
    if Writer is not None:
        return {"bulk_import": "c"}
    return {"bulk_import": "python", "bulk_import_reason": f"the C accelerator is not built ({WRITER_MISSING})"}

INDICATOR_NAMES = ("monthly_income", "floor", "wall", "roof", "electricity", "water", "sanitation", "assets")
HOUSEHOLD_COPY = ("households", "id, kk_number, street, rt, rw, village_code, indicators, welfare_score,"
                                " decile, status, registering_agency, legal_basis, consent_date,"
                                " consent_recorded_by, import_id")
MEMBER_COPY = ("members", "id, household_id, nik, name, name_norm, birth_date, sex, relationship,"
                          " disability, occupation, education, phone, regency_code, village_code")
OUTBOX_COPY = ("kit_outbox", outbox.COPY_COLUMNS)
TABLES = (HOUSEHOLD_COPY, MEMBER_COPY, OUTBOX_COPY)
KINDS = {"household": 1, "member": 2, "event": 3}


class BuilderMismatch(RuntimeError):
    """The fast text of a household differs from the HTTP path's: a bug."""


class Scanned(NamedTuple):
    """A household the C scanner checked and wrote (``Writer.scan``): the
    chunk's lines ``start:end`` are its rows."""
    start: int
    end: int
    kk: str
    village: str
    niks: tuple
    spans: tuple
    household: bytes
    members: bytes
    event: bytes


class _Checked:
    """What the checking of a chunk has found so far."""

    def __init__(self, first_line, lines):
        self.first_line, self.lines = first_line, lines
        self.groups = {}     # kk -> [(Household, Member)] or Scanned, in order of first appearance
        self.spans = {}      # first line -> (first, last) line of each valid row
        self.bad_lines = {}  # kk -> lines of its refused rows
        self.rejects = []    # ((first, last), reason)
        self.seen_nik = {}   # nik -> the first line it was on
        self.count = 0


class Chunk(NamedTuple):
    """A worker's answer for one chunk.

    households: per valid household (kk, niks, spans) where spans are the
    (first, last) file lines of its rows; blocks: COPY text (UTF-8 bytes) for
    households, members and outbox; offsets: per block, where each
    household's text ends (in bytes); rejects: ((first, last), reason) per
    refused row; rows: rows read. No two households share a KK number or a
    NIK."""
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

    def __init__(self, today, settings, identity, import_id, fast=True):
        self.today = today
        self.validator = RowValidator(today)
        self.agency = " ".join(identity["agency"].split())  # no tab may reach a COPY line
        self.scope = Identity(identity["agency"], identity.get("kind", ""), identity["role"],
                              tuple(identity["regions"]))
        self.import_id = import_id
        self.model = WelfareModel.from_config(settings["welfare"])
        self._score = self.model.scorer()
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
            source=self.source, today=today, child_under=hh.CHILD_UNDER, elderly_from=hh.ELDERLY_FROM)
        self.fast = fast and self._writer is not None
        self.fast_households = 0  # written by the C scanner
        self._scanning_for = None
        self._covered = {}  # village -> within the importer's regions

    # -- checking ----------------------------------------------------------
    def chunk(self, first_line, lines, order, now=None):
        """Check the chunk's rows and write the text of its valid households.
        The C scanner, if built, takes the households it can vouch for; the
        rest of the lines go through the rules here, in file order, as if the
        whole chunk did (a fast household that turns out to share a KK number
        or a NIK with other lines is checked here too)."""
        time = now or datetime.now(timezone.utc)
        time_text = time.isoformat().replace("+00:00", "Z")
        scanner = self._scanner(order)
        units = scanner.scan(lines, first_line, time_text) if scanner else [(0, len(lines))]
        state, covered = _Checked(first_line, lines), self._covered
        groups, seen_nik = state.groups, state.seen_nik
        for unit in units:
            if len(unit) == 2:
                self._check(state, first_line, lines[unit[0]:unit[1]], unit[0], order)
                continue
            start, end, kk, _, niks = unit[:5]
            if kk in groups or not seen_nik.keys().isdisjoint(niks):
                self._check(state, first_line, lines[start:end], start, order)
                continue
            state.count += end - start
            seen_nik.update(zip(niks, range(first_line + start, first_line + end)))
            groups[kk] = Scanned._make(unit)
        valid = []
        for kk, group in groups.items():
            if type(group) is Scanned:
                problem, village, spans = None, group.village, group.spans
            else:
                problem, village = household_problem(group), group[0][0].village_code
                spans = [state.spans[m.line] for _, m in group]
            if problem is None and kk in state.bad_lines:
                problem = f"other rows of this KK number were rejected (lines {_lines(state.bad_lines[kk])})."
            if problem is None:
                inside = covered.get(village)
                if inside is None:
                    inside = covered[village] = self.scope.covers(village)
                if not inside:
                    problem = f"village {village} is outside your regions."
            if problem:
                state.rejects.extend((span, f"household: {problem}") for span in spans)
                continue
            valid.append((kk, group))
        return self.build(valid, state, time, order)

    def _check(self, state, first_line, lines, start, order):
        """Check lines with the rules, one record after the other."""
        validator, groups, seen_nik = self.validator, state.groups, state.seen_nik
        tail = len(COLUMNS) - len(HOUSEHOLD_COLUMNS) if order == IDENTITY_ORDER else 0
        for first, last, fields, length in _records(first_line + start, lines, tail):
            span = (first, last)
            state.count += 1
            kk = fields[order[0]] if fields and len(fields) > order[0] else ""
            try:
                if fields is None:
                    raise RowError("not a CSV record (a quote or line break out of place).")
                household, member = validator.row(first, fields, order, length)
            except RowError as exc:
                state.rejects.append((span, str(exc)))
                state.bad_lines.setdefault(kk, []).append(first)
                continue
            earlier = seen_nik.setdefault(member.nik, first)
            if earlier != first:
                state.rejects.append((span, f"nik: the same NIK is on line {earlier} of this file."))
                state.bad_lines.setdefault(kk, []).append(first)
                continue
            rows = groups.get(kk)
            if rows is None:
                groups[kk] = [(household, member)]
            else:
                if type(rows) is Scanned:  # more rows of a household the scanner wrote: checked here
                    rows = groups[kk] = self._rows_of(rows, state, order)
                    state.spans.update((m.line, (m.line, m.line)) for _, m in rows)
                rows.append((household, member))
            state.spans[first] = span

    def _rows_of(self, scanned, state, order):
        """The (Household, Member) rows of a household the scanner wrote, by
        the rules; they must take every one of them."""
        rows = []
        lines = state.lines[scanned.start:scanned.end]
        for first, _, fields, length in _records(state.first_line + scanned.start, lines):
            try:
                rows.append(self.validator.row(first, fields, order, length))
            except (RowError, TypeError) as exc:
                raise BuilderMismatch(f"the C scanner took line {first}, which the rules refuse: {exc}") from None
        return rows

    def _scanner(self, order):
        """The C writer, told the rules for this column order; None without it."""
        if not self.fast:
            return None
        if self._scanning_for != order:
            try:
                self._writer.rules(**self._scanner_rules(order))
            except (MemoryError, ValueError) as exc:  # rules beyond what it is built for: Python does it all
                log.warning("the C scanner is not used: %s", exc)
                self.fast = False
                return None
            self._scanning_for = list(order)
        return self._writer

    def _scanner_rules(self, order):
        weights = self.model.weights
        return dict(
            choices=[tuple(values) for values in welfare.CHOICES.values()], assets=sorted(welfare.ASSETS),
            relationships=hh.RELATIONSHIPS, disabilities=hh.DISABILITIES, education=hh.EDUCATION,
            legal_bases=hh.LEGAL_BASES, sexes=SEXES, order=order, max_field=MAX_FIELD, street_max=hh.STREET_MAX,
            name_max=hh.NAME_MAX, occupation_max=hh.OCCUPATION_MAX, recorded_by_max=hh.RECORDED_BY_MAX,
            income_max=hh.INCOME_MAX, max_members=hh.MAX_MEMBERS, district_exists=regions.district_exists,
            village_exists=_village_exists, terms_of=self.model.terms, income_index=list(weights).index("income"),
            n_terms=len(weights), income_weight=weights["income"], income_scale=3 * self.model.poverty_line,
            total=sum(weights.values()), cut_points=self.model.cut_points)

    # -- writing -----------------------------------------------------------
    def build(self, valid, state, time, order):
        households, texts = [], ([], [], [])
        time_text = time.isoformat().replace("+00:00", "Z")
        checked_scanner = False
        for kk, group in valid:
            if type(group) is Scanned:
                households.append((kk, group.niks, group.spans))
                written = group[6:]
                if not checked_scanner:  # the first of each chunk is also written from the rules' rows
                    checked_scanner = True
                    if written != self.household_bytes(self._rows_of(group, state, order), time_text, scanner=False):
                        raise BuilderMismatch(f"the C scanner wrote line {group.spans[0][0]}'s household "
                                              "differently from the rules")
            else:
                households.append((kk, tuple(m.nik for _, m in group), tuple(state.spans[m.line] for _, m in group)))
                written = self.household_bytes(group, time_text)
            for block, text in zip(texts, written):
                block.append(text)
        if valid:
            kk, group = valid[0]
            rows = self._rows_of(group, state, order) if type(group) is Scanned else group
            self.check_against_reference(rows, time, [t[0].decode() for t in texts])
        blocks, offsets = zip(*(_encoded(t) for t in texts)) if texts else ((), ())
        self.fast_households += sum(type(group) is Scanned for _, group in valid)
        return Chunk(households, blocks, offsets, state.rejects, state.count)

    def household_bytes(self, rows, time_text, scanner=True):
        """``household_text`` as UTF-8, written by the C module if built
        (``scanner=False``: by Python, whatever is built)."""
        if self._writer is None or not scanner:
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
        head, village = self._id_head, first.village_code
        household_id = f"{head}100-8000-{rows[0][1].line:012x}"
        income, floor, wall, roof, electricity, water, sanitation, assets = first.indicators
        score, decile = self.score(rows)
        assets_json = ",".join(f'"{a}"' for a in assets)
        household_line = (
            f"{household_id}\t{first.kk_number}\t{_esc(first.street)}\t{first.rt}\t{first.rw}\t{village}\t"
            f'{{"monthly_income":{income},"floor":"{floor}","wall":"{wall}","roof":"{roof}",'
            f'"electricity":"{electricity}","water":"{water}","sanitation":"{sanitation}",'
            f'"assets":[{assets_json}]}}\t'
            f"{score!r}\t{decile}\tregistered\t{self.agency_copy}\t{first.legal_basis}\t{first.consent_date or NULL}\t"
            f"{_esc(first.consent_recorded_by) or NULL}\t{self.import_id}\n")
        member_lines, member_json = [], []
        children = elderly = disabled = 0
        for _, m in rows:
            member_id = f"{head}200-8000-{m.line:012x}"
            born = m.birth_date
            age = self._ages.get(born)
            if age is None:
                age = self._ages[born] = hh.age_on(born, self.today)
            children += age < hh.CHILD_UNDER
            elderly += age >= hh.ELDERLY_FROM
            disability = m.disability != "none"
            disabled += disability
            member_lines.append(
                f"{member_id}\t{household_id}\t{m.nik}\t{_esc(m.name)}\t{m.name_norm}\t{born.isoformat()}\t"
                f"{m.sex}\t{m.relationship}\t{m.disability}\t{_esc(m.occupation)}\t{m.education}\t{m.phone or NULL}\t"
                f"{village[:5]}\t{village}\n")
            member_json.append(
                f'{{"person_ref":"{member_id}","age":{age},"sex":"{m.sex}","relationship":"{m.relationship}",'
                f'"disability":{"true" if disability else "false"}}}')
        body = (f'{{"household":{{"household_id":"{household_id}","version":1,"village_code":"{village}",'
                f'"district_code":"{village[:8]}","regency_code":"{village[:5]}","province_code":"{village[:2]}",'
                f'"status":"registered","welfare_score":{score!r},'
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
        stored = {"id": household_id, "kk_number": first.kk_number, "village_code": first.village_code,
                  "welfare_score": score, "decile": self.model.decile(score), "status": "registered",
                  "registering_agency": self.agency, "version": 1}
        members = [{"id": row_id(self.import_id, "member", m.line), "birth_date": m.birth_date, "sex": m.sex,
                    "relationship": m.relationship, "disability": m.disability} for _, m in rows]
        event = outbox.new_event(self.event_type, household_id, {"household": hh.snapshot(stored, members, self.today)},
                                 service="registry", agency=self.agency, correlationid=self.import_id, plain=True)
        event = dataclasses.replace(event, id=row_id(self.import_id, "event", rows[0][1].line), time=time)
        reference = _unescape(outbox.copy_line(event, "registry")).rstrip("\n").split("\t")
        got = _unescape(fast[2]).rstrip("\n").split("\t")
        same = (len(got) == len(reference) and got[:4] + got[5:6] == reference[:4] + reference[5:6]
                and json.loads(got[4]) == json.loads(reference[4]) and json.loads(got[6]) == json.loads(reference[6])
                and fast[0].split("\t")[:2] == [household_id, first.kk_number]
                and json.loads(fast[0].split("\t")[6]) == indicators)
        if not same:
            raise BuilderMismatch(f"the bulk text of household {household_id} differs from the HTTP path's")


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


def _village_exists(code):
    return regions.village(code) is not None


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
