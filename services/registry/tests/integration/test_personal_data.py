"""Personal data on a need-to-know basis: the disclosure policy on every
endpoint that answers with persons, and the access log of who read whose
data (issue 14)."""
import csv
import io

import requests

from registry_support import count_rows, finished_import, household_body

B = "\u2022"
NIK = "6213014107850003"  # Siti Aminah, head of household_body()
KK = "6213010107200001"
SECRETS = (NIK, "6213011503100002", "6213010101500001", KK, "Siti", "Aminah", "Budi", "Hasan", "1985-07-01",
           "+6281234567890")
KINDS = ("province", "district", "village", "ngo", "csr")
ROLES = ("admin", "operator", "field_officer", "viewer")
# written out here rather than read from rules.disclosure: this is what the README promises
IN_CLEAR = {(kind, role) for kind in ("province", "district", "village") for role in ("admin", "operator",
                                                                                        "field_officer")}
MASKED_MEMBERS = [
    {"nik": f"6213{B * 8}0003", "name": "S. A.", "birth_date": None, "phone": None, "sex": "F"},
    {"nik": f"6213{B * 8}0001", "name": "H. R.", "birth_date": None, "phone": None, "sex": "M"},
    {"nik": f"6213{B * 8}0002", "name": "B. S.", "birth_date": None, "phone": None, "sex": "M"},
]


def masked_view(members):
    return sorted(({k: m[k] for k in ("nik", "name", "birth_date", "phone", "sex")} for m in members),
                  key=lambda m: m["nik"])


def assert_masked(response):
    assert response.status_code in (200, 201), response.text
    for secret in SECRETS:
        assert secret not in response.text, secret


def test_each_kind_and_role_sees_household_detail_and_search_as_the_policy_says(client, access_rows):
    household = client().post("/households", household_body()).json()
    hid = household["id"]
    for kind in KINDS:
        for role in ROLES:
            agency = f"{kind} {role}"
            regions = ("62.13.01.2003",) if kind == "village" else ("62.13",)
            reader = client(kind=kind, role=role, regions=regions, agency=agency)
            detail = reader.get(f"/households/{hid}")
            by_nik = reader.get("/households", params={"nik": NIK})
            by_name = reader.get("/households", params={"name": "siti aminah"})
            level = "clear" if (kind, role) in IN_CLEAR else "masked"
            for response in (detail, by_nik, by_name):
                assert response.status_code == 200, (agency, response.text)
                assert response.json()["disclosure"] == level, agency
            found = by_nik.json()["items"]
            assert [p["person_ref"] for p in found] == [household["members"][0]["person_ref"]]
            assert by_name.json()["items"][0]["person_ref"] == found[0]["person_ref"]
            if level == "clear":
                assert detail.json()["kk_number"] == KK
                assert detail.json()["members"] == household["members"]
                assert (found[0]["nik"], found[0]["name"], found[0]["birth_date"]) == (NIK, "Siti Aminah",
                                                                                         "1985-07-01")
            else:
                for response in (detail, by_nik, by_name):
                    assert_masked(response)
                assert detail.json()["kk_number"] == f"6213{B * 8}0001"
                assert masked_view(detail.json()["members"]) == masked_view(MASKED_MEMBERS)
                assert (found[0]["nik"], found[0]["name"], found[0]["birth_date"]) == (f"6213{B * 8}0003", "S. A.",
                                                                                         None)
            rows = access_rows(agency=agency)
            assert [(r["action"], r["disclosure"], r["kind"], r["role"], str(r["household_id"]))
                    for r in rows] == [("household.read", level, kind, role, hid),
                                       ("household.search", level, kind, role, hid),
                                       ("household.search", level, kind, role, hid)], agency
            assert str(rows[1]["person_ref"]) == found[0]["person_ref"] and rows[0]["person_ref"] is None
            assert {r["region_code"] for r in rows} == {"62.13.01.2003"}
            assert rows[0]["correlation_id"] == detail.headers["X-Correlation-ID"]


def test_a_search_logs_one_row_per_person_it_returns(client, access_rows):
    operator = client()
    for i in range(1, 4):  # three households, a Siti in each
        body = household_body(kk=f"62130101072000{i:02d}", members=[
            {"nik": f"621301410785{i:04d}", "name": f"Siti Rahma{'h' * i}", "birth_date": "1985-07-01", "sex": "F",
             "relationship": "head"}])
        assert operator.post("/households", body).status_code == 201
    ngo = client(kind="ngo", role="viewer", agency="Yayasan Peduli", regions=("62",))
    page = ngo.get("/households", params={"name": "siti rahma"}, headers={"X-Purpose": "penyaluran sembako"})
    assert_masked(page)
    items = page.json()["items"]
    assert len(items) == 3 and {p["name"] for p in items} == {"S. R."}
    rows = access_rows(agency="Yayasan Peduli")
    assert sorted((str(r["person_ref"]), str(r["household_id"])) for r in rows) == sorted(
        (p["person_ref"], p["household_id"]) for p in items)
    assert {(r["action"], r["purpose"], r["correlation_id"]) for r in rows} == {
        ("household.search", "penyaluran sembako", page.headers["X-Correlation-ID"])}
    assert ngo.get("/households", params={"name": "nobody here"}).json()["items"] == []
    assert len(access_rows(agency="Yayasan Peduli")) == 3  # nothing found, nothing logged


def test_an_ngo_sees_the_masked_form_on_every_endpoint_answering_with_persons(client, access_rows, registry,
                                                                             token):
    ngo = client(kind="ngo", role="operator", agency="Yayasan Peduli Kalteng", regions=("62.13",))
    registered = ngo.post("/households", household_body())
    assert_masked(registered)
    household = registered.json()
    hid = household["id"]
    assert household["disclosure"] == "masked" and household["kk_number"] == f"6213{B * 8}0001"
    assert masked_view(household["members"]) == masked_view(MASKED_MEMBERS)

    added = ngo.post(f"/households/{hid}/members", {"nik": "6213015507120001", "name": "Rina Santoso",
                                                    "birth_date": "2012-07-15", "sex": "F", "relationship": "child",
                                                    "phone": "081298765432"})
    assert_masked(added)
    assert "Rina" not in added.text and "6213015507120001" not in added.text
    person = added.json()
    assert (person["nik"], person["name"], person["birth_date"], person["phone"], person["disclosure"]) == (
        f"6213{B * 8}0001", "R. S.", None, None, "masked")
    renamed = ngo.patch(f"/households/{hid}/members/{person['person_ref']}", {"name": "Rina Aminah"})
    assert_masked(renamed)
    assert renamed.json()["name"] == "R. A."
    for response in (
            ngo.put(f"/households/{hid}/indicators", household["indicators"]),
            ngo.post(f"/households/{hid}/move", {"address": {"village_code": "62.13.01.1012"}}),
            client(kind="ngo", role="field_officer", agency="Yayasan Peduli Kalteng", regions=("62.13",)).post(
                f"/households/{hid}/verification", {"outcome": "verified", "notes": "dikunjungi, HP 0812-3456-7890"}),
            ngo.post(f"/households/{hid}/status", {"status": "inactive", "reason": "pindah"}),
            ngo.post(f"/households/{hid}/members/{person['person_ref']}/removal", {"reason": "moved_out"})):
        assert_masked(response)
        assert response.json()["kk_number"] == f"6213{B * 8}0001", response.text
        assert response.json()["disclosure"] == "masked"

    history = ngo.get(f"/households/{hid}/history")
    assert_masked(history)
    assert "Rina" not in history.text and "0812" not in history.text
    changes = {h["action"]: h["changes"] for h in history.json()["items"]}
    assert changes["registered"]["kk_number"] == f"6213{B * 8}0001"
    assert changes["added"]["name"] == "R. S." and changes["updated"]["name"] == ["R. S.", "R. A."]
    assert changes["removed"]["name"] == "R. A."
    # the district office that covers it reads the same history in clear
    clear = client().get(f"/households/{hid}/history").json()
    assert {h["action"]: h["changes"] for h in clear["items"]}["updated"]["name"] == ["Rina Santoso", "Rina Aminah"]

    writes = access_rows(agency="Yayasan Peduli Kalteng", action="household.write")
    assert len(writes) == 8 and {r["disclosure"] for r in writes} == {"masked"}
    assert [str(r["person_ref"]) for r in writes[1:3]] == [person["person_ref"]] * 2
    assert [r["region_code"] for r in writes][-1] == "62.13.01.1012"  # where it lives after the move
    assert len(access_rows(agency="Yayasan Peduli Kalteng", action="household.history")) == 1


def test_the_duplicates_list_shows_both_members_as_the_caller_may_see_them(client, access_rows):
    operator = client()
    operator.post("/households", household_body())
    twin = household_body(kk="6213010107200009", village="62.13.02.2002", members=[
        {"nik": "6213014107850009", "name": "Siti Aminah", "birth_date": "1985-07-01", "sex": "F",
         "relationship": "head"}])
    assert operator.post("/households", twin).status_code == 201
    clear = operator.get("/duplicates").json()
    assert clear["disclosure"] == "clear"
    [item] = clear["items"]
    assert (item["member"]["nik"], item["other"]["nik"]) == ("6213014107850009", NIK)
    assert item["member"]["name"] == item["other"]["name"] == "Siti Aminah"

    csr = client(kind="csr", role="admin", agency="PT Sawit CSR", regions=("62.13",))
    masked = csr.get("/duplicates", headers={"X-Purpose": "review"})
    assert_masked(masked)
    [item] = masked.json()["items"]
    assert (item["member"]["nik"], item["other"]["nik"]) == (f"6213{B * 8}0009", f"6213{B * 8}0003")
    assert item["member"]["name"] == "S. A." and item["member"]["birth_date"] is None
    # an agency covering only the newer record's district sees the other one's references only
    kecamatan = client(agency="Kecamatan Banua Lima", regions=("62.13.02",))
    [item] = kecamatan.get("/duplicates").json()["items"]
    assert item["member"]["nik"] == "6213014107850009"
    assert set(item["other"]) == {"person_ref", "household_id", "village_code"}
    assert [r["region_code"] for r in access_rows(agency="Kecamatan Banua Lima")] == ["62.13.02.2002"]
    rows = access_rows(agency="PT Sawit CSR")
    assert [(r["action"], r["disclosure"], r["purpose"]) for r in rows] == [("duplicates.list", "masked", "review")] * 2


REJECTED = {"kk_number": "6213010107200005", "street": "Jl. Mawar", "rt": "001", "rw": "002",
            "village_code": "62.13.01.2003", "monthly_income": "1200000", "floor": "marble", "wall": "wood",
            "roof": "zinc", "electricity": "pln_450", "water": "protected_well", "sanitation": "shared",
            "assets": "motorcycle", "legal_basis": "public_duty", "consent_date": "", "consent_recorded_by": "",
            "nik": "6213015507120001", "name": "Rina Santoso", "birth_date": "2012-07-15", "sex": "F",
            "relationship": "head", "disability": "none", "occupation": "", "education": "", "phone": "081234567890"}


def upload_and_wait(registry, bearer, data):
    headers = {"Authorization": f"Bearer {bearer}"}
    accepted = requests.post(registry.url + "/imports", data=data, headers=dict(headers, **{"Content-Type": "text/csv"}),
                             timeout=30)
    assert accepted.status_code == 202, accepted.text
    return finished_import(registry, bearer, accepted.json()["id"], timeout=60)


def test_import_rejections_are_masked_for_a_masked_caller_under_the_right_columns(registry, token, access_rows):
    columns = list(reversed(REJECTED))  # another column order than ours
    text = ",".join(columns) + "\n" + ",".join(REJECTED[c] for c in columns) + "\n"
    ngo = token(kind="ngo", role="operator", agency="Yayasan Peduli", regions=("62.13",))
    state = upload_and_wait(registry, ngo, text.encode())
    assert (state["status"], state["rejected_rows"]) == ("completed", 1), state

    def rejections(bearer):
        response = requests.get(f"{registry.url}/imports/{state['id']}/rejections", timeout=10,
                                headers={"Authorization": f"Bearer {bearer}", "X-Purpose": "perbaikan data"})
        assert response.status_code == 200, response.text
        return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))

    [masked] = rejections(ngo)
    assert masked["reason"].startswith("floor: 'marble'")
    assert (masked["kk_number"], masked["nik"], masked["name"], masked["birth_date"], masked["phone"]) == (
        f"6213{B * 8}0005", f"6213{B * 8}0001", "R. S.", "", "")
    assert (masked["street"], masked["floor"], masked["sex"]) == ("Jl. Mawar", "marble", "F")
    # an admin of the province reads it in clear, each value under its own column
    [clear] = rejections(token(role="admin", agency="Dinas Sosial Provinsi", regions=("62",)))
    assert {k: v for k, v in clear.items() if k not in ("line", "reason")} == REJECTED
    rows = access_rows(action="import.rejections")
    assert [(r["agency"], r["disclosure"], r["region_code"], str(r["import_id"]), r["household_id"], r["purpose"])
            for r in rows] == [("Yayasan Peduli", "masked", "62.13", state["id"], None, "perbaikan data"),
                               ("Dinas Sosial Provinsi", "clear", "62.13", state["id"], None, "perbaikan data")]


def test_the_purpose_is_capped_and_refused_with_nul_and_then_nothing_happens(client, access_rows, db, registry):
    operator = client()
    hid = operator.post("/households", household_body()).json()["id"]
    read = operator.get(f"/households/{hid}", headers={"X-Purpose": "verifikasi \t lapangan"})
    assert read.status_code == 200
    assert [r["purpose"] for r in access_rows(action="household.read")] == ["verifikasi lapangan"]
    for purpose in ("x" * 201, "audit\x00"):
        for response in (operator.get(f"/households/{hid}", headers={"X-Purpose": purpose}),
                         operator.post("/households", household_body(kk="6213010107200002", members=[
                             {"nik": "6213014107850009", "name": "Siti Rahmah", "birth_date": "1985-07-01",
                              "sex": "F", "relationship": "head"}]), headers={"X-Purpose": purpose})):
            assert response.status_code == 422, response.text
            assert response.json()["errors"][0]["field"] == "X-Purpose"
    assert count_rows(db, registry.database, "households") == 1
    assert count_rows(db, registry.database, "personal_data_access") == 2  # the registration's and the read's


def test_the_access_log_shows_admins_who_read_what_in_their_regions(client, access_rows):
    district = client()
    hid = district.post("/households", household_body()).json()["id"]
    kapuas = client(agency="Dinas Sosial Kapuas", regions=("62.03",))
    other = kapuas.post("/households", household_body(kk="6203010107200001", village="62.03.01.1006", members=[
        {"nik": "6203014107850003", "name": "Dewi Lestari", "birth_date": "1985-07-01", "sex": "F",
         "relationship": "head"}])).json()["id"]
    ngo = client(kind="ngo", role="viewer", agency="Yayasan Peduli", regions=("62",))
    ngo.get(f"/households/{hid}", headers={"X-Purpose": "survei"})
    ngo.get(f"/households/{other}")
    person = ngo.get("/households", params={"nik": NIK}).json()["items"][0]["person_ref"]

    def log(bearer_client, **params):
        response = bearer_client.get("/access-log", params=params)
        assert response.status_code == 200, response.text
        return response.json()["items"]

    barito_admin = client(role="admin", agency="Dinas Sosial Barito Timur")
    entries = log(barito_admin)
    assert [(e["agency"], e["action"]) for e in entries] == [  # newest first, Kapuas's left out
        ("Yayasan Peduli", "household.search"), ("Yayasan Peduli", "household.read"),
        ("Dinas Sosial Kabupaten Barito Timur", "household.write")]
    assert entries[1]["purpose"] == "survei" and entries[1]["disclosure"] == "masked"
    assert entries[0]["person_ref"] == person and entries[0]["kind"] == "ngo" and entries[0]["role"] == "viewer"
    province_admin = client(role="admin", kind="province", agency="Dinas Sosial Provinsi", regions=("62",))
    assert len(log(province_admin)) == 5
    kapuas_admin = client(role="admin", agency="Dinas Sosial Kapuas", regions=("62.03",))
    assert [e["household_id"] for e in log(kapuas_admin)] == [other, other]
    # filters and pages
    assert [e["action"] for e in log(province_admin, household=hid)] == ["household.search", "household.read",
                                                                         "household.write"]
    assert [e["action"] for e in log(province_admin, person_ref=person)] == ["household.search"]
    assert {e["household_id"] for e in log(province_admin, agency="Dinas Sosial Kapuas")} == {other}
    assert log(province_admin, agency="nobody") == []
    newest = entries[0]["at"]
    assert [e["action"] for e in log(province_admin, since=newest)] == ["household.search"]
    assert len(log(province_admin, until=newest)) == 4
    pages = [log(province_admin, per_page=2, page=p) for p in (1, 2, 3)]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [e["id"] for p in pages for e in p] == [e["id"] for e in log(province_admin)]
    # admins only, and checked
    assert district.get("/access-log").status_code == 403
    assert ngo.get("/access-log").status_code == 403
    assert province_admin.get("/access-log", params={"household": "nope"}).status_code == 422
    assert province_admin.get("/access-log", params={"since": "yesterday"}).status_code == 422
    assert province_admin.get("/access-log", params={"agency": "a\x00"}).status_code == 422
    assert province_admin.get("/access-log", params={"per_page": 501}).status_code == 422
