"""Proof of delivery with the registry running beside the service: the
households come from the registry's own events, the NIK shown at the
handover is checked over RPC (and kept nowhere), a handover happens once
however many officers try at once, and stock never goes below zero."""
import threading
import uuid

import requests

from distribution_support import BARITO_TIMUR, PULAU_PATAI, programme_body
from setiakawan_kit.cli import installed_services
from setiakawan_kit.testing import wait_for

NAMES = ["Siti Aminah", "Rusmini", "Nurhayati", "Yuliana"]


def household(i):
    return {"kk_number": f"621301010720{i + 1:04d}",
            "address": {"street": f"Jl. Tjilik Riwut No. {i + 1}", "rt": "001", "rw": "002",
                        "village_code": PULAU_PATAI},
            "indicators": {"monthly_income": 900_000, "floor": "wood", "wall": "wood", "roof": "zinc",
                           "electricity": "pln_450", "water": "protected_well", "sanitation": "shared", "assets": []},
            "legal_basis": "public_duty",
            "members": [{"nik": nik(i), "name": NAMES[i], "birth_date": f"{1980 + i}-07-01", "sex": "F",
                         "relationship": "head"},
                        {"nik": child_nik(i), "name": f"Anak {NAMES[i]}", "birth_date": f"201{i}-03-15",
                         "sex": "M", "relationship": "child"}]}


def nik(i):
    return f"6213014107{80 + i:02d}{i + 1:04d}"


def child_nik(i):
    return f"62130115031{i}{i + 1:04d}"


def test_deliveries_check_the_nik_happen_once_and_never_take_stock_below_zero(distribution, make_database, run_service,
                                                                              token, client, events, db):
    info = {s.name: s for s in installed_services()}["registry"]
    registry_db = make_database(info.migrations, prefix="registry")
    registry = run_service("registry", info.module, registry_db, **info.test_config)
    district = {"Authorization": f"Bearer {token(role='operator', regions=('62.13',), kind='district', agency=BARITO_TIMUR)}"}
    officer = {"Authorization": f"Bearer {token(role='field_officer', regions=('62.13',), kind='district', agency=BARITO_TIMUR)}"}
    houses = []
    for i in range(4):
        made = requests.post(registry.url + "/households", json=household(i), headers=district, timeout=30)
        assert made.status_code == 201, made.text
        houses.append(made.json())
        verified = requests.post(f"{registry.url}/households/{made.json()['id']}/verification",
                                 json={"outcome": "verified"}, headers=officer, timeout=30)
        assert verified.status_code == 200, verified.text
    province = client()
    point = province.post("/points", {"name": "Gudang Dinsos Tamiang Layang", "kind": "warehouse",
                                      "village_code": PULAU_PATAI}).json()
    for item, unit, quantity in (("beras", "kg", "30"), ("minyak goreng", "l", "8"), ("gula pasir", "kg", "4")):
        moved = province.post(f"/points/{point['id']}/moves", {"move": "received", "item": item, "unit": unit,
                                                               "quantity": quantity, "low_threshold": "10"})
        assert moved.status_code == 200, moved.text
    draft = province.post("/programmes", programme_body(point_id=point["id"])).json()
    wait_for(lambda: province.post(f"/programmes/{draft['id']}/preview").json()["total"] == 4, timeout=30,
             what="the registry's households in the read model", services=[distribution, registry])
    programme = province.post(f"/programmes/{draft['id']}/activate").json()
    assert programme["issued"] == 4
    owed = {e["beneficiary_id"]: e for e in province.get(f"/programmes/{programme['id']}/entitlements").json()["items"]}

    def handover(i, who, key=None, shown=None, recipient=None):
        house = houses[i]
        return who.post(f"/entitlements/{owed[house['id']]['id']}/delivery", {
            "idempotency_key": key or str(uuid.uuid4()), "nik": shown or nik(i),
            "recipient_ref": recipient or house["members"][0]["person_ref"],
            "delivered_at": "2026-12-03T02:30:00+00:00", "village_code": PULAU_PATAI,
            "latitude": -2.0756, "longitude": 115.1871})

    field = client(role="field_officer")
    district_field = client(role="field_officer", agency=BARITO_TIMUR, kind="district", regions=("62.13",))
    # another person's NIK, a child as the recipient: refused, nothing recorded
    wrong = handover(0, field, shown=nik(1))
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "nik", wrong.text
    assert nik(1) not in wrong.text
    child = handover(0, field, shown=child_nik(0), recipient=houses[0]["members"][1]["person_ref"])
    assert child.status_code == 422 and child.json()["errors"][0]["field"] == "recipient_ref", child.text
    assert province.get(f"/entitlements/{owed[houses[0]['id']]['id']}").json()["status"] == "issued"

    # two officers of two agencies hand the same package over at once: once
    answers = [None, None]
    start = threading.Barrier(2)

    def race(slot, who):
        start.wait()
        answers[slot] = handover(0, who)

    threads = [threading.Thread(target=race, args=(n, who)) for n, who in enumerate((field, district_field))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    done = next(a for a in answers if a.status_code == 201).json()
    assert done["entitlement"]["status"] == "delivered" and "nik" not in done
    # a retry with the same key (a poor connection) answers the same delivery
    who = field if done["officer_agency"] != BARITO_TIMUR else district_field
    retried = handover(0, who, key=done["idempotency_key"])
    assert retried.status_code == 200 and retried.json()["id"] == done["id"]
    # the same key for another household's package is refused, and that package stays owed as it was
    before = province.get(f"/entitlements/{owed[houses[1]['id']]['id']}").json()
    reused = handover(1, who, key=done["idempotency_key"])
    assert reused.status_code == 409 and "another entitlement" in reused.json()["detail"], reused.text
    assert province.get(f"/entitlements/{owed[houses[1]['id']]['id']}").json() == before

    # three packages of 10 kg rice left for three households, at once: two go, one is refused
    answers = [None] * 3
    start = threading.Barrier(3)

    def deliver(slot):
        start.wait()
        answers[slot] = handover(slot + 1, field)

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [201, 201, 409], [a.text for a in answers]
    assert "beras" in next(a for a in answers if a.status_code == 409).text
    # the three NIK checks, asked at once (together in one call where they met), each in the registry's
    # access log under its own request's correlation id
    with db(registry_db).cursor() as cur:
        cur.execute("SELECT correlation_id FROM personal_data_access WHERE action = 'nik_belongs_to'")
        logged = [row[0] for row in cur.fetchall()]
    assert {a.headers["X-Correlation-ID"] for a in answers} <= set(logged), logged
    stock = {s["item"]: s for s in province.get(f"/points/{point['id']}").json()["stock"]}
    assert (stock["beras"]["on_hand"], stock["minyak goreng"]["on_hand"], stock["gula pasir"]["on_hand"]) == \
        ("0", "2", "1")
    wait_for(lambda: len([t for t, _ in events.all() if t == "aid.delivered"]) >= 3, timeout=30,
             what="three aid.delivered events")
    got = events.all()
    assert len([d for t, d in got if t == "aid.delivered"]) == 3
    assert [d["item"] for t, d in got if t == "stock.low"][:1] == ["beras"]
    report = province.get(f"/reports/programmes/{programme['id']}").json()
    assert (report["totals"]["planned"], report["totals"]["delivered"]) == (4, 3)
    assert report["stock"][0] == {"item": "beras", "unit": "kg", "on_hand": "0", "allocated": "0",
                                  "still_to_deliver": "10"}
    csv = province.get(f"/reports/programmes/{programme['id']}.csv")
    assert csv.status_code == 200 and PULAU_PATAI in csv.text
