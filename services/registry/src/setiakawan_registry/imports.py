"""Uploads of existing lists: store the file, start the importer process,
report its progress and its rejected rows.

An upload (full of NIKs) is kept in a private folder (``IMPORT_DIR``; by
default under the user's XDG state folder, not in shared temporary space),
mode 0700, each file 0600, named ``<import id>.<pid of the receiving
service>.csv``; the importer removes it when it ends, the service when the
importer died, and the service's next start any left by a killed importer
or service."""
import codecs
import csv
import datetime
import hashlib
import io
import itertools
import json
import logging
import os
import re
import stat
import subprocess
import sys
import secrets
import socket
import time
import uuid
import zipfile
from pathlib import Path

import eventlet
import eventlet.tpool
import openpyxl
import psycopg2

from setiakawan_kit import outbox
from setiakawan_kit.db import UnitOfWork, dsn_from_config
from setiakawan_kit.logs import redact
from setiakawan_kit.processes import alive
from setiakawan_kit.problems import Problem, bad_request, content_too_large, length_required, not_found

from . import personal_data, storage
from .rules import disclosure, mappings
from .rules.rows import COLUMNS, HeaderError, column_order, detect_delimiter

log = logging.getLogger(__name__)

CHUNK = 1 << 20
DEFAULT_MAX_BYTES = 512 * 1024 * 1024


# -- the private folder -------------------------------------------------------------
def default_upload_dir(environ=os.environ):
    """``$XDG_STATE_HOME/setiakawan/registry-uploads``, else
    ``~/.local/state/setiakawan/registry-uploads``."""
    state = environ.get("XDG_STATE_HOME")
    base = Path(state) if state and os.path.isabs(state) else Path.home() / ".local" / "state"
    return base / "setiakawan" / "registry-uploads"


def upload_dir(config, environ=os.environ):
    """The folder uploads are kept in (``IMPORT_DIR``), made if missing,
    0700 (tightened if it is looser); refused if another user owns it."""
    path = Path(config.get("IMPORT_DIR") or default_upload_dir(environ)).expanduser()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.stat()
    if not stat.S_ISDIR(info.st_mode):
        raise RuntimeError(f"IMPORT_DIR {path} is not a folder")
    if info.st_uid != os.getuid():
        raise RuntimeError(f"IMPORT_DIR {path} belongs to another user (uid {info.st_uid})")
    if stat.S_IMODE(info.st_mode) != 0o700:
        log.warning("upload folder %s was mode %o: made 0700", path, stat.S_IMODE(info.st_mode))
        path.chmod(0o700)
    return path


_UPLOAD_NAME = re.compile(r"(?P<import_id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
                          r"\.(?P<pid>\d+)\.csv(?:\.xlsx)?")  # .xlsx: a workbook, while its sheet is read


def upload_path(folder, import_id):
    """Where an upload for ``import_id`` received by this process is kept."""
    return Path(folder) / f"{import_id}.{os.getpid()}.csv"


def leftover(state, receiver_pid, host, alive):
    """Whether an upload is left over, at a service's start: its import is
    over (or never recorded, or recorded but never started), or the importer
    of this host that had it died. ``state`` is the import's row (status,
    pid, host) or None; ``receiver_pid`` the service process that received
    it, named in the file, which answers for it until an importer runs;
    ``alive(pid)`` tells whether a process of this host lives."""
    receiver = receiver_pid != os.getpid() and alive(receiver_pid)  # a new process is not that service
    if state is None:
        return not receiver
    if state["status"] not in ("queued", "running"):
        return True
    if state["host"] not in (None, host):
        return False  # another host's importer (a shared folder): not ours to judge
    return not (receiver or (state["pid"] and alive(state["pid"])))


def sweep_uploads(dsn, folder):
    """Remove the uploads left over (``leftover``) in ``folder``, marking
    their imports failed if they were still queued or running; run when the
    service starts. Returns the names removed."""
    found = {}
    for path in Path(folder).iterdir():
        match = _UPLOAD_NAME.fullmatch(path.name)
        if match and path.is_file():
            found[path] = (match["import_id"], int(match["pid"]))
    if not found:
        return []
    removed = []
    conn = psycopg2.connect(dsn)
    try:
        with conn:
            uow = UnitOfWork(conn, "registry")
            states = {str(r["id"]): r for r in storage.import_states(uow, [i for i, _ in found.values()])}
            for path, (import_id, receiver_pid) in sorted(found.items()):
                state = states.get(import_id)
                if leftover(state, receiver_pid, socket.gethostname(), alive):
                    path.unlink(missing_ok=True)
                    removed.append(path.name)
                    if state is not None:
                        fail_if_running(uow, import_id)
    finally:
        conn.close()
    if removed:
        log.warning("removed %d upload(s) left by a stopped import: %s", len(removed), ", ".join(removed))
    return removed


# -- receiving ------------------------------------------------------------------------
def receive(stream, content_length, max_bytes, path, delimiter=None, mapping=None):
    """Write an uploaded CSV to ``path`` (mode 0600) in the importer's form,
    comma-separated; returns (sha256 of the upload, data rows, the header's
    column names, the upload's delimiter). The delimiter is ``delimiter``,
    or the one that splits the header line into the most columns (comma,
    semicolon or tab). A comma-separated upload is written as it comes; any
    other is converted on the way, record by record, so memory stays flat.
    Refuses (4xx) what is too large, not UTF-8 or lacks our header, and then
    leaves no file."""
    _check_size(content_length, max_bytes)
    digest = hashlib.sha256()
    blocks = _blocks(stream, content_length, digest)
    fd = _private_file(path)
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), 0o600)  # whatever the umask
            first = b""
            for block in blocks:  # up to the end of the header line (or 64 KB of it)
                first += block
                if b"\n" in first or len(first) >= 65536:
                    break
            header, delimiter, to_row = _header(first.split(b"\n", 1)[0], delimiter, mapping)
            if delimiter == "," and to_row is None:
                lines, last = _copy(first, blocks, out)
                data_rows = lines + (0 if last == b"\n" else 1) - 1
            else:
                data_rows = _convert(first, blocks, out, delimiter, to_row) - 1
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if to_row is not None:
        header = list(COLUMNS)  # what was written
    return digest.hexdigest(), max(data_rows, 0), [h.strip().lower() for h in header], delimiter


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def receive_workbook(stream, content_length, max_bytes, path, sheet=None, mapping=None):
    """An uploaded Excel workbook (.xlsx): saved beside ``path`` as it came,
    then its sheet (the first, or the one named ``sheet``) written to ``path``
    as the importer's CSV, row by row (openpyxl's read-only mode: memory
    stays flat however long the sheet); returns what ``receive`` does."""
    _check_size(content_length, max_bytes)
    digest = hashlib.sha256()
    workbook_path = path.with_name(path.name + ".xlsx")
    try:
        fd = _private_file(workbook_path)
        with os.fdopen(fd, "wb") as out:
            for block in _blocks(stream, content_length, digest):
                out.write(block)
        # openpyxl is pure Python: in a thread of its own, the service goes on answering meanwhile
        header, rows = eventlet.tpool.execute(_write_sheet, workbook_path, sheet, mapping, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    finally:
        workbook_path.unlink(missing_ok=True)
    return digest.hexdigest(), rows, [h.strip().lower() for h in header], ","


def _write_sheet(workbook_path, sheet, mapping, path):
    """The sheet written to ``path`` as the importer's CSV; (its header, data rows)."""
    records = _sheet_records(workbook_path, sheet)
    header = next(records, None)
    if not header or not any(header):
        raise Problem(422, "Empty file", "The sheet is empty.", kind="empty-file")
    to_row = _checked(header, ",", mapping)
    if to_row is not None:
        header = list(COLUMNS)
    fd = _private_file(path)
    rows = 0
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        for record in records:
            if any(record):  # Excel keeps the shape of rows that were cleared
                writer.writerow(record if to_row is None else to_row(record))
                rows += 1
    return header, rows


def _sheet_records(workbook_path, sheet):
    """The sheet's rows as lists of text, as a CSV export would write them."""
    try:
        workbook = openpyxl.load_workbook(workbook_path, read_only=True, data_only=True)
    except _DAMAGED as exc:
        raise _not_a_workbook(exc) from None
    try:
        if sheet is None:
            worksheet = workbook.worksheets[0]
        elif sheet in workbook.sheetnames:
            worksheet = workbook[sheet]
        else:
            raise Problem(422, "No such sheet", f"The workbook has no sheet {sheet!r}; it has: "
                                                f"{', '.join(workbook.sheetnames)}.", kind="no-such-sheet")
        rows = worksheet.iter_rows(values_only=True)
        while True:
            try:
                row = next(rows, None)
            except _DAMAGED as exc:  # the sheet's XML is read as the rows are
                raise _not_a_workbook(exc) from None
            if row is None:
                return
            yield [_cell_text(value) for value in row]
    finally:
        workbook.close()


# what openpyxl raises for a file that is no workbook or a damaged one (XML errors are SyntaxErrors)
_DAMAGED = (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, SyntaxError, EOFError)


def _not_a_workbook(exc):
    return Problem(422, "Not a workbook", f"The file is not an Excel workbook (.xlsx): {exc}.",
                   kind="not-a-workbook")


def _cell_text(value):
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a NIK or an income typed as a number
    return str(value)


def _check_size(content_length, max_bytes):
    if content_length is None:
        raise length_required("Send the file with a Content-Length.")
    if content_length > max_bytes:
        raise content_too_large(f"An import is at most {max_bytes} bytes.")


def _private_file(path):
    """A new file only this user may read (never an existing one or a link); its descriptor."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)


def _blocks(stream, content_length, digest):
    received = 0
    while received < content_length:
        block = stream.read(min(CHUNK, content_length - received))
        if not block:
            raise bad_request("The upload ended before its Content-Length.")
        digest.update(block)
        received += len(block)
        yield block


def _header(line, delimiter, mapping=None):
    """(the header, the delimiter, how a record becomes an import row where a
    mapping applies, else None); a 4xx problem if the header will not do."""
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Problem(422, "Not UTF-8", "The file is not UTF-8 text.", kind="not-utf-8") from None
    delimiter = delimiter or detect_delimiter(text)
    try:
        header = next(csv.reader([text], delimiter=delimiter), None)
    except csv.Error as exc:  # e.g. lines ended by a lone CR
        raise Problem(422, "Bad header", f"The first line is not a CSV header ({exc}); lines must end"
                                         " with LF or CRLF.", kind="bad-header") from None
    if not header:
        raise Problem(422, "Empty file", "The file is empty.", kind="empty-file")
    return header, delimiter, _checked(header, delimiter, mapping)


def _checked(header, delimiter, mapping):
    try:
        if mapping is None:
            column_order(header, delimiter)
            return None
        positions = mappings.plan(mapping, header)
        return lambda record: mappings.convert(mapping, positions, record)
    except HeaderError as exc:
        expected = "" if mapping else f" Expected: {', '.join(COLUMNS)}."
        raise Problem(422, "Bad header", f"{exc}{expected}", kind="bad-header") from None


def _copy(first, blocks, out):
    """The upload as it is; returns (line ends, its last byte)."""
    lines, last = 0, b"\n"
    for block in itertools.chain([first], blocks):
        if block:
            lines += block.count(b"\n")
            last = block[-1:]
            out.write(block)
    return lines, last


def _convert(first, blocks, out, delimiter, to_row=None):
    """The upload's records written comma-separated (UTF-8, LF, no BOM, as
    the importer reads), through ``to_row`` (a mapping) if given, under the
    registry's header; returns how many."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    writer = csv.writer(text, lineterminator="\n")
    records = 0
    try:
        for record in csv.reader(_text_lines(itertools.chain([first], blocks)), delimiter=delimiter):
            if to_row is None:
                writer.writerow(record)
            elif records == 0:
                writer.writerow(COLUMNS)
            else:
                writer.writerow(to_row(record))
            records += 1
    except UnicodeDecodeError:
        raise Problem(422, "Not UTF-8", "The file is not UTF-8 text.", kind="not-utf-8") from None
    except csv.Error as exc:
        raise Problem(422, "Bad CSV", f"Record {records + 1} cannot be read: {exc}.", kind="bad-csv") from None
    finally:
        text.flush()
        text.detach()
    return records


def _text_lines(blocks):
    """Lines (each with its LF; CRLF kept whole) of UTF-8 blocks, a byte-order
    mark dropped. Only LF ends a line, as for the csv module."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    pending = ""
    for block in blocks:
        *lines, pending = (pending + decoder.decode(block)).split("\n")
        for line in lines:
            yield line + "\n"
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


def upload(db, identity, folder, stream, content_length, filename, config, delimiter=None, media_type="text/csv",
           sheet=None, dry_run=False, mapping=None):
    """Receive an uploaded list (a CSV file's bytes, read from ``stream``)
    into ``folder``, record the import and start its importer; the import's
    progress as the answer."""
    max_bytes = int(config.get("IMPORT_MAX_BYTES") or DEFAULT_MAX_BYTES)
    import_id = new_import_id()
    path = upload_path(folder, import_id)
    if media_type == XLSX:
        sha256, rows, header, delimiter = receive_workbook(stream, content_length, max_bytes, path, sheet, mapping)
    else:
        sha256, rows, header, delimiter = receive(stream, content_length, max_bytes, path, delimiter, mapping)
    filename = (filename or "upload.csv")[:200]
    try:
        with db.transaction() as uow:
            create(uow, identity, import_id, filename, sha256, rows, header, delimiter, dry_run)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    try:
        process = start(dsn_from_config(config), import_id, path, identity, config, dry_run)
    except OSError as exc:
        with db.transaction() as uow:
            mark_failed(uow, import_id, f"The importer could not start: {exc}")
        path.unlink(missing_ok=True)
        raise
    eventlet.spawn(_reap, db, import_id, process, path)
    with db.transaction() as uow:
        record_process(uow, import_id, process.pid)
        return progress(load(uow, identity, import_id))


def _reap(db, import_id, process, path):
    """Wait for the importer; if it died without saying so (killed), mark the
    import failed and release the relay's hold at once. Its upload goes
    either way (the importer removes it itself unless it was killed)."""
    code = process.wait()
    path.unlink(missing_ok=True)
    if code != 0:
        with db.transaction() as uow:
            fail_if_running(uow, import_id)


def new_import_id():
    """A UUIDv7: 48 bits of Unix time in milliseconds, then random bits; the
    importer derives its row ids from the time part."""
    value = (time.time_ns() // 1_000_000) << 80 | (0x7 << 76) | (secrets.randbits(12) << 64) \
        | (0b10 << 62) | secrets.randbits(62)
    return str(uuid.UUID(int=value))


def create(uow, identity, import_id, filename, sha256, total_rows, header, delimiter=",", dry_run=False):
    storage.insert_import(uow, {"id": import_id, "agency": identity.agency, "role": identity.role,
                                "regions": list(identity.regions), "filename": filename, "sha256": sha256,
                                "total_rows": total_rows, "header": header, "delimiter": delimiter,
                                "dry_run": dry_run})
    return import_id


def start(dsn, import_id, path, identity, config, dry_run=False):
    """Start the importer process; the job (with the database address, which
    may hold a password) goes on its standard input, not its command line."""
    job = {"dsn": dsn, "settings": {"welfare": config.get("WELFARE") or {},
                                    "rebuild_min_rows": config.get("IMPORT_REBUILD_MIN_ROWS")},
           "identity": {"agency": identity.agency, "kind": identity.kind, "role": identity.role,
                        "regions": list(identity.regions)},
           "delete_file": True, "dry_run": dry_run}
    process = subprocess.Popen(
        [sys.executable, "-m", "setiakawan_registry.importer", "--import-id", import_id,
         "--file", str(path), "--job", "-"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, start_new_session=True)
    process.stdin.write(json.dumps(job).encode())
    process.stdin.close()
    return process


def hold_key(import_id):
    """The key of the outbox hold an import takes while it runs."""
    return f"import:{import_id}"


def record_process(uow, import_id, pid):
    uow.execute("UPDATE imports SET pid = COALESCE(pid, %s), host = %s WHERE id = %s",
                (pid, socket.gethostname(), import_id))


def mark_failed(uow, import_id, error):
    """Record an import as failed; the error is stored redacted, as logs are."""
    uow.execute("UPDATE imports SET status = 'failed', finished_at = now(), error = %s WHERE id = %s",
                (redact(error), str(import_id)))


def load(uow, identity, import_id):
    """The import, if the caller's agency made it (or the caller is an admin
    whose regions cover the importing agency's)."""
    row = uow.fetchone("SELECT * FROM imports WHERE id = %s", (str(import_id),))
    if row is None or not (row["agency"] == identity.agency
                           or (identity.role == "admin" and all(identity.covers(r) for r in row["regions"]))):
        raise not_found(f"No import {import_id} of your agency.")
    if (row["status"] in ("queued", "running") and row["pid"] and row["host"] == socket.gethostname()
            and not alive(row["pid"])):  # its process died while no service of this host watched it
        fail_if_running(uow, import_id)
        row = uow.fetchone("SELECT * FROM imports WHERE id = %s", (str(import_id),))
    return row


def fail_if_running(uow, import_id):
    row = uow.fetchone("UPDATE imports SET status = 'failed', finished_at = now(), error = %s"
                       " WHERE id = %s AND status IN ('queued', 'running') RETURNING id",
                       ("The import process stopped unexpectedly; upload the file again: "
                        "households already imported are skipped.", str(import_id)))
    if row:  # what it committed is published now rather than when its hold's lease ends
        outbox.release(uow.cursor, hold_key(import_id))


def progress(row):
    out = {k: row[k] for k in ("id", "status", "stage", "filename", "sha256", "total_rows", "processed_rows",
                               "accepted_rows", "already_registered", "rejected_rows", "households_created",
                               "error", "created_at", "started_at", "finished_at", "dry_run")}
    total = row["total_rows"] or 0
    done = {"queued": 0, "importing": 0, "flagging": 0.95, "done": 1.0}.get(row["stage"], 0)
    if row["stage"] == "importing" and total:
        done = 0.95 * min(1, row["processed_rows"] / total)
    out["progress"] = round(done, 3)
    return out


def rejections(uow, identity, audit, import_id):
    """The rejected rows of an import with their reasons, as CSV under our
    column order, as the caller may see them (``disclosure.import_row``);
    the read is logged once per region of the import."""
    row = load(uow, identity, import_id)
    shown = personal_data.level(identity)
    personal_data.record(uow, identity, audit, personal_data.REJECTIONS, shown,
                         [personal_data.entry(None, region, import_id=row["id"]) for region in row["regions"]])
    return rejections_csv(uow, import_id, row["header"] or list(COLUMNS), shown, row["delimiter"])


def rejections_csv(uow, import_id, header, shown, delimiter=","):
    """With a byte-order mark and the upload's own delimiter, so that Excel
    opens it as it opened the upload."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(["line", "reason", *COLUMNS])
    positions = [header.index(c) for c in COLUMNS]
    for row in storage.import_rejections(uow, import_id):
        fields = next(csv.reader([row["row_text"]]), [])
        if len(fields) == len(header):  # in our column order
            fields = disclosure.import_row(COLUMNS, [fields[i] for i in positions], shown)
        else:
            fields = disclosure.import_row(header, fields, shown)
        writer.writerow([row["line"], disclosure.reason(row["reason"], shown), *fields])
    return out.getvalue()


def repair_indexes(dsn):
    """Build the bulk-load indexes an import dropped and could not build
    again (it was killed): run when the service starts and when it finds an
    import's process gone. Returns the names built."""
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            missing = storage.missing_bulk_load_indexes(cur)
            if not missing:
                return []
            cur.execute("SELECT pg_try_advisory_lock(%s)", (storage.BULK_LOCK,))
            if not cur.fetchone()[0]:
                return []  # an import is loading with them dropped: it builds them
            try:
                storage.build_bulk_load_indexes(cur)
                conn.commit()
            finally:
                cur.execute("SELECT pg_advisory_unlock(%s)", (storage.BULK_LOCK,))
                conn.commit()
        log.warning("built the indexes an interrupted import had dropped: %s", ", ".join(missing))
        return missing
    finally:
        conn.close()
