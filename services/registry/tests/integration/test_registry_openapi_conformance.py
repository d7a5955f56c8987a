"""The registry's OpenAPI document tells the truth: schemathesis, with an
operator's and then an admin's token, finds no answer (status, content type,
body) that the document does not describe, and no server error. Real
records are made first, so that lookups by id reach them."""
import time

import requests

from registry_support import Client, household_body
from tests.support import conformance
from demo.population import Population, write_csv

REGIONS = ("62",)


def seed(registry, token, tmp_path):
    """Two households (one member of the second a likely duplicate of one
    of the first), a group and a finished import with rejected rows, each
    answer as the document says; the ids of each, by the name of the
    parameter that takes them."""
    document = conformance.Document(registry.url)
    operator = Client(registry.url, token(role="operator", regions=REGIONS))
    first = document.check(operator.post("/households", household_body()))
    twin = {"nik": "6213014107850004", "name": "Siti Aminah", "birth_date": "1985-07-01", "sex": "F",
            "relationship": "head"}
    second = document.check(operator.post("/households", household_body(kk="6213010107200002", members=[twin])))
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    households = [first.json(), second.json()]
    members = [m["person_ref"] for h in households for m in h["members"]]
    group = document.check(operator.post("/groups", {"name": "KUBE Maju Bersama", "kind": "kube",
                                                     "village_code": "62.13.01.2003", "member_refs": members[:2]}))
    assert group.status_code == 201, group.text
    candidates = document.check(operator.get("/duplicates")).json()["items"]
    assert candidates, "the twin was not flagged"
    path = tmp_path / "list.csv"
    write_csv(path, [Population(seed=5, provinces=REGIONS).household() for _ in range(3)], bad_share=0.3, seed=2)
    upload = document.check(requests.post(
        registry.url + "/imports", data=path.read_bytes(), params={"filename": "list.csv"}, timeout=60,
        headers=dict(operator.headers, **{"Content-Type": "text/csv"})))
    assert upload.status_code == 202, upload.text
    import_id = upload.json()["id"]
    deadline = time.monotonic() + 60
    while document.check(operator.get(f"/imports/{import_id}")).json()["status"] not in ("completed", "failed"):
        assert time.monotonic() < deadline, "the import did not finish"
        time.sleep(0.2)
    rejections = document.check(operator.get(f"/imports/{import_id}/rejections"))
    assert len(rejections.text.splitlines()) > 1, "the import rejected no row"
    return {"households": [h["id"] for h in households], "members": members, "groups": [group.json()["id"]],
            "candidates": [c["id"] for c in candidates], "imports": [import_id]}


PARAMETERS = {"path.household_id": "households", "path.member_id": "members", "path.group_id": "groups",
              "path.candidate_id": "candidates", "path.import_id": "imports", "query.household": "households",
              "query.person_ref": "members", "body.member_refs[*]": "members"}


def test_the_registry_answers_as_its_document_says(registry, token, tmp_path):
    records = seed(registry, token, tmp_path)
    for label, identity in (("operator", token(role="operator", regions=REGIONS)),
                            ("ngo-admin", token(role="admin", kind="ngo", agency="Yayasan Peduli Kalteng",
                                                regions=REGIONS))):
        conformance.assert_conforms(conformance.run(registry.url, identity, tmp_path, label, records, PARAMETERS))
