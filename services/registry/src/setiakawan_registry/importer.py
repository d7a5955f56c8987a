"""Bulk import of an existing list (CSV, one row per member, the rows of a
household together).

Runs as its own process (``python -m setiakawan_registry.importer``), started
by the service for each upload, so a million rows use every core and never
hold up the service's green threads. The parent reads the file in chunks
that end between two households and hands them to worker processes
(``import_chunks``), which check every row and write the COPY text of the
valid households, their members and their ``household.registered`` events.

The parent then decides, in file order, what each chunk may add: it drops
households whose KK number is registered already (a re-run of the same file
is harmless: they count as already registered), whose NIK is registered in
another household, or that repeat a NIK or KK number found earlier in the
file. Two writer threads, each with its own connection, COPY the rest of a
chunk in one transaction (state and events together, as the outbox
requires) while the workers check the next chunks.

A large load (at least ``IMPORT_REBUILD_MIN_ROWS`` rows and as many as the
registry already holds) drops the search and lookup indexes that guard no
rule, and builds them again at the end, which is several times cheaper than
maintaining them row by row; the primary keys and the unique NIK and KK
indexes stay throughout. The relay of the registry's outbox is held for the
duration of the import (its events are published right after), and likely
duplicates of the new members are flagged at the end. Rejected rows, with
their reasons, are stored for download as CSV; progress is written to the
``imports`` row.
"""
import argparse
import csv
import functools
import gc
import io
import json
import logging
import logging.config
import multiprocessing
import os
import queue
import sys
import threading
import time
from collections import deque
from itertools import chain

import psycopg2
import psycopg2.errors

from setiakawan_kit import logs, outbox
from setiakawan_kit.auth import Identity
from setiakawan_kit.db import UnitOfWork
from setiakawan_kit.outbox import copy_text

from . import storage
from .households import record_candidates
from .import_chunks import TABLES, id_range, init_worker, process_chunk
from .imports import hold_key
from .rules import calendar, duplicates
from .rules.rows import HeaderError, column_order

log = logging.getLogger(__name__)

CHUNK_ROWS = 20_000
READ_HINT = 4 << 20  # characters of whole lines read at a time
COPY_BLOCK = 1 << 20  # bytes per COPY message; psycopg2's 8 KiB default costs a call per 8 KiB
REBUILD_MIN_ROWS = 100_000
HOLD_LEASE_SECONDS = 120
WRITERS = 2


class ImportFailed(Exception):
    pass


class _Text:
    """A file-like view of COPY text (bytes) for ``copy_expert``."""

    def __init__(self, parts):
        self.parts = deque(p for p in parts if p)
        self.pos = 0

    def read(self, size=-1):
        if not self.parts:
            return b""
        head = self.parts[0]
        piece = head[self.pos:self.pos + size] if size and size > 0 else head[self.pos:]
        self.pos += len(piece)
        if self.pos >= len(head):
            self.parts.popleft()
            self.pos = 0
        return piece


class Importer:
    def __init__(self, dsn, import_id, path, settings, identity, workers=None, today=None, dry_run=False):
        self.dsn = dsn
        #: check everything, count what would be created, store the rejections; write no household,
        #: member or event (and hold no relay, drop no index)
        self.dry_run = dry_run
        self.import_id = str(import_id)
        self.path = path
        self.settings = {"welfare": settings.get("welfare") or {}}
        self.rebuild_min_rows = int(settings.get("rebuild_min_rows") or REBUILD_MIN_ROWS)
        self.identity = identity
        self.scope = Identity(identity["agency"], identity.get("kind", ""), identity["role"],
                              tuple(identity["regions"]))
        self.workers = workers or max(2, os.cpu_count() or 2)
        self.today = today or calendar.today()
        self.conn = None
        self.stats = {"total_rows": 0, "processed_rows": 0, "accepted_rows": 0, "already_registered": 0,
                      "rejected_rows": 0, "households_created": 0}
        self.rejected = {}     # first line -> (reason, row text)
        self.seen_nik = {}     # nik -> the line it was first imported (or skipped) from
        self.seen_kk = {}      # kk -> first line
        self.rebuild = False
        self.reading = True
        self.lock = threading.Lock()

    def run(self):
        collecting = gc.isenabled()
        gc.disable()  # as in the workers (import_chunks.init_worker): millions of objects, no cycles
        try:
            return self._run()
        finally:
            if collecting:
                gc.enable()

    def _run(self):
        self.conn = psycopg2.connect(self.dsn)
        held = False
        try:
            self._set(status="running", stage="importing", started_at="now", pid=os.getpid())
            order = self._header()
            with self.conn.cursor() as cur:
                cur.execute("SELECT EXISTS (SELECT 1 FROM members)")
                self.check_database = cur.fetchone()[0]
                cur.execute("SELECT total_rows FROM imports WHERE id = %s", (self.import_id,))
                expected_rows = cur.fetchone()[0] or 0
                if not self.dry_run:
                    outbox.hold(cur, self.hold_key, "bulk import", HOLD_LEASE_SECONDS)
            self.conn.commit()
            held = not self.dry_run
            self.rebuild = False if self.dry_run else self._drop_indexes(expected_rows)
            started = time.perf_counter()
            context = multiprocessing.get_context("fork")
            with context.Pool(self.workers, init_worker,
                              (self.today, self.settings, self.identity, self.import_id)) as pool:
                self.store(pool, order)
            loaded, rebuilt = time.perf_counter(), self.rebuild
            if not self.dry_run:
                self._set(stage="flagging")
                self.finish()
            log.info("import %s: loaded in %.1fs (indexes %s), indexes and likely duplicates in %.1fs",
                     self.import_id, loaded - started, "rebuilt" if rebuilt else "kept",
                     time.perf_counter() - loaded)
            self._set(status="completed", stage="done", finished_at="now")
        except (ImportFailed, HeaderError) as exc:
            self.conn.rollback()
            self._set(status="failed", error=logs.redact(str(exc)), finished_at="now")
            raise
        except Exception as exc:
            self.conn.rollback()
            self._set(status="failed", error=logs.redact(f"{type(exc).__name__}: {exc}"), finished_at="now")
            raise
        finally:
            try:
                if self.rebuild:
                    self._build_indexes_after_failure()
                if held:
                    with self.conn.cursor() as cur:
                        outbox.release(cur, self.hold_key)
                    self.conn.commit()
            finally:
                self.conn.close()
        return self.stats

    @property
    def hold_key(self):
        return hold_key(self.import_id)

    def _header(self):
        try:
            with open(self.path, newline="", encoding="utf-8-sig", errors="strict") as f:
                header = next(csv.reader([f.readline()]), None)
        except UnicodeDecodeError:
            raise ImportFailed("The file is not UTF-8 text.") from None
        if not header:
            raise ImportFailed("The file is empty.")
        return column_order(header)

    # -- indexes --------------------------------------------------------------
    def _drop_indexes(self, expected_rows):
        """Drop the bulk-load indexes if this import is large against what the
        registry holds, and no other import has them dropped; True if done."""
        if expected_rows < self.rebuild_min_rows:
            return False
        with self.conn.cursor() as cur:
            cur.execute("SELECT reltuples FROM pg_class WHERE oid = 'members'::regclass")
            held = cur.fetchone()[0]
            if held < 0:  # never analysed
                cur.execute("SELECT count(*) FROM members")
                held = cur.fetchone()[0]
            if expected_rows < held:
                return False
            cur.execute("SELECT pg_try_advisory_lock(%s)", (storage.BULK_LOCK,))
            if not cur.fetchone()[0]:
                return False
            try:
                cur.execute("SET lock_timeout = '5s'")
                storage.drop_bulk_load_indexes(cur)
                cur.execute("RESET lock_timeout")
                self.conn.commit()
            except psycopg2.errors.LockNotAvailable:
                self.conn.rollback()
                cur.execute("SELECT pg_advisory_unlock(%s)", (storage.BULK_LOCK,))
                self.conn.commit()
                return False
        return True

    def _build_indexes_after_failure(self):
        self.rebuild = False
        try:
            self.conn.rollback()
            with self.conn.cursor() as cur:
                storage.build_bulk_load_indexes(cur)
                cur.execute("SELECT pg_advisory_unlock(%s)", (storage.BULK_LOCK,))
            self.conn.commit()
        except psycopg2.Error:
            self.conn.rollback()  # the service builds them when it next starts

    # -- loading --------------------------------------------------------------
    def _chunks(self, order, sent, budget):
        """(first line, lines, order) of about CHUNK_ROWS rows, cut only
        between two KK numbers (and outside a quoted field). Lines are read
        in blocks; only the lines around a cut are looked at one by one."""
        kk_at = order[0]
        with open(self.path, newline="", encoding="utf-8-sig", errors="strict") as f:
            f.readline()
            pending, first = [], 2
            while True:
                more = f.readlines(READ_HINT)
                pending += more
                while pending and (len(pending) > CHUNK_ROWS or not more):
                    cut = _cut(pending, kk_at, CHUNK_ROWS) if more else len(pending)
                    if cut is None:
                        break  # the household goes on past what was read
                    budget.acquire()
                    if not self.reading:
                        return
                    lines, pending = pending[:cut], pending[cut:]
                    sent.append((first, lines))
                    yield first, lines, order
                    first += cut
                if not more:
                    return

    def store(self, pool, order):
        sent = deque()
        budget = threading.Semaphore(self.workers + 2 * WRITERS)  # chunks read ahead of the writers
        jobs = queue.Queue(maxsize=WRITERS)
        writers = [_Writer(self, jobs) for _ in range(WRITERS)]
        for writer in writers:
            writer.start()
        try:
            for chunk in pool.imap(process_chunk, self._chunks(order, sent, budget)):
                first, lines = sent.popleft()

                def text(span, first=first, lines=lines):
                    return "".join(lines[span[0] - first:span[1] - first + 1]).rstrip("\r\n")

                with self.lock:
                    for span, reason in chunk.rejects:
                        self.rejected[span[0]] = (reason, text(span))
                keep = self._decide(chunk, text)
                self._put(jobs, writers, (chunk, keep, text, budget))
                with self.lock:
                    self.stats["processed_rows"] += chunk.rows
                    progress = {k: self.stats[k] for k in ("processed_rows", "households_created",
                                                           "accepted_rows", "already_registered")}
                self._set(**progress)
                if not self.dry_run:
                    with self.conn.cursor() as cur:
                        outbox.hold(cur, self.hold_key, "bulk import", HOLD_LEASE_SECONDS)
                    self.conn.commit()
        except UnicodeDecodeError:
            raise ImportFailed("The file is not UTF-8 text.") from None
        finally:
            # on an error, the reader (in the pool's task thread) may wait for budget: let it stop
            self.reading = False
            budget.release(self.workers + 2 * WRITERS + 1)
            for _ in writers:
                jobs.put(None)
            for writer in writers:
                writer.join()
        for writer in writers:
            if writer.error is not None:
                raise writer.error
        self.stats["total_rows"] = self.stats["processed_rows"]
        self.stats["rejected_rows"] = len(self.rejected)
        with self.conn.cursor() as cur:
            # a refused row is kept as it was read, but for a NUL (PostgreSQL stores none): U+FFFD in its place
            rows = "".join("\t".join(map(copy_text, (self.import_id, line, _reason(reason), _storable(row))))
                           + "\n" for line, (reason, row) in sorted(self.rejected.items()))
            cur.execute("DELETE FROM import_rejections WHERE import_id = %s", (self.import_id,))
            cur.copy_expert("COPY import_rejections (import_id, line, reason, row_text) FROM STDIN", io.StringIO(rows))
            cur.execute("UPDATE imports SET rejected_rows = %s, total_rows = %s, households_created = %s,"
                        " accepted_rows = %s, already_registered = %s WHERE id = %s",
                        (len(self.rejected), self.stats["total_rows"], self.stats["households_created"],
                         self.stats["accepted_rows"], self.stats["already_registered"], self.import_id))
        self.conn.commit()

    @staticmethod
    def _put(jobs, writers, job):
        jobs.put(job)
        if job is not None:
            failed = next((w.error for w in writers if w.error is not None), None)
            if failed is not None:
                raise failed

    def _decide(self, chunk, text):
        """Indexes of the chunk's households to write (None: all of them)."""
        if not self.check_database and self._all_new(chunk):
            return None
        registered_kk, registered_nik = self._registered(chunk.households) if self.check_database else ({}, {})
        refused = []
        for index, (kk, niks, spans) in enumerate(chunk.households):
            reason = self._refusal(kk, niks, spans, registered_kk, registered_nik)
            if reason == "already registered":
                with self.lock:
                    self.stats["already_registered"] += len(niks)
                refused.append(index)
            elif reason:
                with self.lock:
                    for span, nik_reason in zip(spans, reason):
                        self.rejected[span[0]] = (nik_reason, text(span))
                refused.append(index)
            if reason is None:  # then neither its KK number nor any of its NIKs was seen before
                self.seen_kk[kk] = spans[0][0]
                self.seen_nik.update(zip(niks, [span[0] for span in spans]))
                continue
            self.seen_kk.setdefault(kk, spans[0][0])
            for nik, span in zip(niks, spans):
                self.seen_nik.setdefault(nik, span[0])
        if not refused:
            return None
        refused = set(refused)
        return [i for i in range(len(chunk.households)) if i not in refused]

    def _all_new(self, chunk):
        """True, and recorded as seen, if no KK number or NIK of the chunk's
        households was seen before (the worker made sure that none is
        repeated within the chunk): then all of them are imported."""
        households = chunk.households
        kks = [h[0] for h in households]
        if not (self.seen_kk.keys().isdisjoint(kks)
                and self.seen_nik.keys().isdisjoint(chain.from_iterable(h[1] for h in households))):
            return False
        self.seen_kk.update(zip(kks, (h[2][0][0] for h in households)))
        self.seen_nik.update(zip(chain.from_iterable(h[1] for h in households),
                                 (span[0] for h in households for span in h[2])))
        return True

    def _refusal(self, kk, niks, spans, registered_kk, registered_nik):
        """None to import the household; "already registered"; or a reason per row."""
        existing = registered_kk.get(kk) if registered_kk else None
        if existing:
            if all(registered_nik.get(nik) == existing[0] for nik in niks):
                return "already registered"
            where = existing[0] if self.scope.covers(existing[1]) else "by another agency"
            return [f"kk_number: already registered ({where}); add members through the API."] * len(niks)
        if kk in self.seen_kk:
            return [f"household: rows of this KK number are also on line {self.seen_kk[kk]}; "
                    "a household's rows must be together in the file."] * len(niks)
        # most households clash with nothing: asked of the whole set first, in C
        clash = None if registered_nik.keys().isdisjoint(niks) else next(
            i for i, nik in enumerate(niks) if nik in registered_nik)
        if clash is not None:
            return [("nik: already registered in another household." if i == clash else
                     f"household: line {spans[clash][0]} has a NIK registered in another household.")
                    for i in range(len(niks))]
        repeat = None if self.seen_nik.keys().isdisjoint(niks) else next(
            i for i, nik in enumerate(niks) if nik in self.seen_nik)
        if repeat is not None:
            return [(f"nik: the same NIK is on line {self.seen_nik[niks[i]]} of this file." if i == repeat else
                     f"household: other rows of this KK number were rejected (lines {spans[repeat][0]}).")
                    for i in range(len(niks))]
        return None

    def _registered(self, households, conn=None):
        conn = conn or self.conn
        uow = UnitOfWork(conn, "registry")
        registered_kk = {r["kk_number"]: (str(r["id"]), r["village_code"])
                         for r in storage.households_by_kk(uow, [h[0] for h in households])}
        registered_nik = {r["nik"]: str(r["household_id"])
                          for r in storage.members_by_nik(uow, [nik for h in households for nik in h[1]])}
        conn.commit()
        return registered_kk, registered_nik

    def write(self, conn, chunk, keep, text):
        """COPY the kept households of a chunk, their members and events in
        one transaction. A KK number or NIK that a request registered since
        the chunk was decided makes the COPY fail: that household is then
        left out (and reported) and the rest written."""
        while True:
            indexes = range(len(chunk.households)) if keep is None else keep
            if not indexes:
                return
            if self.dry_run:
                break
            try:
                with conn.cursor() as cur:
                    runs = None if keep is None else _runs(keep)
                    for (table, columns), block, ends in zip(TABLES, chunk.blocks, chunk.offsets):
                        if keep is None:
                            parts = [block]
                        else:
                            parts = [block[ends[first - 1] if first else 0:ends[last]] for first, last in runs]
                        cur.copy_expert(f"COPY {table} ({columns}) FROM STDIN", _Text(parts), size=COPY_BLOCK)
                conn.commit()
            except psycopg2.errors.UniqueViolation:
                conn.rollback()
                registered_kk, registered_nik = self._registered([chunk.households[i] for i in indexes], conn)
                taken = {i for i in indexes if chunk.households[i][0] in registered_kk
                         or any(n in registered_nik for n in chunk.households[i][1])}
                if not taken:
                    raise
                with self.lock:
                    for i in taken:
                        for span in chunk.households[i][2]:
                            self.rejected[span[0]] = ("household: registered by another request during the import.",
                                                      text(span))
                keep = [i for i in indexes if i not in taken]
                continue
            break
        with self.lock:
            self.stats["households_created"] += len(indexes)
            self.stats["accepted_rows"] += sum(len(chunk.households[i][1]) for i in indexes)

    # -- after the load ---------------------------------------------------------
    def finish(self):
        """Flag likely duplicates on one connection (a hash join on birth
        date and regency: it needs none of the indexes) while this one adds
        the foreign key; then build the GIN index and ANALYZE members on a
        second, the btree indexes and ANALYZE households on a third. The
        foreign key goes first, alone: adding it locks both tables against
        index builds, and asked for during one, it would wait for all of it."""
        created = bool(self.stats["households_created"])
        errors = []

        def run(task):
            conn = psycopg2.connect(self.dsn)
            try:
                task(conn)
            except Exception as exc:  # noqa: BLE001 - re-raised below
                errors.append(exc)
            finally:
                conn.close()

        def start(task):
            thread = threading.Thread(target=run, args=(task,))
            thread.start()
            return thread

        threads = [start(self._flag)]
        try:
            if self.rebuild:
                self._build(self.conn, [storage.MEMBERS_HOUSEHOLD_FK])
                threads.append(start(lambda conn: self._build(conn, ["members_name_search"],
                                                              analyse="members" if created else None)))
                threads.append(start(lambda conn: self._build(conn, ["members_lookalike", "members_household",
                                                                     "households_village"],
                                                              analyse="households" if created else None)))
        finally:
            for thread in threads:
                thread.join()
        if errors:
            raise errors[0]
        self.conn.autocommit = True
        with self.conn.cursor() as cur:
            if self.rebuild:
                cur.execute("SELECT pg_advisory_unlock(%s)", (storage.BULK_LOCK,))
                self.rebuild = False
            elif created:
                cur.execute("SELECT gin_clean_pending_list('members_name_search')")
                cur.execute("ANALYZE households")  # fresh statistics: searches plan for the new size
                cur.execute("ANALYZE members")
        self.conn.autocommit = False

    @staticmethod
    def _build(conn, names, analyse=None):
        """Build these indexes (or the foreign key), then analyse a table:
        fresh statistics, so that searches plan for the new size."""
        started = time.perf_counter()
        with conn.cursor() as cur:
            storage.build_bulk_load_indexes(cur, names)
        conn.commit()
        log.info("built %s in %.1fs", ", ".join(names), time.perf_counter() - started)
        if analyse:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f"ANALYZE {analyse}")

    def _flag(self, conn):
        """Likely duplicates among the new members and against earlier ones."""
        if not self.stats["households_created"]:
            return
        low, high = id_range(self.import_id, "member")
        started = time.perf_counter()
        uow = UnitOfWork(conn, "registry")
        if self.rebuild:
            # Most members are new and the table has no statistics yet: a
            # nested loop would compare every pair of them. Join on a hash,
            # held in memory rather than in batches on disk.
            uow.execute("SET LOCAL enable_nestloop = off")
            uow.execute("SET LOCAL work_mem = '256MB'")
        else:
            uow.execute("ANALYZE members")  # few new members: probe the lookalike index for each
        flagged = record_candidates(
            uow, storage.likely_duplicates_in_range(uow, low, high, duplicates.LIKELY_SIMILARITY))
        conn.commit()
        log.info("flagged %d likely duplicates in %.1fs", flagged, time.perf_counter() - started)

    def _set(self, **fields):
        assignments = ", ".join(f"{k} = now()" if v == "now" else f"{k} = %({k})s" for k, v in fields.items())
        with self.conn.cursor() as cur:
            cur.execute(f"UPDATE imports SET {assignments} WHERE id = %(id)s", dict(fields, id=self.import_id))
        self.conn.commit()


class _Writer(threading.Thread):
    """Takes decided chunks off the queue and writes them on its own
    connection (psycopg2 lets other threads run while PostgreSQL works)."""

    def __init__(self, importer, jobs):
        super().__init__(daemon=True)
        self.importer = importer
        self.jobs = jobs
        self.error = None

    def run(self):
        conn = psycopg2.connect(self.importer.dsn)
        try:
            with conn.cursor() as cur:
                # incremental GIN insertion keeps new entries in the pending list; cleaned at the end
                cur.execute("SET gin_pending_list_limit = '256MB'")
                # a chunk's commit need not wait for its WAL to reach the disk: after a
                # crash, the chunks lost are the last ones (WAL keeps commit order), the
                # import is then marked failed, and running it again adds them
                cur.execute("SET synchronous_commit = off")
            conn.commit()
            while True:
                job = self.jobs.get()
                if job is None:
                    return
                chunk, keep, text, budget = job
                try:
                    if self.error is None:
                        self.importer.write(conn, chunk, keep, text)
                finally:
                    budget.release()
        except Exception as exc:  # noqa: BLE001 - the parent raises it
            self.error = exc
            while (job := self.jobs.get()) is not None:
                job[3].release()  # the reader waits for these
        finally:
            conn.close()


def _storable(text):
    return text.replace("\x00", "\ufffd")


@functools.lru_cache(maxsize=4096)
def _reason(text):
    """A rejection's reason as stored: redacted like a log line (a reason
    can quote a value, such as a phone number in the wrong column)."""
    return _storable(logs.redact(text))


def _runs(indexes):
    """(first, last) of each run of consecutive numbers in ascending ``indexes``:
    the kept households of a chunk are copied as a few slices, not one each."""
    runs = []
    for i in indexes:
        if runs and runs[-1][1] == i - 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return runs


def _cut(lines, kk_at, at):
    """The first line at or after ``at`` that starts a record of another KK
    number than the record before it, outside a quoted field; None if the
    lines end first."""
    if '"' not in "".join(lines[:at]):  # then each of those lines is a record of its own
        last_kk = _kk_of(lines[at - 1], kk_at)
        for i in range(at, len(lines)):
            if '"' in lines[i]:
                return _cut_counting_quotes(lines, kk_at, at)
            kk = _kk_of(lines[i], kk_at)
            if kk != last_kk:
                return i
        return None
    return _cut_counting_quotes(lines, kk_at, at)


def _cut_counting_quotes(lines, kk_at, at):
    quotes, last_kk = 0, None
    for i, text in enumerate(lines):
        if quotes % 2 == 0:
            kk = _kk_of(text, kk_at)
            if i >= at and kk != last_kk:
                return i
            last_kk = kk
        quotes += text.count('"')
    return None


def _kk_of(line, kk_at):
    if '"' in line:
        fields = next(csv.reader([line]), [])
    else:
        fields = line.split(",", kk_at + 1)
    return fields[kk_at] if len(fields) > kk_at else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", help="the database (default: the job's 'dsn')")
    parser.add_argument("--import-id", required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--job", required=True, help="JSON: settings and the importing identity ('-': stdin)")
    args = parser.parse_args(argv)
    logging.config.dictConfig(logs.config(os.environ.get("LOG_LEVEL", "INFO")))
    job = json.loads(sys.stdin.read() if args.job == "-" else args.job)
    try:
        stats = Importer(args.dsn or job["dsn"], args.import_id, args.file, job["settings"], job["identity"],
                         dry_run=bool(job.get("dry_run"))).run()
    except Exception as exc:  # noqa: BLE001 - recorded on the import; exit non-zero
        print(logs.redact(f"import {args.import_id} failed: {exc}"), file=sys.stderr)  # the service's log
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
