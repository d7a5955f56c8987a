"""POST /matches: an agency matches its own list of NIKs or KK numbers and
learns references, nothing else, within its regions and its hourly allowance."""
import requests

from registry_support import Client, count_rows, household_body

BARITO_NIK, BARITO_KK = "6213014107850003", "6213010107200001"
KAPUAS_NIK, KAPUAS_KK = "6203014107850003", "6203010107200001"
UNKNOWN_NIK, UNKNOWN_KK = "6213014107859999", "6213010107209999"


def register_both(client):
    barito = client().post("/households", household_body()).json()
    kapuas = client(agency="Dinas Sosial Kapuas", regions=("62.03",)).post("/households", household_body(
        kk=KAPUAS_KK, village="62.03.01.1006", members=[{"nik": KAPUAS_NIK, "name": "Dewi Lestari",
                                                         "birth_date": "1985-07-01", "sex": "F",
                                                         "relationship": "head"}])).json()
    return barito, kapuas


def test_a_match_answers_references_within_the_callers_regions_only(client, access_rows):
    barito, kapuas = register_both(client)
    ngo = client(kind="ngo", role="operator", agency="Yayasan Peduli", regions=("62.13",))
    found = ngo.post("/matches", {"niks": [UNKNOWN_NIK, KAPUAS_NIK, BARITO_NIK, BARITO_NIK]},
                     headers={"X-Purpose": "penerima bantuan 2025"})
    assert found.status_code == 200, found.text
    head = barito["members"][0]
    assert found.json() == {"looked_up": 3, "matches": [
        {"nik": BARITO_NIK, "person_ref": head["person_ref"], "household_id": barito["id"]}]}
    # a number registered outside the regions looks exactly like one registered nowhere
    alone = [ngo.post("/matches", {"niks": [n]}).json() for n in (KAPUAS_NIK, UNKNOWN_NIK)]
    assert alone[0] == alone[1] == {"looked_up": 1, "matches": []}
    by_kk = ngo.post("/matches", {"kk_numbers": [KAPUAS_KK, BARITO_KK, UNKNOWN_KK]})
    assert by_kk.json() == {"looked_up": 3, "matches": [
        {"kk_number": BARITO_KK, "person_ref": None, "household_id": barito["id"]}]}
    # the agency covering Kapuas finds its own
    kapuas_op = client(kind="csr", role="admin", agency="PT Sawit CSR", regions=("62.03",))
    assert [m["household_id"] for m in kapuas_op.post("/matches", {"niks": [BARITO_NIK, KAPUAS_NIK]}).json()[
        "matches"]] == [kapuas["id"]]

    rows = access_rows(action="match")
    assert [(r["agency"], r["kind"], r["role"], r["disclosure"], str(r["household_id"]), r["region_code"])
            for r in rows] == [
        ("Yayasan Peduli", "ngo", "operator", "reference", barito["id"], "62.13.01.2003"),
        ("Yayasan Peduli", "ngo", "operator", "reference", barito["id"], "62.13.01.2003"),
        ("PT Sawit CSR", "csr", "admin", "reference", kapuas["id"], "62.03.01.1006")]
    assert str(rows[0]["person_ref"]) == head["person_ref"] and rows[1]["person_ref"] is None
    assert rows[0]["purpose"] == "penerima bantuan 2025"
    assert rows[0]["correlation_id"] == found.headers["X-Correlation-ID"]


def test_matching_is_for_admins_and_operators_with_well_formed_batches(client, registry, db):
    viewer = client(kind="ngo", role="viewer", agency="Yayasan Peduli", regions=("62",))
    assert viewer.post("/matches", {"niks": [BARITO_NIK]}).status_code == 403
    officer = client(role="field_officer")
    assert officer.post("/matches", {"niks": [BARITO_NIK]}).status_code == 403
    operator = client(kind="ngo", agency="Yayasan Peduli", regions=("62",))
    for body, field in (
            ({"niks": [f"{6213014107850000 + i}" for i in range(1001)]}, "niks"),
            ({"niks": []}, "niks"),
            ({"niks": ["621301410785000"]}, "niks.0"),
            ({"niks": ["62130141078500０3"]}, "niks.0"),  # a full-width digit
            ({"niks": [BARITO_NIK, BARITO_NIK + "\n"]}, "niks.1"),
            ({"kk_numbers": ["6213-0101-0720-0001"]}, "kk_numbers.0"),
            ({"niks": [BARITO_NIK], "kk_numbers": [BARITO_KK]}, "_schema"),
            ({}, "_schema"),
            ({"names": ["Siti"]}, "names")):
        refused = operator.post("/matches", body)
        assert refused.status_code == 422, (body, refused.text)
        assert field in [e["field"] for e in refused.json()["errors"]], (field, refused.text)
    assert operator.post("/matches", {"niks": [f"{6213014107850000 + i}" for i in range(1000)]}).status_code == 200
    for table in ("personal_data_access",):
        assert count_rows(db, registry.database, table) == 0


def test_the_hourly_allowance_is_shared_by_replicas_and_over_it_nothing_is_looked_up(
        make_database, run_service, token, tmp_path, db):
    from setiakawan_registry import SERVICE

    database = make_database(SERVICE.migrations, prefix="registry")
    replicas = [run_service(f"registry-{i}", SERVICE.module, database, IMPORT_DIR=str(tmp_path / f"uploads-{i}"),
                            MATCH_RATE_PER_HOUR=10, **SERVICE.test_config) for i in (1, 2)]
    first, second = (Client(r.url, token(kind="ngo", agency="Yayasan Peduli", regions=("62.13",))) for r in replicas)
    assert first.post("/households", household_body()).status_code == 201
    batch = [BARITO_NIK, *(f"62130141078590{i:02d}" for i in range(5))]
    assert len(first.post("/matches", {"niks": batch}).json()["matches"]) == 1  # 6 of 10
    refused = second.post("/matches", {"niks": batch})
    assert refused.status_code == 429, refused.text
    assert refused.headers["Content-Type"] == "application/problem+json"
    retry = int(refused.headers["Retry-After"])
    assert 3500 < retry <= 3660 and refused.json()["retry_after"] == retry
    with db(database).cursor() as cur:
        cur.execute("SELECT action, count(*) FROM personal_data_access GROUP BY action ORDER BY action")
        assert cur.fetchall() == [("household.write", 1), ("match", 1)]  # nothing logged for the refused one
        cur.execute("SELECT sum(numbers) FROM match_usage WHERE agency = 'Yayasan Peduli'")
        assert cur.fetchone()[0] == 6  # nor counted
    assert second.post("/matches", {"niks": batch[:4]}).status_code == 200  # 10 of 10
    assert first.post("/matches", {"kk_numbers": [BARITO_KK]}).status_code == 429
    # another agency has an allowance of its own
    other = Client(replicas[1].url, token(kind="csr", agency="PT Sawit CSR", regions=("62.13",)))
    assert other.post("/matches", {"niks": batch}).status_code == 200
    # more than the whole allowance at once is never possible
    too_many = other.post("/matches", {"niks": [f"62130141078591{i:02d}" for i in range(11)]})
    assert too_many.status_code == 429 and too_many.headers["Retry-After"] == "3600"
    operation = requests.get(replicas[0].url + "/openapi.json", timeout=10).json()["paths"]["/matches"]["post"]
    assert {"200", "413", "422", "429"} <= set(operation["responses"])
