"""Opt-outs and the gateway's callbacks: a person opted out over the API,
or by replying STOP to an SMS, gets nothing more on that channel (another
channel of the rule still works); the gateway's delivery receipts mark
messages delivered; a callback whose signature does not verify is refused."""
import requests

from setiakawan_kit.testing import assert_problem, wait_for

from notifications_support import entitlement, log_rows
from test_notifications_people import HEAD_PHONE, registered


def test_a_person_who_opted_out_gets_nothing_more_on_that_channel(registry, notifications, gateway, token, client,
                                                                  events_to, db, inbound_secret):
    house = registered(registry, token)
    gateway.wait_for(2)
    head = house["members"][0]["person_ref"]
    field = client(role="field_officer", regions=("62.13",), agency="Dinas Sosial Kabupaten Barito Timur",
                   kind="district")
    opted = field.post("/opt-outs", {"person_ref": head, "channels": ["whatsapp"]})
    assert opted.status_code == 200 and [c["channel"] for c in opted.json()["channels"]] == ["whatsapp"], opted.text
    assert_problem(field.post("/opt-outs", {"person_ref": head, "channels": ["email"]}), 422)
    assert_problem(client(role="viewer").post("/opt-outs", {"person_ref": head, "channels": ["sms"]}), 403)

    # the rule says WhatsApp, then SMS: WhatsApp is skipped
    distribution = events_to(notifications, "distribution", agency="Dinas Sosial Provinsi Kalimantan Tengah")
    first = distribution.send("entitlement.issued", {"entitlement": entitlement(house["id"])}, house["id"])
    assert gateway.wait_for(3)[2]["channel"] == "sms"

    # STOP by SMS reply, through the gateway's signed callback: SMS is closed too, so nothing goes
    answer = gateway.callback(notifications.url + "/gateway/callbacks", inbound_secret,
                              {"type": "reply", "channel": "sms", "from": "0812 3456 7890", "text": "stop"})
    assert answer.status_code == 200 and answer.json() == {"outcome": "opted out"}, answer.text
    second = distribution.send("entitlement.issued", {"entitlement": entitlement(house["id"])}, house["id"])
    distribution.applied(first, second)
    wait_for(lambda: [r["status"] for r in log_rows(db, notifications, event_id=second.id)] == ["dead"],
             what="the message given up", services=[notifications])
    row, = log_rows(db, notifications, event_id=second.id)
    assert row["answer"] == "opted out" and len(gateway.taken) == 3
    with db(notifications.database).cursor() as cur:  # the number is kept only as a keyed hash
        cur.execute("SELECT count(*) FROM opt_outs WHERE address_hash IS NOT NULL AND address_hash NOT LIKE '%%81234%%'")
        assert cur.fetchone()[0] == 1

    # opting back in to WhatsApp over the API: the next one goes by WhatsApp
    back = field.delete(f"/opt-outs/{head}/whatsapp")
    assert back.status_code == 200 and back.json()["channels"] == [], back.text
    assert_problem(field.delete(f"/opt-outs/{head}/whatsapp"), 404)
    distribution.send("entitlement.issued", {"entitlement": entitlement(house["id"])}, house["id"])
    assert (gateway.wait_for(4)[3]["channel"], gateway.taken[3]["to"]) == ("whatsapp", HEAD_PHONE)


def test_receipts_mark_messages_delivered_and_unsigned_callbacks_are_refused(registry, notifications, gateway,
                                                                             token, db, inbound_secret):
    registered(registry, token)
    taken = gateway.wait_for(2)
    wait_for(lambda: all(r["status"] == "sent" for r in log_rows(db, notifications)), what="the log")
    url = notifications.url + "/gateway/callbacks"
    receipt = {"type": "receipt", "id": taken[1]["id"], "status": "delivered"}
    assert gateway.callback(url, inbound_secret, receipt).json() == {"outcome": "recorded"}
    statuses = {r["gateway_id"]: r["status"] for r in log_rows(db, notifications)}
    assert statuses == {taken[0]["id"]: "sent", taken[1]["id"]: "delivered"}
    assert gateway.callback(url, inbound_secret, dict(receipt, id="gw-unknown")).json() == {
        "outcome": "unknown message"}
    wrong = "whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
    before = log_rows(db, notifications)
    assert_problem(gateway.callback(url, wrong, {"type": "receipt", "id": taken[0]["id"], "status": "failed"}), 401)
    assert_problem(requests.post(url, json=receipt, timeout=30), 401)
    assert_problem(gateway.callback(url, inbound_secret, {"type": "other"}), 422)
    assert log_rows(db, notifications) == before
