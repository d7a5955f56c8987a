"""Messages to people, with the registry beside the service: the phone
number is asked for at send time and kept nowhere, the household's head
gets one message per event however often the event comes, and WhatsApp
falls back to SMS for a number that is not on WhatsApp."""
import uuid

import requests

from setiakawan_kit.testing import wait_for

from notifications_support import BARITO_TIMUR, PULAU_PATAI, entitlement, example, log_rows

HEAD_PHONE = "+6281234567890"


def registered(registry, token):
    """A household registered and verified in the registry; returns it."""
    district = {"Authorization": f"Bearer {token(role='operator', regions=('62.13',), kind='district', agency=BARITO_TIMUR)}"}
    officer = {"Authorization": f"Bearer {token(role='field_officer', regions=('62.13',), kind='district', agency=BARITO_TIMUR)}"}
    body = {"kk_number": "6213010107200001",
            "address": {"street": "Jl. Tjilik Riwut No. 5", "rt": "001", "rw": "002", "village_code": PULAU_PATAI},
            "indicators": {"monthly_income": 900_000, "floor": "wood", "wall": "wood", "roof": "zinc",
                           "electricity": "pln_450", "water": "protected_well", "sanitation": "shared", "assets": []},
            "legal_basis": "public_duty",
            "members": [{"nik": "6213014107850003", "name": "Siti Aminah", "birth_date": "1985-07-01", "sex": "F",
                         "relationship": "head", "phone": "0812-3456-7890"},
                        {"nik": "6213011503100002", "name": "Budi Santoso", "birth_date": "2010-03-15", "sex": "M",
                         "relationship": "child"}]}
    made = requests.post(registry.url + "/households", json=body, headers=district, timeout=30)
    assert made.status_code == 201, made.text
    verified = requests.post(f"{registry.url}/households/{made.json()['id']}/verification",
                             json={"outcome": "verified"}, headers=officer, timeout=30)
    assert verified.status_code == 200, verified.text
    return made.json()


def test_a_verified_household_gets_one_sms_to_its_head_in_bahasa_indonesia(registry, notifications, gateway, token,
                                                                          db, published):
    house = registered(registry, token)
    taken = gateway.wait_for(2)  # registered, then verified
    assert {m["channel"] for m in taken} == {"sms"} and {m["to"] for m in taken} == {HEAD_PHONE}
    verified = [m for m in taken if "diverifikasi" in m["text"]]
    assert len(verified) == 1, taken
    assert "Desa Pulau Patai" in verified[0]["text"] and BARITO_TIMUR in verified[0]["text"]
    assert "6213014107850003" not in verified[0]["text"] and "Siti Aminah" not in verified[0]["text"]
    wait_for(lambda: [r["status"] for r in log_rows(db, notifications)] == ["sent", "sent"],
             what="both written down as sent")
    rows = log_rows(db, notifications, event_type="household.verified")
    assert [(r["status"], r["channel"], r["recipient_kind"], str(r["recipient_id"]), r["masked_address"])
            for r in rows] == [("sent", "sms", "household", house["id"], "0812****7890")]
    # the number is kept nowhere: not in the log, not in any table of the service
    with db(notifications.database).cursor() as cur:
        cur.execute("SELECT count(*) FROM messages m WHERE m::text LIKE '%81234567890%'")
        assert cur.fetchone()[0] == 0
    sent = [d for t, d in published.wait_for(2) if t == "message.sent"]
    assert {d["event_type"] for d in sent} == {"household.registered", "household.verified"}
    assert all(d["recipient_id"] == house["id"] and "phone" not in d for d in sent)


def test_a_sembako_entitlement_tells_the_head_what_where_and_when_once(registry, notifications, gateway, token, db,
                                                                     events_to):
    house = registered(registry, token)
    gateway.wait_for(2)
    gateway.not_on_whatsapp.add(HEAD_PHONE)
    distribution = events_to(notifications, "distribution", agency="Dinas Sosial Provinsi Kalimantan Tengah")
    owed = entitlement(house["id"])
    event = distribution.send("entitlement.issued", {"entitlement": owed}, house["id"])
    told = gateway.wait_for(3)[2]
    # the rule says WhatsApp first; the gateway answers that the number is not on WhatsApp: SMS
    assert (told["channel"], told["to"]) == ("sms", HEAD_PHONE)
    assert "Sembako Desember Barito Timur" in told["text"]
    assert "10 kg beras, 2 l minyak goreng, 1 kg gula pasir" in told["text"]  # what
    assert "Ambil di Desa Pulau Patai" in told["text"]  # where
    assert "antara 1 Desember 2026 dan 31 Desember 2026" in told["text"]  # when
    # the same event again (redelivered), then another programme's: only the other one is sent
    distribution.send("entitlement.issued", {"entitlement": owed}, house["id"], event_id=event.id)
    other = distribution.send("entitlement.issued", {"entitlement": entitlement(
        house["id"], programme_name="Bantuan Pangan Desa Pulau Patai")}, house["id"])
    assert "Bantuan Pangan Desa Pulau Patai" in gateway.wait_for(4)[3]["text"]
    distribution.applied(event, other)
    assert sum("Sembako Desember Barito Timur" in m["text"] for m in gateway.taken) == 1
    wait_for(lambda: log_rows(db, notifications, event_id=event.id)[0]["status"] == "sent", what="written down")
    row, = log_rows(db, notifications, event_id=event.id)
    assert (row["status"], row["channel"], row["channels"], row["attempts"]) == ("sent", "sms", ["whatsapp", "sms"], 1)
    assert row["answer"].startswith("200")


def test_a_person_with_no_phone_or_unknown_to_the_registry_gets_a_failed_message(registry, notifications, gateway,
                                                                                  events_to, db, published):
    training = events_to(notifications, "training", agency="Dinas Sosial Kabupaten Balangan")
    stranger = str(uuid.uuid4())
    data = example("enrolment.confirmed")
    data["enrolment"] = dict(data["enrolment"], person_ref=stranger, enrolment_id=str(uuid.uuid4()))
    event = training.send("enrolment.confirmed", data, data["enrolment"]["enrolment_id"])
    training.applied(event)
    wait_for(lambda: [r["status"] for r in log_rows(db, notifications, event_id=event.id)] == ["dead"],
             what="the message given up", services=[notifications])
    failed = [d for t, d in published.wait_for(1) if t == "message.failed"]
    assert failed and failed[0]["recipient_id"] == stranger and failed[0]["reason"] == "no contact details"
    assert gateway.requests == 0
