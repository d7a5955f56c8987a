"""Partner webhooks: a subscription made over the API receives the events
it asked for in its regions, each signed so the partner's receiver
verifies it with the ``standardwebhooks`` package (a tampered or replayed
one is rejected); a receiver that keeps failing gets its subscription
suspended and its agency told by email; bad subscriptions are refused."""
import json
import uuid

import requests

from setiakawan_kit.testing import assert_problem, wait_for

from notifications_support import BALANGAN, MUARA_NINIAN, PULAU_PATAI, example, household, log_rows

PARTNER = "Yayasan Peduli Kalimantan"


def partner(client, regions=("62.13",)):
    return client(role="admin", regions=regions, agency=PARTNER, kind="ngo")


def subscribe(admin, url, event_types=("household.verified", "entitlement.issued"), regions=("62.13",)):
    made = admin.post("/subscriptions", {"url": url, "event_types": list(event_types), "region_codes": list(regions)})
    assert made.status_code == 201, made.text
    return made.json()


def test_a_partner_receives_signed_events_of_its_types_and_regions_once(notifications, client, receivers, events_to,
                                                                       db):
    admin = partner(client)
    receiver = receivers("whsec_" + "A" * 32)  # until the subscription's own secret is known
    subscription = subscribe(admin, receiver.url, event_types=["household.verified"])
    receiver.secret = subscription["secret"]
    assert subscription["secret"].startswith("whsec_") and subscription["status"] == "active"
    assert "secret" not in admin.get(f"/subscriptions/{subscription['id']}").json()
    registry = events_to(notifications, "registry")
    inside = household(village=PULAU_PATAI)
    outside = household(village=MUARA_NINIAN)
    sent = [registry.send("household.verified", dict(example("household.verified"), household=h), h["household_id"])
            for h in (outside, inside)]
    sent.append(registry.send("household.registered", {"household": inside}, inside["household_id"]))
    registry.applied(*sent)
    webhook, = receiver.wait_for(1)
    event = webhook["body"]
    assert (event["type"], event["source"], event["id"]) == ("household.verified", "/setiakawan/registry", sent[1].id)
    assert event["data"]["household"]["household_id"] == inside["household_id"]
    assert webhook["headers"]["webhook-signature"].startswith("v1,")
    assert receiver.rejected == []

    # tampered with, or sent again: the partner's verification refuses it, or its id was seen
    raw, headers = webhook["raw"], webhook["headers"]
    tampered = raw.replace(inside["household_id"].encode(), outside["household_id"].encode())
    assert receiver.post(receiver.url, tampered, headers).status_code == 401
    stale = dict(headers, **{"webhook-timestamp": str(int(headers["webhook-timestamp"]) - 600)})
    assert receiver.post(receiver.url, raw, stale).status_code == 401
    receiver.post(receiver.url, raw, headers)
    assert receiver.replays == 1 and len(receiver.accepted) == 1
    # the outcome is written after the receiver's answer: read the row once it is
    row, = wait_for(lambda: [r for r in log_rows(db, notifications, recipient_kind="partner")
                             if r["status"] == "sent"], what="the webhook's row written")
    assert (row["event_type"], row["channel"], row["masked_address"]) == ("household.verified", "webhook",
                                                                           "127.0.0.1")


def test_a_failing_receiver_is_suspended_and_its_agency_told(notifications, client, receivers, events_to, mailbox,
                                                            published):
    admin = partner(client)
    contact = admin.post("/contacts", {"name": "Admin Yayasan", "channel": "email", "address": "it@peduli.or.id"})
    assert contact.status_code == 201, contact.text
    receiver = receivers("whsec_" + "A" * 32)
    receiver.status = 500
    made = subscribe(admin, receiver.url)
    receiver.secret = made["secret"]
    registry = events_to(notifications, "registry")
    for _ in range(2):
        house = household()
        registry.send("household.verified", dict(example("household.verified"), household=house),
                      house["household_id"])
    wait_for(lambda: admin.get(f"/subscriptions/{made['id']}").json()["status"] == "suspended", timeout=60,
             what="the subscription suspended", services=[notifications])
    told = mailbox.wait_for(1)[0]
    assert told["to"] == ["it@peduli.or.id"] and "dihentikan sementara" in told["message"]["Subject"]
    assert "127.0.0.1" in told["message"].get_content()
    suspended = wait_for(lambda: [d for t, d in published.all() if t == "subscription.suspended"], timeout=30,
                         what="subscription.suspended published", services=[notifications])
    assert suspended and suspended[0]["subscription_id"] == made["id"] and suspended[0]["failures"] == 4
    resumed = admin.post(f"/subscriptions/{made['id']}/resume")
    assert resumed.status_code == 200 and resumed.json()["status"] == "active"
    assert_problem(admin.post(f"/subscriptions/{made['id']}/resume"), 409)


def test_bad_subscriptions_are_refused_and_change_nothing(notifications, client, db):
    admin = partner(client)
    for body, status in (({"url": "http://127.0.0.1:8080/hook"}, 422),
                         ({"url": "ftp://127.0.0.1/x", "event_types": ["household.verified"], "region_codes": ["62.13"]}, 422),
                         ({"url": "http://127.0.0.1/x", "event_types": ["no.such"], "region_codes": ["62.13"]}, 422),
                         ({"url": "http://127.0.0.1/x", "event_types": ["household.verified"], "region_codes": ["99"]}, 422),
                         ({"url": "http://example.org/x", "event_types": ["household.verified"],
                           "region_codes": ["62.13"]}, 422),  # plain HTTP beyond loopback
                         ({"url": "http://127.0.0.1/x", "event_types": ["household.verified"],
                           "region_codes": ["63.11"]}, 403)):  # outside the agency's regions
        assert_problem(admin.post("/subscriptions", body), status, body)
    assert_problem(requests.post(admin.url + "/subscriptions", data=b"{not json", timeout=30,
                                 headers=dict(admin.headers, **{"Content-Type": "application/json"})), 400)
    viewer = client(role="viewer", regions=("62.13",), agency=PARTNER, kind="ngo")
    assert_problem(viewer.post("/subscriptions", {"url": "http://127.0.0.1/x", "event_types": ["household.verified"],
                                                  "region_codes": ["62.13"]}), 403)
    assert_problem(admin.get(f"/subscriptions/{uuid.uuid4()}"), 404)
    assert admin.get("/subscriptions").json() == []


def test_in_production_only_https_to_public_addresses_is_accepted(start_notifications, token):
    from notifications_support import Client
    service = start_notifications(env={"SETIAKAWAN_ENV": "production"})
    admin = Client(service.url, token(role="admin", regions=("62",), agency=PARTNER, kind="ngo"))
    for url in ("https://10.1.2.3/hook", "https://169.254.169.254/latest/meta-data", "https://localhost/hook",
                "https://[::1]/hook", "https://192.168.1.10/hook", "http://127.0.0.1/hook",
                "https://no-such-host.invalid/hook"):
        refused = assert_problem(admin.post("/subscriptions", {"url": url, "event_types": ["household.verified"],
                                                               "region_codes": ["62"]}), 422, url)
        assert refused["errors"][0]["field"] == "url", refused
    assert json.loads(json.dumps(admin.get("/subscriptions").json())) == []


def test_staff_learn_of_low_stock_and_of_a_benefit_another_agency_blocked(notifications, client, events_to, mailbox,
                                                                          db):
    province = client(role="admin", agency="Dinas Sosial Provinsi Kalimantan Tengah")
    district = client(role="admin", regions=("62.13",), agency="Dinas Sosial Kabupaten Barito Timur",
                      kind="district")
    for admin, address, regions in ((province, "linjamsos@dinsos.kalteng.go.id", []),
                                    (district, "gudang@dinsos.baritotimur.go.id", ["62.13"])):
        made = admin.post("/contacts", {"name": "Bidang Linjamsos", "channel": "email", "address": address,
                                        "region_codes": regions})
        assert made.status_code == 201, made.text
    assert_problem(district.post("/contacts", {"name": "x", "channel": "email", "address": "not-an-address"}), 422)
    assert_problem(district.post("/contacts", {"name": "x", "channel": "sms", "address": "12"}), 422)
    distribution = events_to(notifications, "distribution", agency="Dinas Sosial Kabupaten Barito Timur")
    low = distribution.send("stock.low", example("stock.low"), example("stock.low")["point_id"])
    blocked = distribution.send("entitlement.blocked", example("entitlement.blocked"),
                                example("entitlement.blocked")["entitlement"]["beneficiary_id"])
    distribution.applied(low, blocked)
    mails = mailbox.wait_for(3)
    by_to = sorted((m["to"][0], m["message"]["Subject"]) for m in mails)
    assert by_to == [
        ("gudang@dinsos.baritotimur.go.id", "Bantuan tertahan: Sembako Desember Barito Timur"),
        ("gudang@dinsos.baritotimur.go.id", "Stok menipis: beras di Gudang Dinsos Tamiang Layang"),
        ("linjamsos@dinsos.kalteng.go.id", "Bantuan tertahan: Sembako Desember Barito Timur"),
    ]
    assert all(m["message"]["Message-ID"].endswith("@setiakawan>") for m in mails)
    rows = wait_for(lambda: (found := log_rows(db, notifications, channel="email")) and
                    all(r["status"] == "sent" for r in found) and found, what="the log written")
    assert sorted(r["masked_address"][0] for r in rows) == ["g", "g", "l"]
    assert all("*" in r["masked_address"] and "gudang@" not in r["masked_address"] for r in rows)
    assert BALANGAN not in {r["agency"] for r in rows}
