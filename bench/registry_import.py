"""Registry bulk import at a million members, and lookups at that size.

    python bench/registry_import.py [--members 1000000] [--quick]

* generates (once, cached under bench/out/) a CSV of about 1,000,000 members
  in about 250,000 households in real Kalimantan villages, with valid NIKs for
  their districts, Indonesian names, ~1% bad rows and ~1% people repeated;
* starts the registry service on a fresh database and vhost, uploads the
  file to ``POST /imports`` and polls ``GET /imports/<id>`` until it is done:
  the real import path (validation, duplicate checks, storage, one outbox
  event per household). ``import_seconds`` runs from the upload until the
  import is completed; ``import_rows_per_s`` = data rows / import_seconds;
* raw baseline in the same run: PostgreSQL ``COPY`` of the same file into a
  bare table of text columns (``copy_rows_per_s``, ``ratio_to_copy``); a
  ``CHECKPOINT`` then writes out what it left behind before the import starts;
* the relay holds the registry's outbox while an import runs;
  ``outbox_drain_seconds`` is how long it then takes to publish the
  import's events (with publisher confirms) to RabbitMQ;
* then, with the million members in place, the p99 of a likely-duplicate
  lookup for a random member and of a name search within a regency
  (``duplicate_lookup_p99_ms``, ``name_search_p99_ms``), through the
  registry's own storage functions;
* then the same list as offices save it, each into a registry of its own:
  as a DTKS export (semicolons, CRLF, the export's headers and codes, dates
  day first) through the built-in ``dtks`` mapping
  (``semicolon_rows_per_s``), and its first 100,000 rows as an Excel
  workbook (``xlsx_rows_per_s``); ``--skip-forms`` leaves them out.

Figures go to stdout as ``name: value`` lines; context lines start with ``#``.
"""
import argparse
import csv
import os
import shutil
import random
import statistics
import sys
import tempfile
import time
import urllib.parse
import uuid
from contextlib import closing
from pathlib import Path

import harness  # first: it puts the repository on sys.path and quiets eventlet's warning
import psycopg2
import requests

from setiakawan_kit import auth, migrate
from setiakawan_kit.db import UnitOfWork, database_dsn
from setiakawan_kit import keys
from setiakawan_kit.testing import (LOCAL_AMQP_URI, LOCAL_DATABASE_URL, Broker, BrokerAccounts,
                                    ServiceProcess, service_class, service_config)
from setiakawan_registry import SERVICE, storage
from setiakawan_registry.imports import XLSX
from setiakawan_registry.rules import duplicates, mappings
from setiakawan_registry.rules.rows import COLUMNS
from demo.population import Population, write_csv

OUT = harness.ROOT / "bench" / "out"
XLSX_ROWS = 100_000


def say(line):
    print(line, flush=True)


def data_file(members, seed=1):
    path = OUT / f"registry-{members}-{seed}.csv"
    if path.exists():
        return path, sum(1 for _ in open(path, "rb")) - 1
    OUT.mkdir(parents=True, exist_ok=True)
    population = Population(seed=seed)
    started = time.perf_counter()
    households, count = [], 0
    while count < members:
        household = population.household()
        households.append(household)
        count += len(household)
    tmp = path.with_suffix(".tmp")
    rows = write_csv(tmp, households, bad_share=0.01, duplicate_share=0.01 / 4, seed=seed)
    tmp.rename(path)
    say(f"# generated {rows} rows in {len(households)} households in {time.perf_counter() - started:.1f}s")
    return path, rows


def dtks_file(path):
    """The list as a DTKS export saved by Excel in the Indonesian locale:
    semicolons, the export's headers and codes, dates day first."""
    out = path.with_name(path.stem + "-dtks.csv")
    if out.exists():
        return out
    names = {column: header for header, column in mappings.DTKS.columns.items()}
    words = {column: {value: code for code, value in codes.items()} for column, codes in mappings.DTKS.values.items()}
    tmp = out.with_suffix(".tmp")
    with open(path, newline="", encoding="utf-8") as source, open(tmp, "w", newline="", encoding="utf-8") as f:
        reader = csv.reader(source)
        header = next(reader)
        writer = csv.writer(f, delimiter=";", lineterminator="\r\n")
        writer.writerow([names.get(c, c).upper() for c in header])
        born = header.index("birth_date")
        for record in reader:
            record = [words[c].get(v, v) if c in words else v for c, v in zip(header, record)]
            value = record[born]
            if len(value) == 10 and value[4] == "-":
                record[born] = f"{value[8:10]}-{value[5:7]}-{value[0:4]}"
            writer.writerow(record)
    tmp.rename(out)
    return out


def xlsx_file(path, rows):
    """The first ``rows`` rows of the list as an Excel workbook."""
    import openpyxl

    out = path.with_name(f"{path.stem}-{rows}.xlsx")
    if out.exists():
        return out
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Data")
    with open(path, newline="", encoding="utf-8") as source:
        for i, record in enumerate(csv.reader(source)):
            if i > rows:
                break
            sheet.append(record)
    tmp = out.with_suffix(".tmp.xlsx")
    workbook.save(tmp)
    tmp.rename(out)
    return out


def import_into_fresh_registry(start, path, token, label, **upload):
    """Rows per second of one import into a registry of its own (a fresh database)."""
    service, dsn = start()
    try:
        checkpoint(dsn)
        seconds, state = import_through_http(service, path, token, **upload)
    finally:
        service.stop()
    if state["status"] != "completed":
        say(f"# {label} import failed: {state['error']}")
        sys.exit(1)
    rows = state["total_rows"]
    say(f"# {label}: {rows} rows in {seconds:.1f} s, accepted {state['accepted_rows']}, "
        f"rejected {state['rejected_rows']}")
    return rows / seconds


def raw_copy(dsn, path):
    columns = ", ".join(f"{c} text" for c in COLUMNS)
    with closing(psycopg2.connect(dsn)) as conn, conn, conn.cursor() as cur:
        cur.execute(f"CREATE TABLE bench_copy ({columns})")
        started = time.perf_counter()
        with open(path) as f:
            cur.copy_expert("COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)", f)
        conn.commit()
        elapsed = time.perf_counter() - started
        cur.execute("DROP TABLE bench_copy")
    return elapsed


def checkpoint(dsn):
    """Write out what earlier steps left in PostgreSQL's buffers and WAL (the
    raw COPY baseline leaves a table's worth), so that the import does not
    pay for them; needs a superuser or the pg_checkpoint role."""
    try:
        with closing(psycopg2.connect(dsn)) as conn:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("CHECKPOINT")
        return True
    except psycopg2.Error as exc:
        say(f"# no CHECKPOINT before the import ({str(exc).strip()})")
        return False


def import_through_http(service, path, token, content_type="text/csv", **params):
    started = time.perf_counter()
    with open(path, "rb") as f:
        response = requests.post(service.url + "/imports", data=f, params={"filename": path.name, **params},
                                 timeout=600, headers={"Authorization": f"Bearer {token}",
                                                       "Content-Type": content_type})
    response.raise_for_status()
    say(f"# upload answered after {time.perf_counter() - started:.1f}s")
    import_id = response.json()["id"]
    while True:
        state = requests.get(f"{service.url}/imports/{import_id}", headers={"Authorization": f"Bearer {token}"},
                             timeout=60).json()
        if state["status"] in ("completed", "failed"):
            return time.perf_counter() - started, state
        time.sleep(0.1)


def outbox_drain(dsn):
    """Seconds from the end of the import until the relay has published the
    import's events (it holds them while the import runs)."""
    started = time.perf_counter()
    with closing(psycopg2.connect(dsn)) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            while True:
                cur.execute("SELECT count(*) FROM kit_outbox WHERE sent_at IS NULL")
                if cur.fetchone()[0] == 0:
                    return time.perf_counter() - started
                time.sleep(0.5)


def p99(samples):
    return statistics.quantiles(samples, n=100)[98] * 1000


def lookups(dsn, samples):
    rng = random.Random(5)
    conn = psycopg2.connect(dsn)
    conn.autocommit = True

    uow = UnitOfWork(conn, "registry")
    uow.execute("SELECT id, name_norm, regency_code FROM members TABLESAMPLE SYSTEM (1) LIMIT %s", (samples,))
    picked = uow.cursor.fetchall()
    duplicate_times, search_times = [], []
    for row in picked:
        started = time.perf_counter()
        storage.likely_duplicates(uow, [row["id"]], duplicates.LIKELY_SIMILARITY)
        duplicate_times.append(time.perf_counter() - started)
        words = row["name_norm"].split()
        query = rng.choice(words) if rng.random() < 0.5 else row["name_norm"]
        started = time.perf_counter()
        storage.search_by_name(uow, query, (row["regency_code"],), None, 20, 0)
        search_times.append(time.perf_counter() - started)
    conn.close()
    return p99(duplicate_times), p99(search_times), len(picked)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="50,000 members")
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--skip-forms", action="store_true",
                        help="no semicolon (DTKS export, built-in mapping) or workbook import")
    args = parser.parse_args()
    members = 50_000 if args.quick else args.members

    path, rows = data_file(members)
    say(f"# {rows} data rows in {path.name} ({path.stat().st_size / 1e6:.0f} MB)")
    database_url = LOCAL_DATABASE_URL
    amqp = urllib.parse.urlsplit(LOCAL_AMQP_URI)
    broker = Broker(amqp.hostname, amqp.port,
                    os.environ.get("RABBITMQ_MANAGEMENT_URL") or f"http://{amqp.hostname}:15672")
    vhost = f"setiakawan-bench-{uuid.uuid4().hex[:8]}"
    name = f"setiakawan_bench_registry_{uuid.uuid4().hex[:8]}"
    names = [name]
    broker.add_vhost(vhost)
    service = None
    upload_dir = tempfile.mkdtemp(prefix="setiakawan-bench-")
    token_keys = keys.KeyFiles(Path(upload_dir) / "keys")  # the bench's own token issuer
    signing_key, _ = token_keys.init()
    accounts = BrokerAccounts(broker, f"bench-{uuid.uuid4().hex[:8]}-")  # the registry runs as its own user
    try:
        migrate.migrate(database_url, name, SERVICE.migrations)
        dsn = database_dsn(database_url, name)
        copy_seconds = raw_copy(dsn, path)
        account = accounts.for_service(vhost, "registry", service_class(SERVICE.module))
        config = service_config("registry", account, database_url, name, token_keys.jwks, **SERVICE.test_config,
                                BROKER_USER_PREFIX=accounts.prefix, IMPORT_DIR=str(Path(upload_dir) / "uploads"))
        service = ServiceProcess("registry", SERVICE.module, config).start()
        token = auth.issue_token(signing_key, "Dinas Sosial Provinsi", "province", "operator",
                                 ["61", "62", "63", "64", "65"])
        checkpoint(dsn)
        seconds, state = import_through_http(service, path, token)
        if state["status"] != "completed":
            say(f"# import failed: {state['error']}")
            sys.exit(1)
        say(f"# accepted {state['accepted_rows']}, rejected {state['rejected_rows']}, "
            f"households {state['households_created']}")
        drain_seconds = outbox_drain(dsn)
        duplicate_p99, search_p99, samples = lookups(dsn, args.samples)
        say(f"# lookups over {samples} sampled members")
        say(f"import_rows_per_s: {rows / seconds:.0f}")
        say(f"import_seconds: {seconds:.2f}")
        say(f"copy_rows_per_s: {rows / copy_seconds:.0f}")
        say(f"ratio_to_copy: {copy_seconds / seconds:.3f}")
        say(f"outbox_drain_seconds: {drain_seconds:.1f}")
        say(f"duplicate_lookup_p99_ms: {duplicate_p99:.1f}")
        say(f"name_search_p99_ms: {search_p99:.1f}")
        if not args.skip_forms:
            service.stop()

            def start():
                database = f"setiakawan_bench_registry_{uuid.uuid4().hex[:8]}"
                names.append(database)
                migrate.migrate(database_url, database, SERVICE.migrations)
                fresh = ServiceProcess("registry", SERVICE.module, dict(config, DATABASE_NAME=database)).start()
                return fresh, database_dsn(database_url, database)

            semicolon = import_into_fresh_registry(start, dtks_file(path), token, "semicolon DTKS export",
                                                   mapping="dtks")
            xlsx = import_into_fresh_registry(start, xlsx_file(path, XLSX_ROWS), token, "workbook",
                                              content_type=XLSX)
            say(f"semicolon_rows_per_s: {semicolon:.0f}")
            say(f"xlsx_rows_per_s: {xlsx:.0f}")
    finally:
        shutil.rmtree(upload_dir, ignore_errors=True)
        if service is not None:
            service.stop()
        for database in names:
            migrate.drop_database(database_url, database)
        broker.delete_vhost(vhost)
        accounts.delete_all()


if __name__ == "__main__":
    main()
