"""Bulk import of an existing list (CSV, one row per member, the rows of a
household together).

Runs as its own process (``python -m setiakawan_registry.importer``), started
by the service for each upload, so a million rows use every core and never
hold up the service's green threads. The file is read in chunks that end
between two households; for each chunk, in a worker process:

* every row is checked with the registry's rules (``rules.rows``), then the
  household rules (one head, the same household columns on every row, a
  village in the importer's regions): a household is imported whole or not
  at all;
* each valid household is turned into the COPY lines of its household row,
  its members and its ``household.registered`` event.

The parent, in file order, drops households whose KK number is registered
already (a re-run of the same file is harmless: they count as already
registered), whose NIK is registered in another household, or repeats a NIK
earlier in the file; it writes the rest of the chunk with COPY in one
transaction (households point at the import, which is their history entry)
while the workers prepare the next chunks. Then likely duplicates of the new
members are flagged for review. Rejected rows, with their reasons, are
stored for download as CSV; progress is written to the ``imports`` row.
"""
import argparse
import csv
import io
import json
import multiprocessing
import os
import sys
import uuid
from collections import deque
from datetime import date

import psycopg2

from setiakawan_kit import outbox
from setiakawan_kit.contract import registry as contract
from setiakawan_kit.outbox import copy_row, copy_text

from .rules import duplicates, households as hh
from .storage import region_keys
from .rules.matching import match_key
from .rules.rows import HeaderError, RowError, RowValidator, column_order, household_problem
from .rules.welfare import WelfareModel

CHUNK_ROWS = 20_000
COPY_BLOCK = 1 << 20  # bytes per COPY message; psycopg2's 8 KiB default costs a call per 8 KiB
INDICATOR_NAMES = ("monthly_income", "floor", "wall", "roof", "electricity", "water", "sanitation", "assets")


class ImportFailed(Exception):
    pass


KINDS = {"household": 1, "member": 2}


def row_id(import_id, kind, line):
    """The id of the household or member first read from ``line`` of this
    import. Any process of the import computes the same one, and it says
    nothing about the person. It grows with the line (a UUIDv8 made of the
    import's first 48 bits, which are its creation time in milliseconds, then
    the kind and the line), so a million rows append to the primary-key and
    household indexes instead of landing at random pages in them."""
    prefix = int(import_id.replace("-", "")[:12], 16)
    value = (prefix << 80) | (0x8 << 76) | (KINDS[kind] << 72) | (0b10 << 62) | line
    return str(uuid.UUID(int=value))


# -- in the worker processes ---------------------------------------------------
_worker = {}


def _init_worker(today, settings, identity, import_id):
    identity = dict(identity, agency=" ".join(identity["agency"].split()))  # no tab may reach a COPY line
    _worker.update(validator=RowValidator(today), today=today, identity=identity, import_id=import_id,
                   model=WelfareModel.from_config(settings["welfare"]), secret=settings["match_secret"])


def process_chunk(job):
    """Check a chunk's rows and build its valid households.

    Returns (households, rejects, rows): households as tuples (kk, niks,
    spans, texts, people) where texts are the COPY lines of the household,
    its members and its event; rejects as ((first line, last line), reason, kk)."""
    first_line, lines, order = job
    validator, regions = _worker["validator"], _worker["identity"]["regions"]
    rows_by_kk, spans, bad_lines, rejects, seen_nik = {}, {}, {}, [], {}
    reader = csv.reader(lines)
    previous = 0
    count = 0
    for fields in reader:
        start, previous = first_line + previous, reader.line_num
        span = (start, first_line + previous - 1)
        count += 1
        kk = fields[order[0]] if len(fields) > order[0] else ""
        try:
            household, member = validator.row(start, fields, order)
        except RowError as exc:
            rejects.append((span, str(exc), kk))
            bad_lines.setdefault(kk, []).append(start)
            continue
        earlier = seen_nik.setdefault(member.nik, start)
        if earlier != start:
            rejects.append((span, f"nik: the same NIK is on line {earlier} of this file.", kk))
            bad_lines.setdefault(kk, []).append(start)
            continue
        rows_by_kk.setdefault(kk, []).append((household, member))
        spans[start] = span
    households = []
    for kk, rows in rows_by_kk.items():
        problem = household_problem(rows)
        if problem is None and kk in bad_lines:
            problem = f"other rows of this KK number were rejected (lines {_lines(bad_lines[kk])})."
        if problem is None and not _covers(regions, rows[0][0].village_code):
            problem = f"village {rows[0][0].village_code} is outside your regions."
        if problem:
            rejects.extend((spans[m.line], f"household: {problem}", kk) for _, m in rows)
            continue
        households.append((kk, [m.nik for _, m in rows], [spans[m.line] for _, m in rows], *_build(rows)))
    return households, rejects, count


def _build(rows):
    w = _worker
    import_id, identity, model, secret = w["import_id"], w["identity"], w["model"], w["secret"]
    first = rows[0][0]
    household_id = row_id(import_id, "household", rows[0][1].line)
    income, *choices, assets = first.indicators
    indicators = {"monthly_income": income, **dict(zip(INDICATOR_NAMES[1:7], choices)), "assets": list(assets)}
    score = model.score(indicators, len(rows))
    stored = {"id": household_id, "kk_number": first.kk_number, "kk_match": match_key(secret, "kk", first.kk_number),
              "village_code": first.village_code, "welfare_score": score, "decile": model.decile(score),
              "status": "registered", "registering_agency": identity["agency"], "version": 1}
    household_text = copy_row((
        household_id, first.kk_number, stored["kk_match"], first.street, first.rt, first.rw, first.village_code,
        json.dumps(indicators), score, stored["decile"], "registered", identity["agency"], first.legal_basis,
        first.consent_date or None, first.consent_recorded_by or None, import_id))
    regions_literal = "{" + ",".join(region_keys(first.village_code)) + "}"
    members, member_lines, people = [], [], []
    for _, m in rows:
        member_id = row_id(import_id, "member", m.line)
        nik_match = match_key(secret, "nik", m.nik)
        members.append({"id": member_id, "nik_match": nik_match, "birth_date": m.birth_date, "sex": m.sex,
                        "relationship": m.relationship, "disability": m.disability})
        member_lines.append(copy_row((
            member_id, household_id, m.nik, nik_match, m.name, m.name_norm, m.birth_date.isoformat(), m.sex,
            m.relationship, m.disability, m.occupation, m.education, m.phone or None,
            first.village_code[:5], first.village_code, regions_literal)))
        # a plain tuple of strings crosses the process boundary much faster than a named one
        people.append((member_id, household_id, m.nik, m.birth_date.isoformat(), first.village_code[:5],
                       first.village_code, m.name_norm, m.line))
    event = outbox.new_event(contract.HOUSEHOLD_REGISTERED, household_id,
                             {"household": hh.snapshot(stored, members, w["today"])},
                             service="registry", agency=identity["agency"], correlationid=import_id, plain=True)
    return (household_text, "".join(member_lines), outbox.copy_line(event, "registry")), people


# -- the parent -----------------------------------------------------------------
class Importer:
    def __init__(self, dsn, import_id, path, settings, identity, workers=None, today=None):
        self.dsn = dsn
        self.import_id = str(import_id)
        self.path = path
        self.settings = {"welfare": settings.get("welfare") or {}, "match_secret": settings["match_secret"]}
        self.identity = identity
        self.workers = workers or max(2, os.cpu_count() or 2)
        self.today = today or date.today()
        self.conn = None
        self.stats = {"total_rows": 0, "processed_rows": 0, "accepted_rows": 0, "already_registered": 0,
                      "rejected_rows": 0, "households_created": 0}
        self.rejected = {}     # first line -> (reason, row text)
        self.seen_nik = {}     # nik -> the line it was first imported (or skipped) from
        self.seen_kk = {}      # kk -> first line
        self.people = []       # new members, for the likely-duplicate pass

    def run(self):
        self.conn = psycopg2.connect(self.dsn)
        try:
            self._set(status="running", stage="importing", started_at="now", pid=os.getpid())
            with self.conn.cursor() as cur:
                # bulk GIN insertion: keep new trigram entries in the pending list; flushed at the end
                cur.execute("SET gin_pending_list_limit = '256MB'")
                cur.execute("SELECT EXISTS (SELECT 1 FROM members)")
                self.had_members = cur.fetchone()[0]
            self.conn.commit()
            order = self._header()
            context = multiprocessing.get_context("fork")
            with context.Pool(self.workers, _init_worker,
                              (self.today, self.settings, self.identity, self.import_id)) as pool:
                self.store(pool, order)
            self.flag()
            self._set(status="completed", stage="done", finished_at="now")
        except (ImportFailed, HeaderError) as exc:
            self.conn.rollback()
            self._set(status="failed", error=str(exc), finished_at="now")
            raise
        except Exception as exc:
            self.conn.rollback()
            self._set(status="failed", error=f"{type(exc).__name__}: {exc}", finished_at="now")
            raise
        finally:
            self.conn.close()
        return self.stats

    def _header(self):
        try:
            with open(self.path, newline="", encoding="utf-8-sig", errors="strict") as f:
                header = next(csv.reader([f.readline()]), None)
        except UnicodeDecodeError:
            raise ImportFailed("The file is not UTF-8 text.") from None
        if not header:
            raise ImportFailed("The file is empty.")
        return column_order(header)

    def _chunks(self, order, sent):
        """(first line, lines, order) of about CHUNK_ROWS rows, cut only
        between two KK numbers (and outside a quoted field)."""
        kk_at = order[0]
        with open(self.path, newline="", encoding="utf-8-sig", errors="strict") as f:
            f.readline()
            lines, first, line_no, quotes, last_kk = [], 2, 2, 0, None
            for text in f:
                if quotes % 2 == 0 and len(lines) >= CHUNK_ROWS:
                    kk = _kk_of(text, kk_at)
                    if kk != last_kk:
                        sent.append((first, lines))
                        yield first, lines, order
                        lines, first, quotes = [], line_no, 0
                if quotes % 2 == 0:
                    last_kk = _kk_of(text, kk_at)
                lines.append(text)
                quotes += text.count('"')
                line_no += 1
            if lines:
                sent.append((first, lines))
                yield first, lines, order

    def store(self, pool, order):
        sent = deque()
        try:
            for households, rejects, count in pool.imap(process_chunk, self._chunks(order, sent)):
                first, lines = sent.popleft()

                def text(span):
                    return "".join(lines[span[0] - first:span[1] - first + 1]).rstrip("\r\n")

                for span, reason, _ in rejects:
                    self.rejected[span[0]] = (reason, text(span))
                self._write(households, text)
                self.stats["processed_rows"] += count
                self._set(**{k: self.stats[k] for k in ("processed_rows", "households_created", "accepted_rows",
                                                        "already_registered")})
        except UnicodeDecodeError:
            raise ImportFailed("The file is not UTF-8 text.") from None
        self.stats["total_rows"] = self.stats["processed_rows"]
        self.stats["rejected_rows"] = len(self.rejected)
        with self.conn.cursor() as cur:
            rows = "".join("\t".join(map(copy_text, (self.import_id, line, reason, row))) + "\n"
                           for line, (reason, row) in sorted(self.rejected.items()))
            cur.execute("DELETE FROM import_rejections WHERE import_id = %s", (self.import_id,))
            cur.copy_expert("COPY import_rejections (import_id, line, reason, row_text) FROM STDIN", io.StringIO(rows))
            cur.execute("UPDATE imports SET rejected_rows = %s, total_rows = %s WHERE id = %s",
                        (len(self.rejected), self.stats["total_rows"], self.import_id))
        self.conn.commit()

    def _write(self, households, text):
        """Drop what the chunk cannot add, then COPY the rest in one transaction."""
        registered_kk, registered_nik = self._registered(households) if self.had_members else ({}, {})
        keep = []
        for kk, niks, spans, texts, people in households:
            reason = self._refusal(kk, niks, spans, registered_kk, registered_nik)
            if reason == "already registered":
                self.stats["already_registered"] += len(niks)
            elif reason:
                for span, nik_reason in zip(spans, reason):
                    self.rejected[span[0]] = (nik_reason, text(span))
            else:
                keep.append((texts, people))
            self.seen_kk.setdefault(kk, spans[0][0])
            for nik, span in zip(niks, spans):
                self.seen_nik.setdefault(nik, span[0])
        if not keep:
            return
        with self.conn.cursor() as cur:
            for table, columns, index in (
                    ("households", "id, kk_number, kk_match, street, rt, rw, village_code, indicators, welfare_score,"
                                   " decile, status, registering_agency, legal_basis, consent_date,"
                                   " consent_recorded_by, import_id", 0),
                    ("members", "id, household_id, nik, nik_match, name, name_norm, birth_date, sex, relationship,"
                                " disability, occupation, education, phone, regency_code, village_code, regions", 1),
                    ("kit_outbox", outbox.COPY_COLUMNS, 2)):
                cur.copy_expert(f"COPY {table} ({columns}) FROM STDIN",
                                io.StringIO("".join(texts[index] for texts, _ in keep)), size=COPY_BLOCK)
            outbox.notify(cur)
        self.conn.commit()
        for _, people in keep:
            self.people.extend(people)
        self.stats["households_created"] += len(keep)
        self.stats["accepted_rows"] += sum(len(people) for _, people in keep)

    def _refusal(self, kk, niks, spans, registered_kk, registered_nik):
        """None to import the household; "already registered"; or a reason per row."""
        existing = registered_kk.get(kk)
        if existing:
            if all(registered_nik.get(nik) == existing[0] for nik in niks):
                return "already registered"
            where = existing[0] if _covers(self.identity["regions"], existing[1]) else "by another agency"
            return [f"kk_number: already registered ({where}); add members through the API."] * len(niks)
        if kk in self.seen_kk:
            return [f"household: rows of this KK number are also on line {self.seen_kk[kk]}; "
                    "a household's rows must be together in the file."] * len(niks)
        clash = next((i for i, nik in enumerate(niks) if nik in registered_nik), None)
        if clash is not None:
            return [("nik: already registered in another household." if i == clash else
                     f"household: line {spans[clash][0]} has a NIK registered in another household.")
                    for i in range(len(niks))]
        repeat = next((i for i, nik in enumerate(niks) if nik in self.seen_nik), None)
        if repeat is not None:
            return [(f"nik: the same NIK is on line {self.seen_nik[niks[i]]} of this file." if i == repeat else
                     f"household: other rows of this KK number were rejected (lines {spans[repeat][0]}).")
                    for i in range(len(niks))]
        return None

    def _registered(self, households):
        kks = [h[0] for h in households]
        niks = [nik for h in households for nik in h[1]]
        with self.conn.cursor() as cur:
            cur.execute("SELECT kk_number, id, village_code FROM households"
                        " WHERE kk_number = ANY(%s) AND merged_into IS NULL", (kks,))
            registered_kk = {kk: (str(hid), village) for kk, hid, village in cur.fetchall()}
            cur.execute("SELECT nik, household_id FROM members WHERE nik = ANY(%s) AND removed_at IS NULL", (niks,))
            registered_nik = {nik: str(hid) for nik, hid in cur.fetchall()}
        return registered_kk, registered_nik

    def flag(self):
        """Likely duplicates among the new members (in Python: they are all in
        memory) and, if the registry held members before, against those."""
        self._set(stage="flagging")
        self.people = [duplicates.Person._make(p) for p in self.people]
        pairs = duplicates.likely_pairs(self.people)
        reason = duplicates.likely_duplicate_reason
        with self.conn.cursor() as cur:
            rows = "".join("\t".join(map(copy_text, (
                str(uuid.uuid4()), newer.member_id, older.member_id, score, reason(score), newer.village,
                older.village))) + "\n" for newer, older, score in pairs)
            cur.copy_expert("COPY duplicate_candidates (id, member_id, other_id, similarity, reason, village_code,"
                            " other_village_code) FROM STDIN", io.StringIO(rows))
            if self.had_members:
                ids = [p.member_id for p in self.people]
                for i in range(0, len(ids), 100_000):
                    cur.execute(LIKELY_DUPLICATES_SQL, {"ids": ids[i:i + 100_000], "import_id": self.import_id,
                                                        "threshold": duplicates.LIKELY_SIMILARITY})
        self.conn.commit()
        if self.people:
            self.conn.autocommit = True
            with self.conn.cursor() as cur:
                cur.execute("SELECT gin_clean_pending_list('members_name_search')")
                cur.execute("ANALYZE households")  # fresh statistics: searches plan for the new size
                cur.execute("ANALYZE members")
            self.conn.autocommit = False

    def _set(self, **fields):
        assignments = ", ".join(f"{k} = now()" if v == "now" else f"{k} = %({k})s" for k, v in fields.items())
        with self.conn.cursor() as cur:
            cur.execute(f"UPDATE imports SET {assignments} WHERE id = %(id)s", dict(fields, id=self.import_id))
        self.conn.commit()


LIKELY_DUPLICATES_SQL = """
INSERT INTO duplicate_candidates (id, member_id, other_id, similarity, reason, village_code, other_village_code)
SELECT gen_random_uuid(), n.id, o.id, similarity(n.name_norm, o.name_norm),
       format('same birth date and regency, name similarity %%s (threshold %%s)',
              round(similarity(n.name_norm, o.name_norm)::numeric, 2), %(threshold)s),
       n.village_code, o.village_code
  FROM members n JOIN members o
    ON o.birth_date = n.birth_date AND o.regency_code = n.regency_code AND o.nik <> n.nik
   AND o.household_id <> n.household_id AND o.removed_at IS NULL
   AND o.created_at < (SELECT started_at FROM imports WHERE id = %(import_id)s)
 WHERE n.id = ANY(%(ids)s::uuid[]) AND similarity(n.name_norm, o.name_norm) >= %(threshold)s
ON CONFLICT DO NOTHING
"""


def _kk_of(line, kk_at):
    if '"' in line:
        fields = next(csv.reader([line]), [])
    else:
        fields = line.split(",", kk_at + 1)
    return fields[kk_at] if len(fields) > kk_at else None


def _lines(lines):
    shown = ", ".join(map(str, sorted(lines)[:5]))
    return shown + ("…" if len(lines) > 5 else "")


def _covers(regions, code):
    return any(code == r or code.startswith(r + ".") for r in regions)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--import-id", required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--job", required=True, help="JSON: settings and the importing identity ('-': stdin)")
    args = parser.parse_args(argv)
    job = json.loads(sys.stdin.read() if args.job == "-" else args.job)
    try:
        stats = Importer(args.dsn, args.import_id, args.file, job["settings"], job["identity"]).run()
    except Exception as exc:  # noqa: BLE001 - recorded on the import; exit non-zero
        print(f"import {args.import_id} failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if job.get("delete_file"):
            try:
                os.remove(args.file)
            except OSError:
                pass
    print(json.dumps(stats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
