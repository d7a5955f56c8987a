"""Bulk import through the HTTP API and the importer process."""
import csv
import io
import json
import threading
import time
from datetime import date

import requests

from registry_support import assert_no_identifiers, count_rows, finished_import
from setiakawan_kit.testing import wait_for
from demo.population import Population, write_csv


def upload(registry, token, path_or_bytes, content_type="text/csv", regions=("62",)):
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else open(path_or_bytes, "rb").read()
    return requests.post(registry.url + "/imports", data=data, params={"filename": "dtks.csv"}, timeout=60,
                         headers={"Authorization": f"Bearer {token(regions=regions)}",
                                  "Content-Type": content_type})


def finished(registry, token, import_id, regions=("62",), timeout=120):
    return finished_import(registry, token(regions=regions), import_id, timeout)


def test_import_validates_commits_reports_and_reruns_without_duplicates(registry, token, tmp_path, db, capture):
    population = Population(seed=3, provinces=("62",))
    households = [population.household() for _ in range(300)]
    path = tmp_path / "dtks.csv"
    rows = write_csv(path, households, bad_share=0.03, duplicate_share=0.02, seed=5)
    # one household in another province, outside the token's regions
    outsider = Population(seed=4, provinces=("63",)).household(size=2)
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(outsider[0]))
        writer.writerows(outsider)
    rows += 2

    accepted = upload(registry, token, path)
    assert accepted.status_code == 202, accepted.text
    assert accepted.headers["Location"] == f"/imports/{accepted.json()['id']}"
    assert accepted.json()["total_rows"] == rows
    state = finished(registry, token, accepted.json()["id"])
    assert state["status"] == "completed", state
    assert state["progress"] == 1.0
    assert state["accepted_rows"] + state["rejected_rows"] == rows
    assert state["rejected_rows"] > 0 and state["households_created"] > 200
    assert count_rows(db, registry.database, "households") == state["households_created"]
    assert count_rows(db, registry.database, "members") == state["accepted_rows"]

    rejections = requests.get(f"{registry.url}/imports/{state['id']}/rejections", timeout=10,
                              headers={"Authorization": f"Bearer {token(regions=('62',))}"})
    assert rejections.headers["Content-Type"].startswith("text/csv")
    assert rejections.content.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    table = list(csv.DictReader(io.StringIO(rejections.content.decode("utf-8-sig"))))
    assert len(table) == state["rejected_rows"]
    reasons = " ".join(r["reason"] for r in table)
    assert "outside your regions" in reasons and "the same NIK is on line" in reasons
    assert all(r["line"].isdigit() and r["kk_number"] for r in table)

    with db(registry.database).cursor() as cur:
        cur.execute("SELECT id FROM households LIMIT 1")
        household_id = cur.fetchone()[0]
    history = requests.get(f"{registry.url}/households/{household_id}/history", timeout=10,
                           headers={"Authorization": f"Bearer {token(regions=('62',))}"}).json()["items"]
    assert [(h["action"], h["changes"]["import_id"]) for h in history] == [("imported", state["id"])]

    events = capture.wait_for(state["households_created"], timeout=30)
    assert len([t for t, _ in events if t == "household.registered"]) == state["households_created"]
    assert_no_identifiers(capture.messages, {row[c] for household in households for row in household
                                             for c in ("kk_number", "nik")})

    again = finished(registry, token, upload(registry, token, path).json()["id"])
    assert again["status"] == "completed"
    assert again["households_created"] == 0 and again["accepted_rows"] == 0
    assert again["already_registered"] == state["accepted_rows"]
    assert count_rows(db, registry.database, "members") == state["accepted_rows"]
    assert capture.events() == []


def test_bad_uploads_are_refused_and_store_nothing(registry, token, tmp_path, db):
    cases = [
        (b"just,some,columns\n1,2,3\n", "text/csv", 422, "bad-header"),
        (b"\xff\xfe\x00garbage", "text/csv", 422, "not-utf-8"),
        (b"", "text/csv", 422, "empty-file"),
        (b"kk_number\n", "application/json", 415, "unsupported-media-type"),
        (b"kk_number,street\r1,2\r", "text/csv", 422, "bad-header"),  # lines ended by a lone CR
    ]
    for data, content_type, status, kind in cases:
        response = upload(registry, token, data, content_type)
        assert response.status_code == status, (kind, response.text)
        assert response.json()["type"].endswith(kind)
    assert count_rows(db, registry.database, "imports") == 0


def test_oversized_upload_is_413(make_database, run_service, token, tmp_path):
    from setiakawan_registry import SERVICE

    small = run_service("registry-small", SERVICE.module, make_database(SERVICE.migrations, prefix="registry"),
                        IMPORT_MAX_BYTES=1000, IMPORT_DIR=str(tmp_path / "uploads"), **SERVICE.test_config)
    response = upload(small, token, b"x" * 5000)
    assert response.status_code == 413
    assert list((tmp_path / "uploads").iterdir()) == []


def test_rows_with_wrong_column_count_or_encoding_inside_are_rejected(registry, token, tmp_path):
    population = Population(seed=9, provinces=("62",))
    households = [population.household(size=1) for _ in range(5)]
    # values PostgreSQL would refuse at COPY: their rows are refused, not the import
    households[3][0].update(legal_basis="public_duty", consent_date="kemarin")
    households[4][0].update(name="Siti\x00Aminah")
    path = tmp_path / "mixed.csv"
    write_csv(path, households)
    with open(path, "a") as f:
        f.write("only,three,columns\n")
    state = finished(registry, token, upload(registry, token, path).json()["id"])
    assert state["status"] == "completed"
    assert (state["households_created"], state["rejected_rows"]) == (3, 3)


def test_operator_imports_with_the_command_line_tool(registry, token, tmp_path):
    from click.testing import CliRunner

    from setiakawan_kit.cli import main

    population = Population(seed=12, provinces=("62",))
    path = tmp_path / "desa.csv"
    write_csv(path, [population.household() for _ in range(40)], bad_share=0.05, seed=2)
    saved = tmp_path / "rejected.csv"
    result = CliRunner().invoke(main, ["import", str(path), "--url", registry.url, "--token",
                                       token(regions=("62",)), "--rejections", str(saved)])
    assert result.exit_code == 0, result.output
    assert "households created:" in result.output
    assert saved.read_text(encoding="utf-8-sig").startswith("line,reason,kk_number")
    refused = CliRunner().invoke(main, ["import", str(path), "--url", registry.url, "--token", "junk"])
    assert refused.exit_code == 1 and "401" in refused.output
    viewer = CliRunner().invoke(main, ["import", str(path), "--url", registry.url,
                                       "--token", token(role="viewer", regions=("62",))])
    assert viewer.exit_code == 1 and "403" in viewer.output


def test_likely_duplicates_within_an_import_are_flagged_for_review(registry, token, tmp_path):
    population = Population(seed=31, provinces=("62",))
    first = population.household(village="62.13.01.2003", size=1)
    second = population.household(village="62.13.01.1012", size=1)
    head = first[0]
    # the same person, it seems: same birth date and regency, one letter off, another NIK and family card
    born = date.fromisoformat(head["birth_date"])
    second[0].update(name=head["name"] + "h", birth_date=head["birth_date"], sex=head["sex"],
                     nik=population.nik("62.13.01", born, head["sex"]))
    path = tmp_path / "twins.csv"
    write_csv(path, [first, second])
    state = finished(registry, token, upload(registry, token, path).json()["id"])
    assert (state["status"], state["households_created"]) == ("completed", 2)
    duplicates = requests.get(f"{registry.url}/duplicates", timeout=10,
                              headers={"Authorization": f"Bearer {token(regions=('62',))}"}).json()["items"]
    assert len(duplicates) == 1
    assert duplicates[0]["similarity"] >= 0.6 and "same birth date and regency" in duplicates[0]["reason"]


def test_likely_duplicates_of_members_registered_before_are_flagged(registry, token, tmp_path):
    from registry_samples import household_body

    headers = {"Authorization": f"Bearer {token(regions=('62',))}"}
    assert requests.post(f"{registry.url}/households", json=household_body(), headers=headers,
                         timeout=10).status_code == 201  # Siti Aminah, born 1985-07-01, Barito Timur
    population = Population(seed=33, provinces=("62",))
    household = population.household(village="62.13.01.1012", size=1)
    household[0].update(name="Siti Aminah", birth_date="1985-07-01", sex="F",
                        nik=population.nik("62.13.01", date(1985, 7, 1), "F"))
    path = tmp_path / "again.csv"
    write_csv(path, [household])
    state = finished(registry, token, upload(registry, token, path).json()["id"])
    assert (state["status"], state["households_created"]) == ("completed", 1)
    duplicates = requests.get(f"{registry.url}/duplicates", headers=headers, timeout=10).json()["items"]
    assert len(duplicates) == 1 and duplicates[0]["similarity"] == 1.0


def test_a_large_import_rebuilds_the_indexes_it_dropped(make_database, run_service, token, tmp_path, db, capture,
                                                        infrastructure):
    """An import at least IMPORT_REBUILD_MIN_ROWS long, into a registry that
    holds fewer members, drops the search indexes while it loads and builds
    them after; its events wait for the end and then all leave."""
    from setiakawan_kit.db import database_dsn
    from setiakawan_registry import SERVICE, storage

    database = make_database(SERVICE.migrations, prefix="registry")
    registry = run_service("registry", SERVICE.module, database, IMPORT_DIR=str(tmp_path / "imports"),
                           IMPORT_REBUILD_MIN_ROWS=10, **SERVICE.test_config)
    registry.database = database
    population = Population(seed=41, provinces=("62",))
    path = tmp_path / "large.csv"
    write_csv(path, [population.household() for _ in range(150)], bad_share=0.02, seed=3)
    state = finished(registry, token, upload(registry, token, path).json()["id"])
    assert state["status"] == "completed" and state["households_created"] > 100, state
    with db(database).cursor() as cur:
        assert storage.missing_bulk_load_indexes(cur) == []
        cur.execute("SELECT count(*) FROM kit_outbox_holds")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT name_norm FROM members LIMIT 1")
        name = cur.fetchone()[0]
    found = requests.get(f"{registry.url}/households", params={"name": name, "region": "62"}, timeout=10,
                         headers={"Authorization": f"Bearer {token(regions=('62',))}"})
    assert found.status_code == 200 and found.json()["items"], found.text
    events = capture.wait_for(state["households_created"], timeout=30)
    assert len(events) == state["households_created"]

    # an import killed during its load leaves them dropped: the service builds them
    with db(database).cursor() as cur:
        storage.drop_bulk_load_indexes(cur)
        assert len(storage.missing_bulk_load_indexes(cur)) == len(storage.BULK_LOAD_INDEXES) + 1
    from setiakawan_registry import imports
    built = imports.repair_indexes(database_dsn(infrastructure.database_url, database))
    assert set(built) == set(storage.BULK_LOAD_INDEXES) | {storage.MEMBERS_HOUSEHOLD_FK}
    with db(database).cursor() as cur:
        assert storage.missing_bulk_load_indexes(cur) == []


def test_the_service_builds_missing_bulk_load_indexes_when_it_starts(make_database, run_service, db, tmp_path):
    from setiakawan_registry import SERVICE, storage

    database = make_database(SERVICE.migrations, prefix="registry")
    with db(database).cursor() as cur:
        storage.drop_bulk_load_indexes(cur)
    run_service("registry", SERVICE.module, database, IMPORT_DIR=str(tmp_path / "imports"), **SERVICE.test_config)
    cur = db(database).cursor()
    wait_for(lambda: not storage.missing_bulk_load_indexes(cur), timeout=20, interval=0.3,
             what="the service building the missing indexes", state=lambda: storage.missing_bulk_load_indexes(cur))


def test_an_importer_killed_mid_load_loses_nothing_and_its_indexes_come_back(
        make_database, run_service, token, tmp_path, db, capture):
    """SIGKILL the importer (and its workers) while a large load has the
    search indexes dropped: the import is reported failed, the service builds
    the indexes again, the events of what was committed are published, and
    uploading the file again completes it without creating anything twice."""
    import os
    import signal

    from setiakawan_registry import SERVICE, storage

    database = make_database(SERVICE.migrations, prefix="registry")
    registry = run_service("registry", SERVICE.module, database, IMPORT_DIR=str(tmp_path / "imports"),
                           IMPORT_REBUILD_MIN_ROWS=10, INDEX_REPAIR_SECONDS=1, **SERVICE.test_config)
    population = Population(seed=43, provinces=("62",))
    path = tmp_path / "large.csv"
    write_csv(path, [population.household() for _ in range(15_000)], seed=4)
    import_id = upload(registry, token, path).json()["id"]
    with db(database).cursor() as cur:
        def loading_with_indexes_dropped():
            cur.execute("SELECT pid, status, EXISTS (SELECT 1 FROM households) FROM imports WHERE id = %s",
                        (import_id,))
            pid, status, some_committed = cur.fetchone()
            assert status in ("queued", "running"), "the import ended before it could be killed"
            return pid and some_committed and storage.missing_bulk_load_indexes(cur) and pid

        os.killpg(wait_for(loading_with_indexes_dropped, timeout=60, interval=0.02,
                           what="the importer loading with its indexes dropped"), signal.SIGKILL)
    state = finished(registry, token, import_id)
    assert state["status"] == "failed" and "stopped unexpectedly" in state["error"]

    with db(database).cursor() as cur:
        wait_for(lambda: not storage.missing_bulk_load_indexes(cur), interval=0.3,
                 what="the service building the dropped indexes", services=[registry])
        cur.execute("SELECT count(*) FROM kit_outbox_holds")
        assert cur.fetchone()[0] == 0
        committed = count_rows(db, database, "households")
    assert committed > 0
    assert len(capture.wait_for(committed, timeout=30)) == committed

    again = finished(registry, token, upload(registry, token, path).json()["id"], timeout=300)
    assert again["status"] == "completed", again
    households = count_rows(db, database, "households")
    assert households == committed + again["households_created"] and again["already_registered"] > 0
    with db(database).cursor() as cur:
        cur.execute("SELECT count(*) FROM (SELECT kk_number FROM households GROUP BY kk_number"
                    " HAVING count(*) > 1) twice")
        assert cur.fetchone()[0] == 0
    assert len(capture.wait_for(again["households_created"], timeout=60)) == again["households_created"]


def test_a_failing_writer_stops_the_import_cleanly(make_database, infrastructure, tmp_path, db, monkeypatch):
    """The importer run in this process, with small chunks: when writing a
    chunk fails, the import is marked failed (not hung), the dropped indexes
    are built again and the relay's hold is released."""
    import pytest
    from setiakawan_kit.db import database_dsn
    from setiakawan_registry import SERVICE, importer, storage
    from setiakawan_registry.imports import new_import_id

    database = make_database(SERVICE.migrations, prefix="registry")
    dsn = database_dsn(infrastructure.database_url, database)
    population = Population(seed=47, provinces=("62",))
    path = tmp_path / "list.csv"
    rows = write_csv(path, [population.household() for _ in range(400)])
    import_id = new_import_id()
    with db(database).cursor() as cur:
        cur.execute("INSERT INTO imports (id, agency, role, regions, filename, sha256, status, total_rows)"
                    " VALUES (%s, 'Dinas Sosial', 'operator', '{62}', 'list.csv', repeat('0', 64), 'queued', %s)",
                    (import_id, rows))
    monkeypatch.setattr(importer, "CHUNK_ROWS", 50)
    written = []
    original = importer.Importer.write

    def failing(self, conn, chunk, keep, text):
        if written:
            raise RuntimeError("the disk is full")
        written.append(chunk)
        return original(self, conn, chunk, keep, text)

    monkeypatch.setattr(importer.Importer, "write", failing)
    run = importer.Importer(dsn, import_id, path, {"rebuild_min_rows": 1},
                            {"agency": "Dinas Sosial", "role": "operator", "regions": ["62"]}, workers=2)
    with pytest.raises(RuntimeError, match="disk is full"):
        run.run()
    with db(database).cursor() as cur:
        cur.execute("SELECT status, error FROM imports WHERE id = %s", (import_id,))
        assert cur.fetchone() == ("failed", "RuntimeError: the disk is full")
        assert storage.missing_bulk_load_indexes(cur) == []
        cur.execute("SELECT count(*) FROM kit_outbox_holds")
        assert cur.fetchone()[0] == 0


def test_a_nik_registered_by_a_request_during_the_import_is_reported_not_fatal(
        make_database, infrastructure, tmp_path, db, monkeypatch):
    """Between the importer deciding a chunk and writing it, a request
    registers one of its NIKs: that household is left out and reported, and
    the rest of the chunk is written."""
    from setiakawan_kit.db import database_dsn
    from setiakawan_registry import SERVICE, importer
    from setiakawan_registry.imports import new_import_id

    database = make_database(SERVICE.migrations, prefix="registry")
    dsn = database_dsn(infrastructure.database_url, database)
    population = Population(seed=53, provinces=("62",))
    households = [population.household() for _ in range(30)]
    path = tmp_path / "list.csv"
    rows = write_csv(path, households)
    taken = households[7][1]["nik"]  # a member of the eighth household
    import_id = new_import_id()
    with db(database).cursor() as cur:
        cur.execute("INSERT INTO imports (id, agency, role, regions, filename, sha256, status, total_rows)"
                    " VALUES (%s, 'Dinas Sosial', 'operator', '{62}', 'list.csv', repeat('0', 64), 'queued', %s)",
                    (import_id, rows))
    original = importer.Importer.write

    def register_first(self, conn, chunk, keep, text):
        with db(database).cursor() as cur:
            cur.execute("INSERT INTO households (id, kk_number, village_code, indicators, welfare_score, decile,"
                        " status, registering_agency, legal_basis) VALUES (gen_random_uuid(), '6213010101990001',"
                        " '62.13.01.2003', '{}', 1, 1, 'registered', 'LSM Peduli', 'public_duty') RETURNING id")
            household = cur.fetchone()[0]
            cur.execute("INSERT INTO members (id, household_id, nik, name, name_norm, birth_date, sex, relationship,"
                        " regency_code, village_code) VALUES (gen_random_uuid(), %s, %s, 'X', 'x', '1980-01-01',"
                        " 'M', 'head', '62.13', '62.13.01.2003')",
                        (household, taken))
        monkeypatch.setattr(importer.Importer, "write", original)
        return original(self, conn, chunk, keep, text)

    monkeypatch.setattr(importer.Importer, "write", register_first)
    stats = importer.Importer(dsn, import_id, path, {},
                              {"agency": "Dinas Sosial", "role": "operator", "regions": ["62"]}, workers=2).run()
    assert stats["households_created"] == 29
    with db(database).cursor() as cur:
        cur.execute("SELECT count(*) FROM households WHERE import_id = %s", (import_id,))
        assert cur.fetchone()[0] == 29
        cur.execute("SELECT count(*) FROM kit_outbox")
        assert cur.fetchone()[0] == 29
        cur.execute("SELECT count(*), min(reason) FROM import_rejections WHERE import_id = %s", (import_id,))
        assert cur.fetchone() == (len(households[7]), "household: registered by another request during the import.")


def test_an_import_is_seen_by_its_agency_and_by_admins_covering_it_only(registry, token, tmp_path):
    population = Population(seed=59, provinces=("62",))
    path = tmp_path / "list.csv"
    write_csv(path, [population.household(size=1)])
    import_id = upload(registry, token, path).json()["id"]
    finished(registry, token, import_id)

    def status(**identity):
        return requests.get(f"{registry.url}/imports/{import_id}/rejections", timeout=10,
                            headers={"Authorization": f"Bearer {token(**identity)}"}).status_code

    assert status(regions=("62",)) == 200
    assert status(role="admin", agency="Dinas Sosial Provinsi", regions=("62",)) == 200
    assert status(role="admin", agency="Dinas Sosial Kalimantan Barat", regions=("61",)) == 404
    assert status(role="operator", agency="LSM Peduli", regions=("62",)) == 404



def _resaved(path, delimiter, bom=False, line_end="\n"):
    """The list as Excel in another locale saves it: ``delimiter``, maybe a BOM and CRLF."""
    with open(path, newline="", encoding="utf-8") as f:
        records = list(csv.reader(f))
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=line_end).writerows(records)
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode()


def _rejections(registry, token, import_id):
    response = requests.get(f"{registry.url}/imports/{import_id}/rejections", timeout=10,
                            headers={"Authorization": f"Bearer {token(regions=('62',))}"})
    assert response.status_code == 200, response.text
    assert response.content.startswith("\ufeff".encode())
    return response.content.decode("utf-8-sig")


def test_semicolon_and_tab_lists_with_a_bom_and_crlf_read_as_the_comma_list(registry, token, tmp_path):
    population = Population(seed=17, provinces=("62",))
    path = tmp_path / "desa.csv"
    rows = write_csv(path, [population.household() for _ in range(20)], bad_share=0.1, seed=3)
    canonical = finished(registry, token, upload(registry, token, path).json()["id"])
    assert canonical["status"] == "completed" and canonical["rejected_rows"] > 0, canonical
    expected = _rejections(registry, token, canonical["id"])
    # the same list again, as others save it: the same rows read, now already registered
    for delimiter, bom, line_end in ((";", True, "\r\n"), ("\t", False, "\n"), (";", False, "\n")):
        accepted = upload(registry, token, _resaved(path, delimiter, bom, line_end))
        assert accepted.status_code == 202, accepted.text
        assert accepted.json()["total_rows"] == rows
        state = finished(registry, token, accepted.json()["id"])
        assert state["status"] == "completed", state
        assert (state["households_created"], state["rejected_rows"]) == (0, canonical["rejected_rows"]), state
        assert state["already_registered"] == canonical["accepted_rows"], state
        # the same rejections, with their reasons, written with the list's own delimiter
        table = list(csv.reader(io.StringIO(_rejections(registry, token, state["id"])), delimiter=delimiter))
        assert table == list(csv.reader(io.StringIO(expected)))


def test_a_header_read_as_one_column_says_which_delimiter_it_looks_like(registry, token, tmp_path):
    population = Population(seed=18, provinces=("62",))
    path = tmp_path / "desa.csv"
    write_csv(path, [population.household(size=1)])
    refused = requests.post(registry.url + "/imports", data=_resaved(path, ";"), timeout=60,
                            params={"filename": "desa.csv", "delimiter": ","},
                            headers={"Authorization": f"Bearer {token(regions=('62',))}",
                                     "Content-Type": "text/csv"})
    assert refused.status_code == 422, refused.text
    assert "Read 1 column from the header" in refused.json()["detail"]
    assert "Is the file separated by semicolons?" in refused.json()["detail"]


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _workbook(path, out, sheet="Data KK", typed=True):
    """The list as an Excel workbook (after a first sheet of notes, when ``sheet``
    is named), with numbers and dates typed as Excel keeps them where ``typed``."""
    import openpyxl

    with open(path, newline="", encoding="utf-8") as f:
        header, *records = list(csv.reader(f))
    workbook = openpyxl.Workbook(write_only=True)
    if sheet:
        workbook.create_sheet("Catatan").append(["Daftar dari desa"])
    data = workbook.create_sheet(sheet or "Sheet1")
    data.append(header)
    for record in records:
        if typed:
            record = [int(v) if c in ("monthly_income", "nik", "kk_number") and v.isdigit() else
                      date.fromisoformat(v) if c == "birth_date" and len(v) == 10 and v[4] == "-" else v
                      for c, v in zip(header, record)]
        data.append(record)
    workbook.save(out)
    return out


def test_an_excel_workbook_reads_as_the_comma_list(registry, token, tmp_path):
    population = Population(seed=19, provinces=("62",))
    path = tmp_path / "desa.csv"
    write_csv(path, [population.household() for _ in range(20)], bad_share=0.1, seed=4)
    canonical = finished(registry, token, upload(registry, token, path).json()["id"])
    expected = list(csv.reader(io.StringIO(_rejections(registry, token, canonical["id"]))))
    workbook = _workbook(path, tmp_path / "desa.xlsx").read_bytes()
    refused = requests.post(registry.url + "/imports", data=workbook, timeout=60,
                            params={"filename": "desa.xlsx", "sheet": "Lembar 9"},
                            headers={"Authorization": f"Bearer {token(regions=('62',))}", "Content-Type": XLSX})
    assert refused.status_code == 422 and "Catatan, Data KK" in refused.json()["detail"], refused.text
    accepted = requests.post(registry.url + "/imports", data=workbook, timeout=60,
                             params={"filename": "desa.xlsx", "sheet": "Data KK"},
                             headers={"Authorization": f"Bearer {token(regions=('62',))}", "Content-Type": XLSX})
    assert accepted.status_code == 202, accepted.text
    state = finished(registry, token, accepted.json()["id"])
    assert (state["status"], state["households_created"], state["rejected_rows"]) == (
        "completed", 0, canonical["rejected_rows"]), state
    assert state["already_registered"] == canonical["accepted_rows"], state
    assert list(csv.reader(io.StringIO(_rejections(registry, token, state["id"])))) == expected


def _peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def test_a_workbook_of_100000_rows_is_read_in_flat_memory(registry, token, tmp_path):
    population = Population(seed=20, provinces=("62",))
    path = tmp_path / "kabupaten.csv"
    rows = 0
    households = []
    while rows < 100_000:
        households.append(population.household())
        rows += len(households[-1])
    rows = write_csv(path, households)
    workbook = _workbook(path, tmp_path / "kabupaten.xlsx", sheet=None, typed=False)
    before = _peak_rss_mb(registry.process.pid)
    answers = []

    def send():
        with open(workbook, "rb") as data:
            answers.append(requests.post(
                registry.url + "/imports", data=data, timeout=600, params={"filename": "k.xlsx"},
                headers={"Authorization": f"Bearer {token(regions=('62',))}", "Content-Type": XLSX,
                         "Content-Length": str(workbook.stat().st_size)}))

    sender = threading.Thread(target=send)
    sender.start()
    health = []  # the service answers others while it reads the workbook
    while sender.is_alive():
        started = time.perf_counter()
        status = requests.get(registry.url + "/health", timeout=30).status_code
        health.append((status, time.perf_counter() - started))
        sender.join(0.2)
    [accepted] = answers
    assert accepted.status_code == 202, accepted.text
    assert len(health) > 5 and all(status == 200 for status, _ in health), health
    assert max(seconds for _, seconds in health) < 5, health
    assert accepted.json()["total_rows"] == rows
    peak = _peak_rss_mb(registry.process.pid)
    print(f"registry peak RSS {before:.0f} MB before, {peak:.0f} MB after reading a {rows}-row workbook "
          f"({workbook.stat().st_size / 1e6:.1f} MB)")
    assert peak < 300, f"the registry held {peak:.0f} MB reading a {rows}-row workbook"
    state = finished(registry, token, accepted.json()["id"], timeout=600)
    assert state["status"] == "completed" and state["accepted_rows"] == rows, state


def test_a_dry_run_says_what_an_import_would_do_and_writes_nothing(registry, token, tmp_path, db):
    from click.testing import CliRunner

    from setiakawan_kit.cli import main

    population = Population(seed=23, provinces=("62",))
    path = tmp_path / "desa.csv"
    write_csv(path, [population.household() for _ in range(30)], bad_share=0.1, duplicate_share=0.05, seed=6)
    result = CliRunner().invoke(main, ["import", str(path), "--url", registry.url, "--dry-run",
                                       "--token", token(regions=("62",)), "--rejections", str(tmp_path / "r.csv")])
    assert result.exit_code == 0, result.output
    assert "dry run, nothing written: would be households created:" in result.output
    with db(registry.database).cursor() as cur:
        cur.execute("SELECT id, dry_run, households_created, accepted_rows, rejected_rows, already_registered"
                    " FROM imports")
        [(dry_id, dry_run, *would)] = cur.fetchall()
        for table in ("households", "members", "kit_outbox", "kit_outbox_holds"):
            cur.execute(f"SELECT count(*) FROM {table}")
            assert cur.fetchone()[0] == 0, table
    assert dry_run and would[0] > 0 and would[2] > 0
    dry_rejections = (tmp_path / "r.csv").read_bytes().decode("utf-8-sig")
    # the import itself does what the dry run said
    state = finished(registry, token, upload(registry, token, path).json()["id"])
    assert not state["dry_run"]
    assert [state[k] for k in ("households_created", "accepted_rows", "rejected_rows", "already_registered")] == would
    assert _rejections(registry, token, state["id"]) == dry_rejections


def _as_dtks(path, out):
    """The list as a DTKS export: its headers, codes and Indonesian words, dates day first, village codes
    without dots; the consent columns keep the registry's names (a header naming a column needs no entry)."""
    from setiakawan_registry.rules import mappings

    names = {column: header for header, column in mappings.DTKS.columns.items()}
    words = {column: {value: code for code, value in codes.items()} for column, codes in mappings.DTKS.values.items()}
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    columns = [c for c in rows[0] if c != "legal_basis" or any(r["legal_basis"] != "public_duty" for r in rows)]
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter=";")
        writer.writerow([names.get(c, c).upper() for c in columns] + ["NAMA_IBU"])
        for row in rows:
            values = []
            for c in columns:
                value = words.get(c, {}).get(row[c], row[c])
                if c == "birth_date" and len(value) == 10 and value[4] == "-":
                    value = f"{value[8:10]}-{value[5:7]}-{value[0:4]}"
                if c == "village_code":
                    value = value.replace(".", "")
                values.append(value)
            writer.writerow(values + ["Ibu"])
    return out


def _reasons(text, delimiter=","):
    return [(r["line"], r["reason"]) for r in csv.DictReader(io.StringIO(text), delimiter=delimiter)]


def test_a_dtks_export_imports_through_the_built_in_or_a_saved_mapping(registry, token, tmp_path):
    from click.testing import CliRunner

    from setiakawan_kit.cli import main

    population = Population(seed=29, provinces=("62",))
    path = tmp_path / "desa.csv"
    write_csv(path, [population.household() for _ in range(20)], bad_share=0.1, seed=8)
    dtks = _as_dtks(path, tmp_path / "dtks.csv")
    unmapped = upload(registry, token, dtks)
    assert unmapped.status_code == 422 and "Expected: kk_number" in unmapped.json()["detail"], unmapped.text
    result = CliRunner().invoke(main, ["import", str(dtks), "--url", registry.url, "--mapping", "dtks",
                                       "--token", token(regions=("62",))])
    assert result.exit_code == 0, result.output
    [mapped_id] = [line.split()[1].rstrip(":") for line in result.output.splitlines() if line.startswith("import ")]
    mapped = finished(registry, token, mapped_id)
    assert mapped["status"] == "completed" and mapped["households_created"] > 10, mapped
    # the same list in the registry's own form: every household is already there, the same rows refused
    canonical = finished(registry, token, upload(registry, token, path).json()["id"])
    assert (canonical["households_created"], canonical["already_registered"]) == (0, mapped["accepted_rows"])
    assert _reasons(_rejections(registry, token, canonical["id"])) == \
        _reasons(_rejections(registry, token, mapped["id"]), ";")

    # an agency's own mapping, saved once, used by name; a missing column named before any row is read
    own = tmp_path / "mapping.json"
    own.write_text(json.dumps({"columns": {"NOMOR KK": "kk_number"}, "values": {"sex": {"lk": "M", "pr": "F"}}}))
    saved = CliRunner().invoke(main, ["import-mapping", "desa-kami", str(own), "--url", registry.url,
                                      "--token", token(regions=("62",))])
    assert saved.exit_code == 0 and "saved mapping desa-kami" in saved.output, saved.output
    listed = requests.get(registry.url + "/import-mappings", timeout=10,
                          headers={"Authorization": f"Bearer {token(regions=('62',))}"}).json()
    assert [m["name"] for m in listed] == ["dtks", "desa-kami"]
    refused = requests.post(registry.url + "/imports", data=dtks.read_bytes(), timeout=60,
                            params={"filename": "dtks.csv", "mapping": "desa-kami"},
                            headers={"Authorization": f"Bearer {token(regions=('62',))}",
                                     "Content-Type": "text/csv"})
    assert refused.status_code == 422, refused.text
    assert "No column of the file is mapped to: kk_number, village_code, monthly_income" in refused.text
    other_agency = requests.get(registry.url + "/import-mappings/desa-kami", timeout=10,
                                headers={"Authorization": f"Bearer {token(regions=('62',), agency='LSM')}"})
    assert other_agency.status_code == 404
