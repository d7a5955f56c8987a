"""The service's own API: routing rules (read by all, set by the
province's admins, checked against the templates and the event's data), the
delivery log as each agency may see it, and bad input answered 4xx with
nothing changed."""
import uuid

import requests

from setiakawan_kit.testing import assert_problem, database_state, wait_for

from notifications_support import example, log_rows

TABLES = ("routing_rules", "staff_contacts", "subscriptions", "opt_outs", "messages")


def test_routing_rules_are_data_the_provinces_admins_edit(notifications, client, events_to, db, mailbox):
    admin = client()
    rules = {(r["event_type"], r["recipient"]): r for r in admin.get("/routing-rules").json()}
    assert rules[("household.verified", "head")]["channels"] == ["sms"]
    assert rules[("entitlement.issued", "head")]["channels"] == ["whatsapp", "sms"]
    district_admin = client(role="admin", regions=("62.13",), agency="Dinas Sosial Kabupaten Barito Timur",
                            kind="district")
    assert_problem(district_admin.put("/routing-rules/stock.low/agency_staff", {"channels": ["sms"]}), 403)
    for path, body in (("/routing-rules/stock.low/agency_staff", {"channels": ["fax"]}),
                       ("/routing-rules/household.verified/head", {"channels": ["email"]}),
                       ("/routing-rules/household.verified/head", {"channels": ["sms", "sms"]}),
                       ("/routing-rules/stock.low/head", {"channels": ["sms"]}),
                       ("/routing-rules/no.such/head", {"channels": ["sms"]}),
                       ("/routing-rules/stock.low/agency_staff", {"channels": ["email"], "template": "aid.delivered"}),
                       ("/routing-rules/stock.low/nobody", {"channels": ["email"]})):
        assert_problem(admin.put(path, body), 422, (path, body))
    # in English, and off: the province's low-stock mail goes out in English, and then not at all
    saved = admin.put("/routing-rules/stock.low/agency_staff", {"channels": ["email"], "language": "en"})
    assert saved.status_code == 200 and saved.json()["updated_by"] == "Dinas Sosial Provinsi Kalimantan Tengah"
    contact = admin.post("/contacts", {"name": "Gudang", "channel": "email", "address": "gudang@dinsos.test",
                                       "language": "en"})
    distribution = events_to(notifications, "distribution", agency="Dinas Sosial Provinsi Kalimantan Tengah")
    low = dict(example("stock.low"), agency="Dinas Sosial Provinsi Kalimantan Tengah")
    distribution.applied(distribution.send("stock.low", low, low["point_id"]))
    assert mailbox.wait_for(1)[0]["message"]["Subject"] == "Low stock: beras at Gudang Dinsos Tamiang Layang"
    assert admin.put("/routing-rules/stock.low/agency_staff", {"channels": ["email"], "enabled": False}).ok
    quiet = distribution.send("stock.low", low, low["point_id"])
    distribution.applied(quiet)
    assert log_rows(db, notifications, event_id=quiet.id) == [] and len(mailbox.messages) == 1
    assert admin.delete(f"/contacts/{contact.json()['id']}").status_code == 204
    assert admin.get("/contacts").json() == []


def test_the_log_shows_an_agency_its_own_messages_and_those_in_its_regions(notifications, client, events_to, db):
    province = client(role="admin", agency="Dinas Sosial Provinsi Kalimantan Tengah")
    assert province.post("/contacts", {"name": "Linjamsos", "channel": "email",
                                       "address": "linjamsos@dinsos.test"}).status_code == 201
    distribution = events_to(notifications, "distribution", agency="Dinas Sosial Provinsi Kalimantan Tengah")
    low = dict(example("stock.low"), agency="Dinas Sosial Provinsi Kalimantan Tengah")
    event = distribution.send("stock.low", low, low["point_id"])
    distribution.applied(event)
    wait_for(lambda: log_rows(db, notifications, event_id=event.id)[0]["status"] != "queued", what="an attempt")
    page = province.get("/messages", params={"event_type": "stock.low"}).json()
    item, = page["items"]
    assert (item["event_id"], item["channel"], item["recipient_kind"]) == (event.id, "email", "staff")
    assert "linjamsos@" not in str(page)
    assert province.get(f"/messages/{item['id']}").json()["id"] == item["id"]
    balangan = client(role="viewer", regions=("63.11",), agency="Dinas Sosial Kabupaten Balangan", kind="district")
    assert balangan.get("/messages").json()["items"] == []
    assert_problem(balangan.get(f"/messages/{item['id']}"), 404)
    assert_problem(province.get("/messages", params={"status": "lost"}), 422)
    assert_problem(province.get("/messages", params={"per_page": "0"}), 422)


def test_bad_input_is_a_4xx_problem_and_changes_nothing(notifications, client, db):
    admin = client()
    before = database_state(db(notifications.database), TABLES)
    url = notifications.url
    headers = dict(admin.headers, **{"Content-Type": "application/json"})
    for path in ("/contacts", "/subscriptions", "/opt-outs"):
        assert_problem(requests.post(url + path, data=b'{"name": ', headers=headers, timeout=30), 400, path)
        assert_problem(requests.post(url + path, data=b"[]", headers=headers, timeout=30), 422, path)
        assert_problem(requests.post(url + path, data=b"x" * (11 * 1024 * 1024), headers=headers, timeout=60),
                       413, path)
    assert_problem(admin.post("/opt-outs", {"person_ref": "not-a-uuid", "channels": ["sms"]}), 422)
    assert_problem(admin.post("/contacts", {"name": "x", "channel": "email", "address": "a@b.test",
                                            "region_codes": ["62.99"]}), 422)
    assert_problem(admin.post("/contacts", {"name": "x\u0000", "channel": "email", "address": "a@b.test"}), 422)
    assert_problem(admin.get(f"/messages/{uuid.uuid4()}"), 404)
    assert_problem(admin.get("/messages/not-a-uuid"), 404)
    assert_problem(admin.delete(f"/contacts/{uuid.uuid4()}"), 404)
    assert_problem(admin.delete(f"/subscriptions/{uuid.uuid4()}"), 404)
    assert_problem(requests.get(url + "/messages", timeout=30), 401)
    assert_problem(admin.put("/routing-rules/stock.low/agency_staff", {"channels": "email"}), 422)
    assert database_state(db(notifications.database), TABLES) == before
