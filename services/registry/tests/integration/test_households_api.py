"""The registry over HTTP, against the real database and broker."""
from registry_support import assert_no_identifiers, household_body


def test_register_read_and_event_without_personal_data(client, capture):
    operator = client()
    body = household_body()
    response = operator.post("/households", body)
    assert response.status_code == 201, response.text
    household = response.json()
    assert household["status"] == "registered" and household["version"] == 1
    assert 0 <= household["welfare_score"] <= 100 and 1 <= household["decile"] <= 10
    assert [m["phone"] for m in household["members"]] == ["+6281234567890", None, None]

    got = operator.get(f"/households/{household['id']}").json()
    assert got["kk_number"] == "6213010107200001" and len(got["members"]) == 3

    events = capture.events()
    assert [t for t, _ in events] == ["household.registered"]
    snapshot = events[0][1]["household"]
    assert snapshot["household_id"] == household["id"]
    assert (snapshot["size"], snapshot["children"], snapshot["elderly"], snapshot["disabled"]) == (3, 1, 1, 1)
    assert snapshot["village_code"] == "62.13.01.2003" and snapshot["regency_code"] == "62.13"
    assert {m["person_ref"] for m in snapshot["members"]} == {m["person_ref"] for m in household["members"]}
    text = str(events[0][1])
    for secret in ("Siti", "Aminah", "81234567890"):
        assert secret not in text
    # neither the NIKs nor the KK number sent, nor a digest of one, in the body or the headers
    assert_no_identifiers(capture.messages, [body["kk_number"], *(m["nik"] for m in body["members"])])
    headers = capture.messages[0][0]
    assert headers["ce-dataschema"] == "urn:setiakawan:registry:household.registered:v2"


def test_same_nik_or_kk_from_another_agency_is_refused_with_scope(client, capture):
    assert client().post("/households", household_body()).status_code == 201
    same_nik = [{"nik": "6213014107850003", "name": "Siti Aminah", "birth_date": "1985-07-01", "sex": "F",
                 "relationship": "head"}]
    # an NGO covering the whole province sees which household holds the NIK
    ngo = client(agency="Yayasan Peduli Kalteng", kind="ngo", regions=("62",))
    refused = ngo.post("/households", household_body(kk="6213010107200002", members=same_nik))
    assert refused.status_code == 409
    assert refused.json()["existing_household_id"]
    # the same KK number from another agency
    again = ngo.post("/households", household_body())
    assert again.status_code == 409 and "KK number" in again.json()["detail"]
    # an agency covering another district of Barito Timur learns only that it exists
    neighbour = client(agency="Kecamatan Banua Lima", regions=("62.13.02",))
    outside = neighbour.post("/households", household_body(kk="6213020107200003", village="62.13.02.2002",
                                                            members=same_nik))
    assert outside.status_code == 409, outside.text
    assert "existing_household_id" not in outside.json()
    assert "outside your regions" in outside.json()["detail"]
    assert [t for t, _ in capture.events()] == ["household.registered"]


def test_search_by_nik_and_name_is_limited_to_the_callers_regions(client):
    client().post("/households", household_body())
    operator = client()
    by_nik = operator.get("/households", params={"nik": "6213014107850003"}).json()["items"]
    assert [m["name"] for m in by_nik] == ["Siti Aminah"]
    by_name = operator.get("/households", params={"name": "siti amina", "region": "62.13.01"}).json()["items"]
    assert by_name and by_name[0]["name"] == "Siti Aminah"
    elsewhere = client(agency="Dinas Sosial Kapuas", regions=("62.03",))
    assert elsewhere.get("/households", params={"nik": "6213014107850003"}).json()["items"] == []
    assert elsewhere.get("/households", params={"name": "siti"}).json()["items"] == []
    assert elsewhere.get("/households", params={"name": "siti", "region": "62.13"}).status_code == 403
    assert operator.get("/households", params={"name": "siti", "nik": "6213014107850003"}).status_code == 422


def test_verification_members_move_status_and_history(client, capture):
    operator = client()
    household = operator.post("/households", household_body()).json()
    hid = household["id"]
    officer = client(role="field_officer")
    assert operator.post(f"/households/{hid}/verification", {"outcome": "verified"}).status_code == 403
    verified = officer.post(f"/households/{hid}/verification", {"outcome": "verified", "notes": "visited"})
    assert verified.status_code == 200, verified.text
    assert verified.json()["status"] == "verified" and verified.json()["reverify_due"]

    added = operator.post(f"/households/{hid}/members", {
        "nik": "6213015507120001", "name": "Rina Santoso", "birth_date": "2012-07-15", "sex": "F",
        "relationship": "child"})
    assert added.status_code == 201, added.text
    person = added.json()["person_ref"]
    renamed = operator.patch(f"/households/{hid}/members/{person}", {"name": "Rina Aminah"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Rina Aminah"
    removed = operator.post(f"/households/{hid}/members/{person}/removal", {"reason": "moved_out"})
    assert removed.status_code == 200 and len(removed.json()["members"]) == 3
    moved = operator.post(f"/households/{hid}/move", {"address": {"village_code": "62.13.01.1012"}})
    assert moved.status_code == 200 and moved.json()["village_code"] == "62.13.01.1012"
    rescored = operator.put(f"/households/{hid}/indicators", dict(household["indicators"], monthly_income=9_000_000))
    assert rescored.json()["welfare_score"] > household["welfare_score"]
    graduated = operator.post(f"/households/{hid}/status", {"status": "graduated", "reason": "income rose"})
    assert graduated.json()["status"] == "graduated"
    assert operator.post(f"/households/{hid}/verification", {"outcome": "verified"}).status_code == 403
    again = officer.post(f"/households/{hid}/verification", {"outcome": "rejected", "reason": "x"})
    assert again.status_code == 409  # graduated households are not verified or rejected

    history = operator.get(f"/households/{hid}/history").json()["items"]
    assert [h["action"] for h in history] == ["registered", "verified", "added", "updated", "removed", "moved",
                                             "indicators_updated", "status_changed"]
    assert all(h["agency"] for h in history)
    pages = [operator.get(f"/households/{hid}/history", params={"per_page": 3, "page": page}).json()
             for page in (1, 2, 3, 4)]
    assert [[h["action"] for h in p["items"]] for p in pages] == [
        ["registered", "verified", "added"], ["updated", "removed", "moved"], ["indicators_updated", "status_changed"],
        []]
    assert operator.get(f"/households/{hid}/history", params={"per_page": 501}).status_code == 422
    types = [t for t, _ in capture.events()]
    assert types == ["household.registered", "household.verified", "household.status_changed", "member.added",
                     "household.updated", "member.removed", "household.updated", "household.updated",
                     "household.status_changed"]
    assert_no_identifiers(capture.messages, ["6213010107200001", "6213015507120001",
                                             *(m["nik"] for m in household_body()["members"])])


def test_likely_duplicate_is_flagged_and_can_be_dismissed_or_merged(client):
    operator = client()
    operator.post("/households", household_body())
    # another family, another NIK for what looks like the same Siti Aminah (same birth date, same regency)
    twin = household_body(kk="6213010107200009", members=[
        {"nik": "6213014107850009", "name": "Siti Aminah", "birth_date": "1985-07-01", "sex": "F",
         "relationship": "head"}])
    assert operator.post("/households", twin).status_code == 201
    candidates = operator.get("/duplicates").json()["items"]
    assert len(candidates) == 1 and candidates[0]["similarity"] >= 0.6
    merged = operator.post(f"/duplicates/{candidates[0]['id']}/merge", {"note": "same person"})
    assert merged.status_code == 200, merged.text
    assert merged.json()["status"] == "merged"
    assert operator.get("/duplicates").json()["items"] == []
    assert operator.post(f"/duplicates/{candidates[0]['id']}/dismiss", {}).status_code == 409


def test_groups(client, capture):
    operator = client()
    household = operator.post("/households", household_body()).json()
    refs = [m["person_ref"] for m in household["members"][:2]]
    group = operator.post("/groups", {"name": "KUBE Maju Bersama", "kind": "kube", "village_code": "62.13.01.2003",
                                      "member_refs": refs})
    assert group.status_code == 201, group.text
    gid = group.json()["id"]
    assert sorted(map(str, operator.get(f"/groups/{gid}").json()["member_refs"])) == sorted(refs)
    updated = operator.patch(f"/groups/{gid}", {"member_refs": refs[:1], "name": "KUBE Maju Jaya"})
    assert updated.status_code == 200 and updated.json()["version"] == 2
    unknown = operator.post("/groups", {"name": "Karang Taruna Bina", "kind": "karang_taruna",
                                        "village_code": "62.13.01.2003",
                                        "member_refs": ["00000000-0000-4000-8000-000000000000"]})
    assert unknown.status_code == 422
    history = operator.get(f"/groups/{gid}/history").json()["items"]
    assert [h["action"] for h in history] == ["registered", "updated"]
    assert history[1]["changes"]["name"] == ["KUBE Maju Bersama", "KUBE Maju Jaya"]
    assert client(regions=("62.03",)).get(f"/groups/{gid}").status_code == 404
    types = [t for t, _ in capture.events()]
    assert types == ["household.registered", "group.registered", "group.updated"]
