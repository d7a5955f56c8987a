"""Bulk import of an existing list (CSV, one row per member).

Runs as its own process (``python -m setiakawan_registry.importer``), started
by the service for each upload, so a million rows use every core and never
hold up the service's green threads:

1. *validating*: worker processes check every row with the registry's rules
   (``rules.rows``); the parent finds NIKs repeated in the file and applies
   the household rules (one head, the same household columns on every row).
   A household is imported whole or not at all.
2. *storing*: households already registered (same KK number) are skipped,
   which makes a re-run of the same file harmless; NIKs registered in another
   household reject their household. New households are written with COPY in
   chunks, each chunk one transaction holding its households (each pointing
   at the import, which is their history entry), members and one
   ``household.registered`` event per household in the outbox.
3. *flagging*: likely duplicates of the new members are recorded for review.

Rejected rows, with their reasons, are stored for download as CSV. Progress is
written to the ``imports`` row as it goes.
"""
import argparse
import csv
import io
import json
import multiprocessing
import os
import sys
import uuid
from collections import defaultdict
from datetime import date

import psycopg2

from setiakawan_kit import outbox
from setiakawan_kit.contract import registry as contract
from setiakawan_kit.outbox import copy_text

from .rules import duplicates, households as hh
from .storage import region_keys
from .rules.matching import match_key
from .rules.rows import COLUMNS, HeaderError, RowError, RowValidator, column_order, household_problem
from .rules.welfare import WelfareModel

VALIDATE_CHUNK = 20_000
STORE_CHUNK = 10_000  # households per transaction
INDICATOR_NAMES = ("monthly_income", "floor", "wall", "roof", "electricity", "water", "sanitation", "assets")


class ImportFailed(Exception):
    pass


# -- phase 1: rows, in worker processes --------------------------------------
_validator = None


def _init_worker(today):
    global _validator
    _validator = RowValidator(today)


def validate_chunk(job):
    first_line, lines, order = job
    ok, rejected = [], []
    reader = csv.reader(lines)
    kk_at = order[0]
    previous = 0
    for fields in reader:
        line = first_line + previous
        previous = reader.line_num
        try:
            household, member = _validator.row(line, fields, order)
        except RowError as exc:
            kk = fields[kk_at] if len(fields) > kk_at else ""
            rejected.append((line, str(exc), _csv_text(fields), kk))
            continue
        ok.append((household, member))
    return ok, rejected


def _csv_text(fields):
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()


# -- phase 2: new households to COPY text, in worker processes ----------------
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


def build_chunk(job):
    settings, identity, import_id, today, households = job
    model = WelfareModel.from_config(settings["welfare"])
    secret = settings["match_secret"]
    hh_lines, member_lines, outbox_lines, member_ids = [], [], [], []
    for rows in households:
        first = rows[0][0]
        household_id = row_id(import_id, "household", rows[0][1].line)
        income, *choices, assets = first.indicators
        indicators = {"monthly_income": income, **dict(zip(INDICATOR_NAMES[1:7], choices)), "assets": list(assets)}
        score = model.score(indicators, len(rows))
        stored = {"id": household_id, "kk_number": first.kk_number, "kk_match": match_key(secret, "kk", first.kk_number),
                  "village_code": first.village_code, "welfare_score": score, "decile": model.decile(score),
                  "status": "registered", "registering_agency": identity["agency"], "version": 1}
        hh_lines.append("\t".join(map(copy_text, (
            household_id, first.kk_number, stored["kk_match"], first.street, first.rt, first.rw, first.village_code,
            json.dumps(indicators), score, stored["decile"], "registered", identity["agency"], first.legal_basis,
            first.consent_date or None, first.consent_recorded_by or None, import_id))) + "\n")
        members = []
        regions_literal = "{" + ",".join(region_keys(first.village_code)) + "}"
        for _, m in rows:
            member_id = row_id(import_id, "member", m.line)
            member_ids.append(member_id)
            nik_match = match_key(secret, "nik", m.nik)
            members.append({"id": member_id, "nik_match": nik_match, "birth_date": m.birth_date, "sex": m.sex,
                            "relationship": m.relationship, "disability": m.disability})
            member_lines.append("\t".join(map(copy_text, (
                member_id, household_id, m.nik, nik_match, m.name, m.name_norm, m.birth_date.isoformat(), m.sex,
                m.relationship, m.disability, m.occupation, m.education, m.phone or None,
                first.village_code[:5], first.village_code, regions_literal))) + "\n")
        event = outbox.new_event(contract.HOUSEHOLD_REGISTERED, household_id,
                                 {"household": hh.snapshot(stored, members, today)},
                                 service="registry", agency=identity["agency"], correlationid=import_id,
                                 plain=True)
        outbox_lines.append(outbox.copy_line(event, "registry"))
    return "".join(hh_lines), "".join(member_lines), "".join(outbox_lines), member_ids


# -- the parent ---------------------------------------------------------------
class Importer:
    def __init__(self, dsn, import_id, path, settings, identity, workers=None, today=None):
        self.dsn = dsn
        self.import_id = str(import_id)
        self.path = path
        self.settings = settings
        self.identity = identity
        self.workers = workers or max(2, os.cpu_count() or 2)
        self.today = today or date.today()
        self.conn = None
        self.stats = {"total_rows": 0, "processed_rows": 0, "accepted_rows": 0, "already_registered": 0,
                      "rejected_rows": 0, "households_created": 0}

    def run(self):
        self.conn = psycopg2.connect(self.dsn)
        try:
            self._set(status="running", stage="validating", started_at="now", pid=os.getpid())
            with self.conn.cursor() as cur:
                # bulk GIN insertion: keep new trigram entries in the pending list; flushed at the end
                cur.execute("SET gin_pending_list_limit = '256MB'")
                cur.execute("SELECT EXISTS (SELECT 1 FROM members)")
                self.had_members = cur.fetchone()[0]
            self.conn.commit()
            with multiprocessing.get_context("fork").Pool(self.workers, _init_worker, (self.today,)) as pool:
                households, rejected = self.validate(pool)
                self.store(pool, households, rejected)
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

    # phase 1
    def _chunks(self, order):
        with open(self.path, newline="", encoding="utf-8-sig", errors="strict") as f:
            f.readline()
            lines, first, line_no, quotes = [], 2, 2, 0
            for text in f:
                lines.append(text)
                quotes += text.count('"')
                line_no += 1
                if len(lines) >= VALIDATE_CHUNK and quotes % 2 == 0:
                    yield first, lines, order
                    lines, first, quotes = [], line_no, 0
            if lines:
                yield first, lines, order

    def validate(self, pool):
        try:
            with open(self.path, newline="", encoding="utf-8-sig", errors="strict") as f:
                header = next(csv.reader([f.readline()]), None)
        except UnicodeDecodeError:
            raise ImportFailed("The file is not UTF-8 text.") from None
        if not header:
            raise ImportFailed("The file is empty.")
        order = column_order(header)
        households = defaultdict(list)
        rejected = {}
        bad_kks = defaultdict(list)
        first_line_of_nik = {}
        try:
            for ok, bad in pool.imap(validate_chunk, self._chunks(order)):
                for household, member in ok:
                    seen = first_line_of_nik.setdefault(member.nik, member.line)
                    if seen != member.line:
                        rejected[member.line] = (f"nik: the same NIK is on line {seen} of this file.",
                                                 _member_text(household, member), household.kk_number)
                        bad_kks[household.kk_number].append(member.line)
                        continue
                    households[household.kk_number].append((household, member))
                for line, reason, text, kk in bad:
                    rejected[line] = (reason, text, kk)
                    if kk:
                        bad_kks[kk].append(line)
                self.stats["processed_rows"] += len(ok) + len(bad)
                self._set(processed_rows=self.stats["processed_rows"])
        except UnicodeDecodeError:
            raise ImportFailed("The file is not UTF-8 text.") from None
        self.stats["total_rows"] = self.stats["processed_rows"]
        for kk, rows in list(households.items()):
            problem = household_problem(rows)
            if problem is None and kk in bad_kks:
                problem = f"other rows of this KK number were rejected (lines {_lines(bad_kks[kk])})."
            if problem is None and not _covers(self.identity["regions"], rows[0][0].village_code):
                problem = f"village {rows[0][0].village_code} is outside your regions."
            if problem:
                for household, member in households.pop(kk):
                    rejected[member.line] = (f"household: {problem}", _member_text(household, member), kk)
        return households, rejected

    # phase 2
    def store(self, pool, households, rejected):
        self._set(stage="storing")
        with self.conn.cursor() as cur:
            cur.execute("SELECT kk_number, id, village_code FROM households"
                        " WHERE kk_number = ANY(%s) AND merged_into IS NULL", (list(households),))
            registered_kk = {kk: (str(hid), village) for kk, hid, village in cur.fetchall()}
            niks = [m.nik for rows in households.values() for _, m in rows]
            cur.execute("SELECT nik, household_id FROM members WHERE nik = ANY(%s) AND removed_at IS NULL", (niks,))
            registered_nik = {nik: str(hid) for nik, hid in cur.fetchall()}
        self.conn.commit()
        new = []
        for kk, rows in households.items():
            existing = registered_kk.get(kk)
            if existing:
                for household, member in rows:
                    if registered_nik.get(member.nik) == existing[0]:
                        self.stats["already_registered"] += 1
                    else:
                        where = existing[0] if _covers(self.identity["regions"], existing[1]) else "by another agency"
                        rejected[member.line] = (f"kk_number: already registered ({where}); add members through "
                                                 "the API.", _member_text(household, member), kk)
                continue
            clash = [m for _, m in rows if m.nik in registered_nik]
            if clash:
                for household, member in rows:
                    reason = (f"nik: already registered in another household." if member in clash
                              else f"household: line {clash[0].line} has a NIK registered in another household.")
                    rejected[member.line] = (reason, _member_text(household, member), kk)
                continue
            new.append(rows)
        settings = {"welfare": self.settings["welfare"], "match_secret": self.settings["match_secret"]}
        jobs = ((settings, self.identity, self.import_id, self.today, new[i:i + STORE_CHUNK])
                for i in range(0, len(new), STORE_CHUNK))
        self.new_households = new
        self.new_member_ids = []
        for households_text, members_text, outbox_text, member_ids in pool.imap(build_chunk, jobs):
            with self.conn.cursor() as cur:
                cur.copy_expert("COPY households (id, kk_number, kk_match, street, rt, rw, village_code, indicators,"
                                " welfare_score, decile, status, registering_agency, legal_basis, consent_date,"
                                " consent_recorded_by, import_id) FROM STDIN", io.StringIO(households_text))
                cur.copy_expert("COPY members (id, household_id, nik, nik_match, name, name_norm, birth_date, sex,"
                                " relationship, disability, occupation, education, phone, regency_code, village_code,"
                                " regions)"
                                " FROM STDIN", io.StringIO(members_text))
                cur.copy_expert(f"COPY kit_outbox ({outbox.COPY_COLUMNS}) FROM STDIN", io.StringIO(outbox_text))
                outbox.notify(cur)
                self.stats["households_created"] += households_text.count("\n")
                self.stats["accepted_rows"] += len(member_ids)
                self._set(cur, **{k: self.stats[k] for k in ("households_created", "accepted_rows",
                                                            "already_registered")})
            self.conn.commit()
            self.new_member_ids.extend(member_ids)
        self.stats["rejected_rows"] = len(rejected)
        with self.conn.cursor() as cur:
            text = "".join("\t".join(map(copy_text, (self.import_id, line, reason, row))) + "\n"
                           for line, (reason, row, _) in sorted(rejected.items()))
            cur.execute("DELETE FROM import_rejections WHERE import_id = %s", (self.import_id,))
            cur.copy_expert("COPY import_rejections (import_id, line, reason, row_text) FROM STDIN", io.StringIO(text))
            self._set(cur, rejected_rows=len(rejected), already_registered=self.stats["already_registered"])
        self.conn.commit()

    # phase 3
    def flag(self):
        """Likely duplicates among the new members (in Python: they are all in
        memory) and, if the registry held members before, against those."""
        self._set(stage="flagging")
        people = [{"member_id": row_id(self.import_id, "member", m.line), "household": m_household,
                   "nik": m.nik, "birth_date": m.birth_date, "regency": h.village_code[:5],
                   "village": h.village_code, "name_norm": m.name_norm, "order": m.line}
                  for rows in self.new_households for m_household in [rows[0][1].line] for h, m in rows]
        pairs = duplicates.likely_pairs(people)
        reason = duplicates.likely_duplicate_reason
        with self.conn.cursor() as cur:
            text = "".join("\t".join(map(copy_text, (
                str(uuid.uuid4()), newer["member_id"], older["member_id"], score, reason(score), newer["village"],
                older["village"]))) + "\n" for newer, older, score in pairs)
            cur.copy_expert("COPY duplicate_candidates (id, member_id, other_id, similarity, reason, village_code,"
                            " other_village_code) FROM STDIN", io.StringIO(text))
            if self.had_members:
                for i in range(0, len(self.new_member_ids), 100_000):
                    cur.execute(LIKELY_DUPLICATES_SQL, {"ids": self.new_member_ids[i:i + 100_000],
                                                        "import_id": self.import_id,
                                                        "threshold": duplicates.LIKELY_SIMILARITY})
        self.conn.commit()
        if self.new_member_ids:
            self.conn.autocommit = True
            with self.conn.cursor() as cur:
                cur.execute("SELECT gin_clean_pending_list('members_name_search')")
                cur.execute("ANALYZE households")  # fresh statistics: searches plan for the new size
                cur.execute("ANALYZE members")
            self.conn.autocommit = False

    def _set(self, cur=None, **fields):
        assignments = ", ".join(f"{k} = now()" if v == "now" else f"{k} = %({k})s" for k, v in fields.items())
        if cur is None:
            with self.conn.cursor() as own:
                own.execute(f"UPDATE imports SET {assignments} WHERE id = %(id)s", dict(fields, id=self.import_id))
            self.conn.commit()
        else:
            cur.execute(f"UPDATE imports SET {assignments} WHERE id = %(id)s", dict(fields, id=self.import_id))


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


def _member_text(household, member):
    by_name = dict(zip(("kk_number", "street", "rt", "rw", "village_code"), household[:5]))
    by_name.update(zip(INDICATOR_NAMES, household.indicators))
    by_name["assets"] = ";".join(by_name["assets"])
    by_name.update(legal_basis=household.legal_basis, consent_date=household.consent_date,
                   consent_recorded_by=household.consent_recorded_by, nik=member.nik, name=member.name,
                   birth_date=member.birth_date.isoformat(), sex=member.sex, relationship=member.relationship,
                   disability=member.disability, occupation=member.occupation, education=member.education,
                   phone=member.phone)
    return _csv_text([by_name[c] for c in COLUMNS])


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
