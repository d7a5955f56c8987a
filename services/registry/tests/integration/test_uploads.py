"""Uploaded lists (full of NIKs) are kept private: a 0700 folder outside
shared temporary space, 0600 files, removed when their import ends, fails
or is killed; and stored error text is redacted like logs."""
import io
import os
import signal
import stat
import tempfile
from pathlib import Path

import pytest
import requests

from demo.population import Population, write_csv

from setiakawan_kit.processes import alive
from setiakawan_kit.testing import wait_for
from setiakawan_registry import SERVICE, imports


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_upload_folder_is_private_and_outside_shared_temporary_space(tmp_path):
    made = imports.upload_dir({"IMPORT_DIR": str(tmp_path / "a" / "uploads")})
    assert made == tmp_path / "a" / "uploads" and mode(made) == 0o700
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o777)
    loose.chmod(0o755)
    assert mode(imports.upload_dir({"IMPORT_DIR": str(loose)})) == 0o700  # tightened
    state = imports.upload_dir({}, environ={"XDG_STATE_HOME": str(tmp_path / "state")})
    assert state == tmp_path / "state" / "setiakawan" / "registry-uploads" and mode(state) == 0o700
    default = imports.default_upload_dir(environ={})
    assert default == Path.home() / ".local" / "state" / "setiakawan" / "registry-uploads"
    assert imports.default_upload_dir(environ={"XDG_STATE_HOME": "relative/path"}) == default  # not absolute: ignored
    assert not str(default).startswith(tempfile.gettempdir())


@pytest.mark.skipif(os.getuid() != 0, reason="giving a folder to another user needs root")
def test_a_folder_of_another_user_is_refused(tmp_path):
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, 65534, 65534)
    with pytest.raises(RuntimeError, match="belongs to another user"):
        imports.upload_dir({"IMPORT_DIR": str(theirs)})


def test_an_upload_is_written_0600_whatever_the_umask_and_removed_when_refused(tmp_path):
    folder = imports.upload_dir({"IMPORT_DIR": str(tmp_path / "uploads")})
    data = b"kk_number,street\n1,2\n"
    previous = os.umask(0)
    try:
        path = imports.upload_path(folder, imports.new_import_id())
        with pytest.raises(Exception) as refused:  # a bad header: a 422 problem
            imports.receive(io.BytesIO(data), len(data), 1000, path)
        assert refused.value.status == 422 and not path.exists()
        good = ",".join(imports.COLUMNS).encode() + b"\n"
        assert imports.receive(io.BytesIO(good), len(good), 1000, path)[1:] == (0, list(imports.COLUMNS), ",")
        assert mode(path) == 0o600
    finally:
        os.umask(previous)


def upload(service, token, path):
    response = requests.post(service.url + "/imports", data=Path(path).read_bytes(), timeout=60,
                             headers={"Authorization": f"Bearer {token(regions=('62',))}", "Content-Type": "text/csv"})
    assert response.status_code == 202, response.text
    return response.json()["id"]


def state_of(db, database, import_id):
    with db(database).cursor() as cur:
        cur.execute("SELECT status, pid, error FROM imports WHERE id = %s", (import_id,))
        return cur.fetchone()


@pytest.fixture
def big_list(tmp_path):
    """A list long enough that its importer is still starting when stopped."""
    path = tmp_path / "list.csv"
    write_csv(path, [Population(seed=61, provinces=("62",)).household() for _ in range(2000)])
    return path


def test_uploads_leave_the_folder_when_their_import_completes_or_fails(make_database, run_service, token, tmp_path,
                                                                       db):
    folder = tmp_path / "uploads"
    folder.mkdir(mode=0o755)
    database = make_database(SERVICE.migrations, prefix="registry")
    service = run_service("registry", SERVICE.module, database, IMPORT_DIR=str(folder), **SERVICE.test_config)
    assert mode(folder) == 0o700  # the service tightened it when it started
    good = tmp_path / "good.csv"
    write_csv(good, [Population(seed=63, provinces=("62",)).household() for _ in range(20)])
    done = upload(service, token, good)
    wait_for(lambda: state_of(db, database, done)[0] == "completed", timeout=60, what="the import")
    # invalid UTF-8 after the header: the importer fails
    broken = tmp_path / "broken.csv"
    broken.write_bytes(good.read_bytes() + b"\xff\xfe broken\n")
    failed = upload(service, token, broken)
    wait_for(lambda: state_of(db, database, failed)[0] == "failed", timeout=60, what="the import to fail")
    wait_for(lambda: not any(folder.iterdir()), timeout=10, what="an empty folder")


def test_an_upload_of_a_killed_importer_goes_at_once_or_at_the_next_start(make_database, run_service, token, tmp_path,
                                                                        db, big_list):
    folder = tmp_path / "uploads"
    database = make_database(SERVICE.migrations, prefix="registry")
    service = run_service("registry", SERVICE.module, database, IMPORT_DIR=str(folder), **SERVICE.test_config)

    # the importer killed while the service runs: its upload goes when the service sees it die
    first = upload(service, token, big_list)
    pid = state_of(db, database, first)[1]
    os.killpg(pid, signal.SIGSTOP)
    [kept] = list(folder.iterdir())
    assert kept.name.startswith(first) and mode(kept) == 0o600
    os.killpg(pid, signal.SIGKILL)
    wait_for(lambda: state_of(db, database, first)[0] == "failed", timeout=60, what="the import to be failed")
    wait_for(lambda: not kept.exists(), timeout=10, what="the upload to be removed")

    # the service and an importer killed together; another importer stopped but alive
    killed, stopped = upload(service, token, big_list), upload(service, token, big_list)
    killed_pid, stopped_pid = state_of(db, database, killed)[1], state_of(db, database, stopped)[1]
    os.killpg(killed_pid, signal.SIGSTOP)
    os.killpg(stopped_pid, signal.SIGSTOP)
    try:
        service.kill()
        os.killpg(killed_pid, signal.SIGKILL)
        wait_for(lambda: not alive(killed_pid), timeout=10, what="the importer to die")
        assert len(list(folder.iterdir())) == 2
        run_service("registry", SERVICE.module, database, IMPORT_DIR=str(folder), **SERVICE.test_config)
        assert [p.name.split(".")[0] for p in folder.iterdir()] == [stopped]  # the live importer's stays
        status, _, error = state_of(db, database, killed)
        assert status == "failed" and "stopped unexpectedly" in error
        assert state_of(db, database, stopped)[0] in ("queued", "running")
    finally:
        os.killpg(stopped_pid, signal.SIGCONT)
    wait_for(lambda: state_of(db, database, stopped)[0] == "completed", timeout=60, what="the stopped import to complete")
    wait_for(lambda: not any(folder.iterdir()), timeout=10, what="an empty folder")


def test_stored_import_errors_and_rejection_reasons_are_redacted(make_database, infrastructure, tmp_path, db,
                                                                 monkeypatch):
    """The importer run in this process: the error it stores and the reasons
    of rejected rows go through the log redaction (NIKs, phone numbers)."""
    from setiakawan_kit.db import database_dsn
    from setiakawan_registry import importer

    database = make_database(SERVICE.migrations, prefix="registry")
    dsn = database_dsn(infrastructure.database_url, database)
    population = Population(seed=67, provinces=("62",))
    households = [population.household(size=1) for _ in range(3)]
    households[1][0]["monthly_income"] = "0812-3456-7890"  # a phone number in the wrong column
    path = tmp_path / "list.csv"
    rows = write_csv(path, households)

    def run(write=None):
        import_id = imports.new_import_id()
        with db(database).cursor() as cur:
            cur.execute("INSERT INTO imports (id, agency, role, regions, filename, sha256, status, total_rows)"
                        " VALUES (%s, 'Dinas Sosial', 'operator', '{62}', 'list.csv', repeat('0', 64), 'queued', %s)",
                        (import_id, rows))
        if write:
            monkeypatch.setattr(importer.Importer, "write", write)
        job = importer.Importer(dsn, import_id, path, {"match_secret": "s" * 32},
                                {"agency": "Dinas Sosial", "role": "operator", "regions": ["62"]}, workers=2)
        return import_id, job

    import_id, job = run()
    job.run()
    with db(database).cursor() as cur:
        cur.execute("SELECT reason FROM import_rejections WHERE import_id = %s", (import_id,))
        [(reason,)] = cur.fetchall()
    assert reason.startswith("monthly_income: '[phone]'") and "0812" not in reason

    def failing(self, conn, chunk, keep, text):
        raise RuntimeError("NIK 6213014107850003 of 0812-3456-7890 could not be written")

    import_id, job = run(failing)
    with pytest.raises(RuntimeError):
        job.run()
    with db(database).cursor() as cur:
        cur.execute("SELECT status, error FROM imports WHERE id = %s", (import_id,))
        assert cur.fetchone() == ("failed", "RuntimeError: NIK 6213************ of [phone] could not be written")


def test_a_damaged_or_foreign_workbook_is_a_422_and_leaves_no_file(tmp_path):
    import zipfile

    import openpyxl

    good = tmp_path / "good.xlsx"
    book = openpyxl.Workbook()
    book.active.append(list(imports.COLUMNS))
    book.save(good)
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(damaged, "w") as out:
        for item in source.infolist():
            data = source.read(item)
            out.writestr(item, data[:len(data) // 2] if item.filename.startswith("xl/worksheets/") else data)
    folder = tmp_path / "uploads"
    folder.mkdir()
    for data in (damaged.read_bytes(), b"PK\x03\x04 not a zip", b"kk_number,street\n"):
        path = imports.upload_path(folder, imports.new_import_id())
        with pytest.raises(imports.Problem) as refused:
            imports.receive_workbook(io.BytesIO(data), len(data), 10**6, path)
        assert refused.value.status == 422 and refused.value.kind == "not-a-workbook", refused.value.detail
        assert list(folder.iterdir()) == []
