"""Every kind of bad input to the distribution service is a 4xx problem
document, never a 500, and changes nothing: no programme, entitlement,
ledger row, stock, move or delivery is stored or changed, and no event is
written to the outbox."""
import json
import re
import uuid

import requests

from distribution_support import BALANGAN, PULAU_PATAI, activated, programme_body, snapshot
from setiakawan_kit.http import MAX_BODY_BYTES
from setiakawan_kit.testing import assert_problem, database_state

TABLES = ("programmes", "entitlements", "ledger", "points", "stock", "stock_moves", "deliveries")
UNKNOWN = "00000000-0000-4000-8000-000000000000"


def state(db, distribution):
    return database_state(db(distribution.database), TABLES)


def names(doc, field):
    named = {re.sub(r"\[(\d+)\]", r".\1", e["field"]) for e in doc.get("errors") or ()}
    return any(n == field or n.startswith(field + ".") for n in named)


def _cash(**values):
    return lambda b: b.update(kind="cash", category="cash", items=[], cash=values)


PROGRAMME_CASES = [
    ("no name", lambda b: b.pop("name"), "name"),
    ("blank name", lambda b: b.update(name="  "), "name"),
    ("unknown kind", lambda b: b.update(kind="voucher"), "kind"),
    ("unknown category", lambda b: b.update(category="luxury"), "category"),
    ("unknown funding source", lambda b: b.update(funding_source="lottery"), "funding_source"),
    ("an in-kind programme without items", lambda b: b.update(items=[]), "items"),
    ("an item of quantity 0", lambda b: b["items"][0].update(quantity="0"), "items.0.quantity"),
    ("an item of quantity NaN", lambda b: b["items"][0].update(quantity="NaN"), "items.0.quantity"),
    ("an item of a negative quantity", lambda b: b["items"][0].update(quantity=-1), "items.0.quantity"),
    ("a cash programme saying no amount", lambda b: b.update(kind="cash", items=[]), "cash"),
    ("cash of 0 Rupiah", _cash(basis="per_beneficiary", amount=0), "cash.amount"),
    ("cash as text", _cash(basis="per_beneficiary", amount="lima ratus ribu"), "cash.amount"),
    ("cash of a fraction of a Rupiah", _cash(basis="per_beneficiary", amount=0.5), "cash.amount"),
    ("an unknown cash basis", _cash(basis="per_cow", amount=1000), "cash.basis"),
    ("a group grant without a group kind", lambda b: b.update(kind="group_grant", rule=None), "group_kind"),
    ("a household programme naming a group kind", lambda b: b.update(group_kind="kube"), "group_kind"),
    ("a period ending before it starts", lambda b: b.update(period={"starts_on": "2026-12-31",
                                                                    "ends_on": "2026-12-01"}), "period.ends_on"),
    ("30 February", lambda b: b["period"].update(starts_on="2026-02-30"), "period.starts_on"),
    ("a date that is not a date", lambda b: b["period"].update(ends_on="akhir bulan"), "period.ends_on"),
    ("the year 10000", lambda b: b["period"].update(ends_on="10000-01-01"), "period.ends_on"),
    ("no regions", lambda b: b.update(region_codes=[]), "region_codes"),
    ("a region not on the list", lambda b: b.update(region_codes=["62.99"]), "region_codes.0"),
    ("a region code of a bad format", lambda b: b.update(region_codes=["6213"]), "region_codes.0"),
    ("a quota of 0", lambda b: b.update(quota=0), "quota"),
    ("a rule that is not CEL", lambda b: b.update(rule="household.decile <="), "rule"),
    ("a rule naming an unknown field", lambda b: b.update(rule="household.income < 500000"), "rule"),
    ("a rule with a misspelt status", lambda b: b.update(rule='household.status == "verifed"'), "rule"),
    ("a rule that is not a condition", lambda b: b.update(rule="household.decile"), "rule"),
    ("a rule comparing a number with text", lambda b: b.update(rule='household.decile < "4"'), "rule"),
    ("a rule too long", lambda b: b.update(rule="true && " * 300 + "true"), "rule"),
    ("an unknown point", lambda b: b.update(point_id=UNKNOWN), "point_id"),
    ("a NUL in the name", lambda b: b.update(name="Sembako\u0000"), "body"),
]


def test_each_bad_programme_is_a_422_naming_the_field_and_changes_nothing(client, db, distribution):
    province = client()
    draft = province.post("/programmes", programme_body())
    assert draft.status_code == 201, draft.text
    draft = draft.json()
    before = state(db, distribution)
    for label, mutate, field in PROGRAMME_CASES:
        for method, path in (("post", "/programmes"), ("put", f"/programmes/{draft['id']}")):
            body = programme_body()
            mutate(body)
            doc = assert_problem(getattr(province, method)(path, body), 422, f"{method} {label}")
            assert names(doc, field), (label, method, doc)
        assert state(db, distribution) == before, label
    assert province.get(f"/programmes/{draft['id']}").json() == draft


def test_malformed_requests_unknown_ids_and_refused_moves_are_problems_that_change_nothing(
        client, db, distribution, registry_events):
    registry_events.household(snapshot(village=PULAU_PATAI, decile=1))
    province = client()
    point = province.post("/points", {"name": "Balai Desa Pulau Patai", "kind": "village_hall",
                                      "village_code": PULAU_PATAI}).json()
    province.post(f"/points/{point['id']}/moves", {"move": "received", "item": "beras", "unit": "kg", "quantity": "5"})
    programme = activated(province, programme_body(point_id=point["id"]))
    entitlement = province.get(f"/programmes/{programme['id']}/entitlements").json()["items"][0]
    before = state(db, distribution)
    as_json = dict(province.headers, **{"Content-Type": "application/json"})
    url = distribution.url
    delivery = {"idempotency_key": "device-0001-key", "recipient_ref": str(uuid.uuid4()), "nik": "6213014107850003",
                "delivered_at": "2026-12-03T02:30:00+00:00", "village_code": PULAU_PATAI}
    cases = [
        ("malformed JSON", 400, "post", "/programmes", dict(data=b'{"name": "Sembako",', headers=as_json)),
        ("invalid UTF-8", 400, "post", "/programmes", dict(data=b'{"name": "\xff\xfe"}', headers=as_json)),
        ("JSON nested too deep", 400, "post", "/programmes",
         dict(data=b"[" * 100_000 + b"]" * 100_000, headers=as_json)),
        ("a JSON array", 422, "post", "/programmes", dict(data=json.dumps([programme_body()]), headers=as_json)),
        ("a body too large", 413, "post", "/programmes",
         dict(data=b'{"name": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}', headers=as_json)),
        ("no token", 401, "post", "/programmes", dict(json=programme_body())),
        ("a viewer creating", 403, "post", "/programmes",
         dict(json=programme_body(), headers=client(role="viewer").headers)),
        ("an unknown programme", 404, "get", f"/programmes/{UNKNOWN}", dict(headers=province.headers)),
        ("a programme id that is not a UUID", 404, "get", "/programmes/sembako", dict(headers=province.headers)),
        ("activating an unknown programme", 404, "post", f"/programmes/{UNKNOWN}/activate",
         dict(headers=province.headers)),
        ("activating an active programme", 409, "post", f"/programmes/{programme['id']}/activate",
         dict(headers=province.headers)),
        ("editing an active programme", 409, "put", f"/programmes/{programme['id']}",
         dict(json=programme_body(), headers=province.headers)),
        ("a page of 0", 422, "get", "/programmes?page=0", dict(headers=province.headers)),
        ("an unknown entitlement", 404, "get", f"/entitlements/{UNKNOWN}", dict(headers=province.headers)),
        ("a delivery with an invalid NIK", 422, "post", f"/entitlements/{entitlement['id']}/delivery",
         dict(json=dict(delivery, nik="6213019907850003"), headers=province.headers)),
        ("a delivery on 31 April", 422, "post", f"/entitlements/{entitlement['id']}/delivery",
         dict(json=dict(delivery, delivered_at="2026-04-31T02:30:00+00:00"), headers=province.headers)),
        ("a delivery in the future", 422, "post", f"/entitlements/{entitlement['id']}/delivery",
         dict(json=dict(delivery, delivered_at="2030-01-01T00:00:00+00:00"), headers=province.headers)),
        ("a delivery by someone not of the household", 422, "post", f"/entitlements/{entitlement['id']}/delivery",
         dict(json=delivery, headers=province.headers)),
        ("a delivery of an unknown entitlement", 404, "post", f"/entitlements/{UNKNOWN}/delivery",
         dict(json=delivery, headers=province.headers)),
        ("a delivery with latitude 91", 422, "post", f"/entitlements/{entitlement['id']}/delivery",
         dict(json=dict(delivery, latitude=91), headers=province.headers)),
        ("a photo hash that is not SHA-256", 422, "post", f"/entitlements/{entitlement['id']}/delivery",
         dict(json=dict(delivery, photo_sha256="abc"), headers=province.headers)),
        ("more rice allocated than held", 409, "post", f"/points/{point['id']}/moves",
         dict(json={"move": "allocated", "item": "beras", "unit": "kg", "quantity": "6"}, headers=province.headers)),
        ("a move in another unit", 422, "post", f"/points/{point['id']}/moves",
         dict(json={"move": "received", "item": "beras", "unit": "karung", "quantity": "6"}, headers=province.headers)),
        ("a delivery move by hand", 422, "post", f"/points/{point['id']}/moves",
         dict(json={"move": "delivered", "item": "beras", "unit": "kg", "quantity": "1"}, headers=province.headers)),
        ("a negative quantity", 422, "post", f"/points/{point['id']}/moves",
         dict(json={"move": "received", "item": "beras", "unit": "kg", "quantity": "-5"}, headers=province.headers)),
        ("an unknown point", 404, "post", f"/points/{UNKNOWN}/moves",
         dict(json={"move": "received", "item": "beras", "unit": "kg", "quantity": "5"}, headers=province.headers)),
        ("another agency's point", 403, "post", f"/points/{point['id']}/moves",
         dict(json={"move": "received", "item": "beras", "unit": "kg", "quantity": "5"},
              headers=client(agency=BALANGAN).headers)),
        ("a point in a district, not a village", 422, "post", "/points",
         dict(json={"name": "Gudang", "kind": "warehouse", "village_code": "62.13.01"}, headers=province.headers)),
    ]
    for label, status, method, path, kw in cases:
        assert_problem(getattr(requests, method)(url + path, timeout=60, **kw), status, label)
        assert state(db, distribution) == before, label
