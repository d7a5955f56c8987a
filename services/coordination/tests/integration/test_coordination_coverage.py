"""The coordination figures from the other services' events, on the real
broker and database: who does what where in Barito Timur in December 2026,
the poor households nobody reached, the double benefit the ledger
prevented; redelivered and reordered events leave them right; an agency
sees only its own regions; bad queries are 4xx problems."""
import csv
import io
import subprocess
import sys

import openpyxl

from coordination_samples import BANUA_LIMA, BARITO_TIMUR, DISTRICT, DUSUN_TIMUR, PROVINCE, PULAU_PATAI, programme
from setiakawan_coordination.coverage import XLSX
from setiakawan_kit.testing import ApiClient, assert_problem, wait_for


def client(coordination, token, regions=(BARITO_TIMUR,), role="operator", agency=DISTRICT, kind="district"):
    return ApiClient(coordination.url, token(role=role, regions=regions, agency=agency, kind=kind))


def test_who_does_what_where_and_whom_nobody_reached(barito_timur, coordination, token):
    answer = client(coordination, token).get(f"/coverage?region={BARITO_TIMUR}&period=2026-12")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["region"] == {"code": BARITO_TIMUR, "name": "Kabupaten Barito Timur", "level": "regency",
                                "parents": [{"code": "62", "name": "Kalimantan Tengah"}]}
    assert report["period"] == {"label": "2026-12", "starts_on": "2026-12-01", "ends_on": "2026-12-31"}
    totals = report["totals"]
    assert {k: totals[k] for k in ("households", "poor_households", "households_reached", "households_delivered",
                                   "gaps", "persons_trained", "agencies")} == {
        "households": 7, "poor_households": 5, "households_reached": 3, "households_delivered": 1, "gaps": 2,
        "persons_trained": 1, "agencies": 2}
    areas = {a["code"]: a for a in report["areas"]}
    assert set(areas) == {DUSUN_TIMUR, BANUA_LIMA}
    assert (areas[DUSUN_TIMUR]["name"], areas[DUSUN_TIMUR]["poor_households"], areas[DUSUN_TIMUR]["gaps"],
            areas[DUSUN_TIMUR]["gap_level"]) == ("Dusun Timur", 3, 1, "some")
    assert (areas[BANUA_LIMA]["poor_households"], areas[BANUA_LIMA]["gaps"], areas[BANUA_LIMA]["gap_share"],
            areas[BANUA_LIMA]["gap_level"]) == (2, 1, 0.5, "high")
    assert report["agencies"] == [
        {"agency": DISTRICT, "kind": "district", "programmes": 1, "courses": 1, "households_reached": 2},
        {"agency": PROVINCE, "kind": "province", "programmes": 1, "courses": 0, "households_reached": 1}]
    assert report["programmes_by_category"] == [
        {"category": "food", "programmes": 2, "planned": 2, "delivered": 1, "blocked": 1}]
    assert report["courses_by_skill_area"] == [{"skill_area": "sewing", "courses": 1, "enrolled": 1,
                                                "completed": 0}]
    assert report["overlaps_prevented"] == [{"agencies": sorted([DISTRICT, PROVINCE]), "categories": ["food"],
                                             "households": 1}]
    # a village: no areas below it; another month: nobody reached anyone
    village = client(coordination, token).get(f"/coverage?region={PULAU_PATAI}&period=2026-12").json()
    assert village["areas"] == [] and village["totals"]["gaps"] == 1 and village["totals"]["poor_households"] == 3
    november = client(coordination, token).get(f"/coverage?region={BARITO_TIMUR}&period=2026-11").json()
    assert november["totals"]["households_reached"] == 0 and november["totals"]["gaps"] == 5
    # a wider notion of poor counts more gaps
    wider = client(coordination, token).get(f"/coverage?region={BARITO_TIMUR}&period=2026-12&gap_decile=7").json()
    assert wider["totals"]["poor_households"] == 6 and wider["totals"]["gaps"] == 3


def test_an_agency_kind_is_the_one_its_token_named_and_a_rebuild_keeps_it(barito_timur, coordination, token,
                                                                          publish):
    # a village government's programme, paid from what the district passes on (funding alone would say
    # "district"), activated with the village's token: its events carry ce-agencykind "village"
    village = "Pemerintah Desa Pulau Patai"
    own = programme(agency=village, funding_source="apbd_district", name="Sembako Desa Pulau Patai",
                    region_codes=(PULAU_PATAI,))
    publish("distribution", "programme.activated", {"programme": own, "issued": 0, "blocked": 0},
            agency=village, agencykind="village")
    # a CSR programme published on no agency's token (a service acting alone): funding tells its kind
    csr = programme(agency="PT Adaro Indonesia", funding_source="csr", name="Sembako CSR Adaro")
    publish("distribution", "programme.activated", {"programme": csr, "issued": 0, "blocked": 0})
    path = f"/coverage?region={BARITO_TIMUR}&period=2026-12"
    kinds = {a["agency"]: a["kind"] for a in client(coordination, token).get(path).json()["agencies"]}
    assert kinds == {DISTRICT: "district", PROVINCE: "province", village: "village", "PT Adaro Indonesia": "csr"}
    admin = client(coordination, token, role="admin", agency=PROVINCE, kind="province", regions=("62",))
    assert admin.post("/read-model/rebuild").status_code == 200
    assert {a["agency"]: a["kind"] for a in client(coordination, token).get(path).json()["agencies"]} == kinds


def test_a_redelivered_event_and_an_older_snapshot_change_nothing(barito_timur, coordination, token, publish):
    before = client(coordination, token).get(f"/coverage?region={BARITO_TIMUR}&period=2026-12").json()
    h = barito_timur
    again = publish("registry", "household.registered", {"household": dict(h["nobody_kandris"], decile=9)})
    duplicates = coordination.metric("setiakawan_events_consumed_total", type="household.registered",
                                     outcome="duplicate")
    publish.unapplied("registry", "household.registered", {"household": dict(h["nobody_kandris"], decile=9)},
                      event_id=again.id)
    wait_for(lambda: coordination.metric("setiakawan_events_consumed_total", type="household.registered",
                                         outcome="duplicate") == duplicates + 1, what="the redelivery seen")
    publish("registry", "household.rejected", {"household": dict(h["trained"], version=1, status="rejected"),
                                               "rejected_by": DISTRICT, "reason": "tidak ditemukan"})
    after = client(coordination, token).get(f"/coverage?region={BARITO_TIMUR}&period=2026-12").json()
    assert after == before
    # a newer one does change it: the household moved out of the poorest deciles
    publish("registry", "household.updated", {"household": dict(h["nobody_kandris"], version=2, decile=6),
                                              "changes": ["welfare"]})
    moved = client(coordination, token).get(f"/coverage?region={BARITO_TIMUR}&period=2026-12").json()
    assert (moved["totals"]["poor_households"], moved["totals"]["gaps"]) == (4, 1)


def test_the_read_model_is_rebuilt_from_its_log_of_events(barito_timur, coordination, token, db):
    path = f"/coverage?region={BARITO_TIMUR}&period=2026-12"
    before = client(coordination, token).get(path).json()
    with db(coordination.database).cursor() as cur:
        cur.execute("SELECT count(*) FROM event_log")
        (logged,) = cur.fetchone()
        cur.execute("DELETE FROM households WHERE decile <= 2")  # a read model gone wrong
        cur.execute("UPDATE read_model_state SET changes = changes + 1")  # as every change does
    assert client(coordination, token).get(path).json() != before
    assert_problem(client(coordination, token).post("/read-model/rebuild"), 403)  # an operator may not
    admin = client(coordination, token, role="admin", agency=PROVINCE, kind="province", regions=("62",))
    answer = admin.post("/read-model/rebuild")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"events": logged} and logged == 18
    assert client(coordination, token).get(path).json() == before


def test_an_agency_sees_its_own_regions_only(barito_timur, coordination, token):
    balangan = client(coordination, token, regions=("63.11",), role="viewer",
                      agency="Dinas Sosial Kabupaten Balangan")
    assert_problem(balangan.get(f"/coverage?region={BARITO_TIMUR}&period=2026-12"), 403)
    assert_problem(balangan.get(f"/coverage.csv?region={PULAU_PATAI}&period=2026-12"), 403)
    assert_problem(client(coordination, token).get("/coverage?region=62&period=2026-12"), 403)
    assert_problem(ApiClient(coordination.url, None).get(f"/coverage?region={BARITO_TIMUR}"), 401)
    viewer = client(coordination, token, role="viewer")
    assert viewer.get(f"/coverage?region={DUSUN_TIMUR}&period=2026-12").status_code == 200


BAD_QUERIES = ["", "region=62.99", "region=6213", "region=62.13&period=2026-13", "region=62.13&period=Desember",
               "region=62.13&gap_decile=11", "region=62.13&gap_decile=x", "region=62.13&period=1899",
               "region=62.13&period=2026-12%00"]


def test_a_bad_query_is_a_4xx_problem(coordination, token):
    operator = client(coordination, token)
    for query in BAD_QUERIES:
        answer = operator.get(f"/coverage?{query}")
        assert 400 <= answer.status_code < 500 and answer.headers["Content-Type"] == "application/problem+json", \
            (query, answer.status_code, answer.text)


def test_the_figures_as_csv_excel_and_in_the_terminal(barito_timur, coordination, token):
    answer = client(coordination, token).get(f"/coverage.csv?region={BARITO_TIMUR}&period=2026-12")
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/csv")
    assert 'filename="coverage-62.13-2026-12.csv"' in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert [(r["code"], r["gaps"]) for r in rows] == [(BARITO_TIMUR, "2"), (DUSUN_TIMUR, "1"), (BANUA_LIMA, "1")]
    workbook = client(coordination, token).get(f"/coverage.xlsx?region={BARITO_TIMUR}&period=2026-12")
    assert workbook.status_code == 200 and workbook.headers["Content-Type"] == XLSX
    book = openpyxl.load_workbook(io.BytesIO(workbook.content))
    assert book.sheetnames == ["Wilayah", "Lembaga", "Bantuan", "Pelatihan", "Tumpang tindih"]
    rows = list(book["Wilayah"].iter_rows(values_only=True))
    assert rows[0][0].startswith("Kabupaten Barito Timur (62.13), 2026-12")
    assert [(r[0], r[6]) for r in rows[2:]] == [(BARITO_TIMUR, 2), (DUSUN_TIMUR, 1), (BANUA_LIMA, 1)]
    assert book["Wilayah"].cell(row=5, column=1).fill.fgColor.rgb.endswith("F4CCCC")  # Banua Lima: high
    assert list(book["Tumpang tindih"].iter_rows(values_only=True))[1] == (f"{DISTRICT} / {PROVINCE}", "food", 1)
    command = [sys.executable, "-m", "setiakawan_kit.cli", "report", "coordination", "--region", BARITO_TIMUR,
               "--period", "2026-12", "--url", coordination.url]
    env = {"SETIAKAWAN_TOKEN": token(role="viewer", regions=(BARITO_TIMUR,)), "PATH": "/usr/bin:/bin"}
    shown = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].startswith("Kabupaten Barito Timur (62.13, regency), 2026-12")
    assert any(line.startswith("Banua Lima") and line.endswith("◀ gaps") for line in lines), shown.stdout
    assert f"  {DISTRICT}: district, 1, 1, 2" in lines
    as_csv = subprocess.run([*command, "--csv"], capture_output=True, text=True, env=env, timeout=60)
    assert as_csv.stdout.splitlines()[1].startswith(f"{BARITO_TIMUR},Kabupaten Barito Timur,7,5,3,1,2,")
    refused = subprocess.run([*command[:6], "62", *command[7:]], capture_output=True, text=True, env=env,
                             timeout=60)
    assert refused.returncode == 1 and "403" in refused.stderr


def test_figures_are_counted_once_per_state_of_the_read_model(barito_timur, coordination, token, db, publish):
    path = f"/coverage?region={BARITO_TIMUR}&period=2026-12"

    def kept():
        with db(coordination.database).cursor() as cur:
            cur.execute("SELECT f.changes, s.changes FROM figures_kept f, read_model_state s WHERE f.key = %s",
                        (f"{BARITO_TIMUR}|2026-12|4",))
            return cur.fetchall()

    first = client(coordination, token).get(path).json()
    [(counted_in, now)] = kept()
    assert counted_in == now
    with db(coordination.database).cursor() as cur:  # what is kept is what is answered while nothing changes
        cur.execute("UPDATE figures_kept SET report = jsonb_set(report, '{gap_decile}', '9')")
    assert client(coordination, token).get(path).json()["gap_decile"] == 9
    publish("registry", "household.updated", {"household": dict(barito_timur["nobody"], version=3, decile=6),
                                              "changes": ["welfare"]})
    again = client(coordination, token).get(path).json()
    assert again["gap_decile"] == 4 and again["totals"]["gaps"] == first["totals"]["gaps"] - 1
    [(counted_in, now)] = kept()
    assert counted_in == now
