"""Uploads of existing lists: store the file, start the importer process,
report its progress and its rejected rows."""
import csv
import hashlib
import io
import json
import logging
import os
import subprocess
import sys
import secrets
import socket
import tempfile
import time
import uuid
from pathlib import Path

import eventlet
import psycopg2

from setiakawan_kit import outbox
from setiakawan_kit.db import dsn_from_config
from setiakawan_kit.problems import (Problem, bad_request, content_too_large, length_required, not_found,
                                     unsupported_media_type)

from . import personal_data, storage
from .rules import disclosure
from .rules.rows import COLUMNS, HeaderError, column_order

log = logging.getLogger(__name__)

CHUNK = 1 << 20
DEFAULT_MAX_BYTES = 512 * 1024 * 1024


def import_dir(config):
    path = Path(config.get("IMPORT_DIR") or Path(tempfile.gettempdir()) / "setiakawan-imports")
    path.mkdir(parents=True, exist_ok=True)
    return path


def receive(stream, content_length, max_bytes, directory):
    """Write an uploaded CSV to ``directory``; returns (path, sha256, data
    rows, the header's column names). Refuses (4xx) what is too large, not
    UTF-8 or lacks our header."""
    if content_length is None:
        raise length_required("Send the file with a Content-Length.")
    if content_length > max_bytes:
        raise content_too_large(f"An import is at most {max_bytes} bytes.")
    path = directory / f"{uuid.uuid4()}.csv"
    digest, lines, received, first, last = hashlib.sha256(), 0, 0, b"", b"\n"
    try:
        with open(path, "wb") as out:
            while received < content_length:
                block = stream.read(min(CHUNK, content_length - received))
                if not block:
                    break
                if len(first) < 65536:
                    first += block[:65536]
                digest.update(block)
                lines += block.count(b"\n")
                received += len(block)
                last = block[-1:]
                out.write(block)
        if received < content_length:
            raise bad_request("The upload ended before its Content-Length.")
        header_line = first.split(b"\n", 1)[0]
        try:
            header = next(csv.reader([header_line.decode("utf-8-sig")]), None)
        except UnicodeDecodeError:
            raise Problem(422, "Not UTF-8", "The file is not UTF-8 text.", kind="not-utf-8") from None
        except csv.Error as exc:  # e.g. lines ended by a lone CR
            raise Problem(422, "Bad header", f"The first line is not a CSV header ({exc}); lines must end"
                                             " with LF or CRLF.", kind="bad-header") from None
        if not header:
            raise Problem(422, "Empty file", "The file is empty.", kind="empty-file")
        try:
            column_order(header)
        except HeaderError as exc:
            raise Problem(422, "Bad header", f"{exc} Expected: {', '.join(COLUMNS)}.", kind="bad-header") from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    data_rows = lines + (0 if last == b"\n" else 1) - 1
    return path, digest.hexdigest(), max(data_rows, 0), [h.strip().lower() for h in header]


def upload(db, settings, identity, request, config):
    """Receive an uploaded list, record the import and start its importer;
    the import's progress as the answer."""
    if request.mimetype != "text/csv":
        raise unsupported_media_type("Upload the list as text/csv.")
    max_bytes = int(config.get("IMPORT_MAX_BYTES") or DEFAULT_MAX_BYTES)
    path, sha256, rows, header = receive(request.stream, request.content_length, max_bytes, import_dir(config))
    filename = (request.args.get("filename") or "upload.csv")[:200]
    try:
        with db.transaction() as uow:
            import_id = create(uow, identity, filename, sha256, rows, header)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    try:
        process = start(dsn_from_config(config), import_id, path, settings, identity, config)
    except OSError as exc:
        with db.transaction() as uow:
            mark_failed(uow, import_id, f"The importer could not start: {exc}")
        path.unlink(missing_ok=True)
        raise
    eventlet.spawn(_reap, db, import_id, process)
    with db.transaction() as uow:
        record_process(uow, import_id, process.pid)
        return progress(load(uow, identity, import_id))


def _reap(db, import_id, process):
    """Wait for the importer; if it died without saying so (killed), mark the
    import failed and release the relay's hold at once."""
    if process.wait() != 0:
        with db.transaction() as uow:
            fail_if_running(uow, import_id)


def new_import_id():
    """A UUIDv7: 48 bits of Unix time in milliseconds, then random bits; the
    importer derives its row ids from the time part."""
    value = (time.time_ns() // 1_000_000) << 80 | (0x7 << 76) | (secrets.randbits(12) << 64) \
        | (0b10 << 62) | secrets.randbits(62)
    return str(uuid.UUID(int=value))


def create(uow, identity, filename, sha256, total_rows, header):
    import_id = new_import_id()
    storage.insert_import(uow, {"id": import_id, "agency": identity.agency, "role": identity.role,
                                "regions": list(identity.regions), "filename": filename, "sha256": sha256,
                                "total_rows": total_rows, "header": header})
    return import_id


def start(dsn, import_id, path, settings, identity, config):
    """Start the importer process; the job (with the database address and
    the match secret) goes on its standard input, not its command line."""
    job = {"dsn": dsn, "settings": {"welfare": config.get("WELFARE") or {}, "match_secret": settings.match_secret,
                        "rebuild_min_rows": config.get("IMPORT_REBUILD_MIN_ROWS")},
           "identity": {"agency": identity.agency, "kind": identity.kind, "role": identity.role,
                        "regions": list(identity.regions)},
           "delete_file": True}
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
    uow.execute("UPDATE imports SET status = 'failed', finished_at = now(), error = %s WHERE id = %s",
                (error, str(import_id)))


def load(uow, identity, import_id):
    """The import, if the caller's agency made it (or the caller is an admin
    whose regions cover the importing agency's)."""
    row = uow.fetchone("SELECT * FROM imports WHERE id = %s", (str(import_id),))
    if row is None or not (row["agency"] == identity.agency
                           or (identity.role == "admin" and all(identity.covers(r) for r in row["regions"]))):
        raise not_found(f"No import {import_id} of your agency.")
    if (row["status"] in ("queued", "running") and row["pid"] and row["host"] == socket.gethostname()
            and not _alive(row["pid"])):  # its process died while no service of this host watched it
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
                               "error", "created_at", "started_at", "finished_at")}
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
    return rejections_csv(uow, import_id, row["header"] or list(COLUMNS), shown)


def rejections_csv(uow, import_id, header, shown):
    out = io.StringIO()
    writer = csv.writer(out)
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


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


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
