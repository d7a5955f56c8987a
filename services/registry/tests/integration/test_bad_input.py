"""Every kind of bad input gets a clear 4xx problem document, and nothing is
stored or published."""
import copy

import requests

from registry_support import count_rows, household_body

PROBLEM = "application/problem+json"


def broken(mutate):
    body = household_body()
    mutate(body)
    return body


def member(**changes):
    base = {"nik": "6213014107850003", "name": "Siti Aminah", "birth_date": "1985-07-01", "sex": "F",
            "relationship": "head"}
    base.update(changes)
    return base


CASES = [
    ("NIK of 15 digits", lambda b: b["members"][0].update(nik="621301410785000"), "members.0.nik"),
    ("NIK with a district not on the list", lambda b: b["members"][0].update(nik="6213994107850003"),
     "members.0.nik"),
    ("NIK whose date is not a date", lambda b: b["members"][0].update(nik="6213017207850003"), "members.0.nik"),
    ("birth date contradicting the NIK", lambda b: b["members"][0].update(birth_date="1985-07-02"),
     "members.0.birth_date"),
    ("sex contradicting the NIK", lambda b: b["members"][0].update(sex="M"), "members.0.sex"),
    ("impossible birth date", lambda b: b["members"][1].update(birth_date="2010-02-30"), "members.1.birth_date"),
    ("village code that does not exist", lambda b: b["address"].update(village_code="62.13.01.2001"),
     "address.village_code"),
    ("village code of the wrong shape", lambda b: b["address"].update(village_code="62.13.01.20O3"),
     "address.village_code"),
    ("KK number with letters", lambda b: b.update(kk_number="62130101072000AB"), "kk_number"),
    ("consent without its date", lambda b: b.update(legal_basis="consent"), "consent_date"),
    ("consent dated in the future", lambda b: b.update(legal_basis="consent", consent_date="2999-01-01",
                                                       consent_recorded_by="Petugas"), "consent_date"),
    ("two heads", lambda b: b["members"][1].update(relationship="head"), "members"),
    ("the same NIK twice", lambda b: b["members"].append(copy.deepcopy(b["members"][0]) | {"relationship": "spouse"}),
     "members"),
    ("phone that is not Indonesian", lambda b: b["members"][0].update(phone="12345"), "members.0.phone"),
    ("negative income", lambda b: b["indicators"].update(monthly_income=-1), "indicators.monthly_income"),
    ("unknown floor", lambda b: b["indicators"].update(floor="marble"), "indicators.floor"),
    ("unknown field", lambda b: b.update(religion="x"), "religion"),
    ("no members", lambda b: b.update(members=[]), "members"),
]


def test_each_bad_household_is_a_422_naming_the_field(client, capture, db, registry):
    operator = client()
    for label, mutate, field in CASES:
        response = operator.post("/households", broken(mutate))
        assert response.status_code == 422, (label, response.text)
        assert response.headers["Content-Type"] == PROBLEM
        fields = [e["field"] for e in response.json()["errors"]]
        assert field in fields, (label, fields)
    for table in ("households", "members", "history", "kit_outbox"):
        assert count_rows(db, registry.database, table) == 0, table
    assert capture.events() == []


def test_scope_role_and_unknown_ids(client, db, registry, capture):
    outsider = client(agency="Dinas Sosial Kapuas", regions=("62.03",))
    assert outsider.post("/households", household_body()).status_code == 403
    viewer = client(role="viewer")
    assert viewer.post("/households", household_body()).status_code == 403
    operator = client()
    assert operator.get("/households/00000000-0000-4000-8000-000000000000").status_code == 404
    assert operator.get("/households/not-a-uuid").status_code == 404
    assert operator.post("/households/00000000-0000-4000-8000-000000000000/verification",
                         {"outcome": "verified"}).status_code == 403  # operators do not verify
    officer = client(role="field_officer")
    assert officer.post("/households/00000000-0000-4000-8000-000000000000/verification",
                        {"outcome": "verified"}).status_code == 404
    assert officer.post("/households/00000000-0000-4000-8000-000000000000/verification",
                        {"outcome": "rejected"}).status_code == 422  # a rejection needs a reason
    household = operator.post("/households", household_body()).json()
    assert outsider.get(f"/households/{household['id']}").status_code == 404
    move_out = operator.post(f"/households/{household['id']}/move", {"address": {"village_code": "62.03.01.1006"}})
    assert move_out.status_code == 403
    assert operator.get(f"/households/{household['id']}").json()["village_code"] == "62.13.01.2003"
    remove_head = operator.post(f"/households/{household['id']}/members/{household['members'][0]['person_ref']}/removal",
                                {"reason": "died"})
    assert remove_head.status_code == 409
    assert [t for t, _ in capture.events()] == ["household.registered"]


def test_malformed_requests(registry, token):
    url, headers = registry.url + "/households", {"Authorization": f"Bearer {token(regions=('62.13',))}"}
    assert requests.post(url, data=b"{", headers=dict(headers, **{"Content-Type": "application/json"}),
                         timeout=10).status_code == 400
    assert requests.post(url, data=b"kk,nik", headers=dict(headers, **{"Content-Type": "text/csv"}),
                         timeout=10).status_code == 415
    assert requests.post(url, json=household_body(), timeout=10).status_code == 401
    search = requests.get(url, params={"nik": "12"}, headers=headers, timeout=10)
    assert search.status_code == 422 and search.headers["Content-Type"] == PROBLEM


def test_text_with_a_nul_character_is_a_422_and_stores_nothing(client, db, registry, token):
    """PostgreSQL keeps no NUL in text: it is refused before it gets there."""
    operator = client()
    for label, mutate in (("name", lambda b: b["members"][0].update(name="Siti\u0000Aminah")),
                          ("street", lambda b: b["address"].update(street="Jl. \u0000"))):
        response = operator.post("/households", broken(mutate))
        assert response.status_code == 422, (label, response.text)
        assert response.headers["Content-Type"] == PROBLEM
    search = requests.get(registry.url + "/households", params={"name": "Siti\x00"}, timeout=10,
                          headers={"Authorization": f"Bearer {token(regions=('62.13',))}"})
    assert search.status_code == 422 and search.headers["Content-Type"] == PROBLEM
    upload = requests.post(registry.url + "/imports", data=b"kk_number\n", params={"filename": "a\x00.csv"},
                           timeout=10, headers={"Authorization": f"Bearer {token(regions=('62.13',))}",
                                                "Content-Type": "text/csv"})
    assert upload.status_code == 422
    for table in ("households", "members", "imports"):
        assert count_rows(db, registry.database, table) == 0, table

