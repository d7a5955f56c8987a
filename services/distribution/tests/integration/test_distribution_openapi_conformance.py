"""The distribution service's OpenAPI document tells the truth:
schemathesis, as the province's operator and as another province's admin,
finds no answer the document does not describe and no server error. Real
records come first, so that lookups by id reach them."""
from distribution_support import PULAU_PATAI, activated, programme_body, snapshot
from tests.support import conformance


def seed(client, registry_events):
    document = conformance.Document(client().url)
    houses = [snapshot(village=PULAU_PATAI, decile=1 + i) for i in range(3)]
    for house in houses:
        registry_events.household(house)
    province = client()
    point = document.check(province.post("/points", {"name": "Gudang Tamiang Layang", "kind": "warehouse",
                                                     "village_code": PULAU_PATAI})).json()
    document.check(province.post(f"/points/{point['id']}/moves",
                                 {"move": "received", "item": "beras", "unit": "kg", "quantity": "100"}))
    programme = activated(province, programme_body(point_id=point["id"]))
    draft = document.check(province.post("/programmes", programme_body(name="Draft"))).json()
    document.check(province.post(f"/programmes/{draft['id']}/preview"))
    entitlements = document.check(province.get(f"/programmes/{programme['id']}/entitlements")).json()["items"]
    return {"programmes": [programme["id"], draft["id"]], "entitlements": [e["id"] for e in entitlements],
            "points": [point["id"]], "households": [h["household_id"] for h in houses],
            "people": [h["members"][0]["person_ref"] for h in houses]}


PARAMETERS = {"path.programme_id": "programmes", "path.entitlement_id": "entitlements", "path.point_id": "points",
              "path.household_id": "households", "body.recipient_ref": "people", "body.point_id": "points"}


def test_the_distribution_service_answers_as_its_document_says(client, registry_events, token, distribution,
                                                               tmp_path):
    records = seed(client, registry_events)
    for label, identity in (("province", token(role="operator", regions=("62",), kind="province",
                                               agency="Dinas Sosial Provinsi Kalimantan Tengah")),
                            ("other-admin", token(role="admin", kind="province", regions=("63",),
                                                  agency="Dinas Sosial Provinsi Kalimantan Selatan"))):
        conformance.assert_conforms(conformance.run(distribution.url, identity, tmp_path, label, records,
                                                    PARAMETERS))
