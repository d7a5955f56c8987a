"""What the delivery log survives: a gateway outage (retried with backoff
until it comes back), the service killed between the gateway's answer and
its commit (sent again under the same idempotency key: taken once), and
quiet hours (held until the morning in the recipient's own zone)."""
from datetime import datetime, timedelta, timezone

from setiakawan_contract import event_types, make_event
from setiakawan_kit.db import Database
from setiakawan_kit.testing import wait_for
from setiakawan_notifications import enqueue
from setiakawan_notifications.rules.quiet_hours import QUIET_FROM, QUIET_UNTIL, WIB, WITA

from notifications_support import MUARA_NINIAN, PROVINCE, Client, entitlement, example, household, log_rows
from test_notifications_people import HEAD_PHONE, registered


def test_a_gateway_outage_is_retried_until_the_message_is_sent(registry, notifications, gateway, token, db):
    gateway.mode = "error"
    house = registered(registry, token)
    wait_for(lambda: any(r["status"] == "failed" and r["attempts"] >= 2
                         for r in log_rows(db, notifications, event_type="household.verified")),
             what="a failed attempt, retried", services=[notifications])
    assert gateway.taken == []
    gateway.mode = "ok"
    taken = gateway.wait_for(2)
    assert {m["to"] for m in taken} == {HEAD_PHONE}
    wait_for(lambda: log_rows(db, notifications, event_type="household.verified")[0]["status"] == "sent",
             what="the message sent")
    row, = log_rows(db, notifications, event_type="household.verified")
    # at least one attempt failed before one was taken (the attempt in flight when the gateway came back
    # may be the one that succeeds)
    assert row["attempts"] >= 2 and str(row["recipient_id"]) == house["id"]


def test_the_service_killed_mid_send_sends_each_message_once_after_a_restart(registry, start_notifications, gateway,
                                                                             token, db, events_to):
    service = start_notifications()
    house = registered(registry, token)
    gateway.wait_for(2)
    service.stop()
    # thirty messages made while no sender runs, all due at one moment (the end of a quiet spell), so they are
    # taken at once; at ten a second a batch takes seconds, and it is written only when all are answered
    distribution = events_to(service, "distribution", agency="Dinas Sosial Provinsi Kalimantan Tengah")
    sent = [distribution.send("entitlement.issued", {"entitlement": entitlement(house["id"])}, house["id"])
            for _ in range(30)]
    now = datetime.now(timezone.utc).astimezone(WIB)
    morning = now + timedelta(seconds=10)
    sender = start_notifications(database=service.database, per_second=10, batch_size=30, lease_s=5,
                                 quiet_from=(now - timedelta(hours=1)).strftime("%H:%M:%S"),
                                 quiet_until=morning.strftime("%H:%M:%S"))
    distribution.applied(*sent)
    assert {r["next_attempt_at"] for r in log_rows(db, service, event_type="entitlement.issued")} == {
        morning.replace(microsecond=0)}
    gateway.wait_for(2 + 10, timeout=60)
    sender.kill()
    answered = {m["key"].split(":")[0] for m in gateway.taken if "Sembako" in m["text"]}
    written = {str(r["id"]) for r in log_rows(db, service, event_type="entitlement.issued") if r["status"] == "sent"}
    unwritten = answered - written
    assert unwritten, "killed between the gateway's answers and their commit"
    start_notifications(database=service.database, per_second=200, lease_s=5)
    wait_for(lambda: all(r["status"] == "sent" for r in log_rows(db, service, event_type="entitlement.issued")),
             timeout=60, what="every message sent after the restart")
    issued = [m for m in gateway.taken if "Sembako" in m["text"]]
    assert len(issued) == 30 and len({m["key"] for m in issued}) == 30
    assert gateway.duplicates >= len(unwritten)  # sent again after the restart, under the same key: taken once


def test_quiet_hours_hold_a_message_until_the_morning_in_the_recipients_zone(registry, start_notifications, gateway,
                                                                           token, db, events_to, inbound_secret):
    # the night is made to end a few seconds from now in Balangan (Kalimantan Selatan, WITA)
    now = datetime.now(timezone.utc).astimezone(WITA)
    morning = (now + timedelta(seconds=8)).replace(microsecond=0)
    service = start_notifications(quiet_from=(now - timedelta(hours=1)).strftime("%H:%M:%S"),
                                  quiet_until=morning.strftime("%H:%M:%S"))
    house = registered(registry, token)  # in Barito Timur (WIB): also held, by its own clock
    training = events_to(service, "training", agency="Dinas Sosial Kabupaten Balangan")
    data = example("enrolment.confirmed")
    data["enrolment"].update(person_ref=house["members"][0]["person_ref"], village_code=MUARA_NINIAN)
    event = training.send("enrolment.confirmed", data, data["enrolment"]["enrolment_id"])
    training.applied(event)
    row, = log_rows(db, service, event_id=event.id)
    assert row["status"] == "queued" and row["next_attempt_at"].astimezone(WITA) == morning
    assert gateway.taken == []
    # a receipt for a message not yet sent (as when it outruns the sender's commit): told to come again
    early = gateway.callback(service.url + "/gateway/callbacks", inbound_secret,
                             {"type": "receipt", "id": "gw-early", "reference": str(row["id"]), "status": "delivered"})
    assert early.status_code == 409, early.text
    wait_for(lambda: any("Pelatihan menjahit" in m["text"] for m in gateway.taken), timeout=60,
             what="the message, in the morning", services=[service])
    told, = [m for m in gateway.taken if "Pelatihan menjahit" in m["text"]]
    assert datetime.fromtimestamp(told["at"], timezone.utc) >= morning


def test_an_urgent_rule_goes_out_in_quiet_hours(registry, start_notifications, gateway, token, db, events_to):
    service = start_notifications(quiet_from="00:00:00", quiet_until="23:59:59")
    house = registered(registry, token)
    admin = Client(service.url, token(role="admin", agency=PROVINCE))
    saved = admin.put("/routing-rules/enrolment.confirmed/person", {"channels": ["sms"], "urgent": True})
    assert saved.status_code == 200, saved.text
    training = events_to(service, "training", agency="Dinas Sosial Kabupaten Balangan")
    data = example("enrolment.confirmed")
    data["enrolment"].update(person_ref=house["members"][0]["person_ref"])
    training.applied(training.send("enrolment.confirmed", data, data["enrolment"]["enrolment_id"]))
    told = gateway.wait_for(1)[0]
    assert (told["channel"], told["to"]) == ("sms", HEAD_PHONE)
    assert len(log_rows(db, service, event_type="household.verified")) == 1  # held: not urgent
    assert log_rows(db, service, event_type="household.verified")[0]["status"] == "queued"


def test_the_night_ends_at_six_in_the_recipients_own_zone(notifications, db, events_to):
    """The default quiet hours, 21:00 to 06:00, through the use case on the
    service's database: an event at 23:00 WITA is held until 06:00 WITA."""
    events = events_to(notifications, "registry")
    snapshot = household(village=MUARA_NINIAN)
    late = datetime(2026, 12, 4, 23, 0, tzinfo=WITA)
    event = make_event(event_types.get("registry", "household.verified"), snapshot["household_id"],
                       dict(example("household.verified"), household=snapshot), service="registry",
                       agency=events.agency)
    dsn = db(notifications.database).dsn
    database = Database(dsn, "notifications", size=1)
    try:
        with database.transaction() as uow:
            assert enqueue.from_events(uow, [event], (QUIET_FROM, QUIET_UNTIL), now=late) == 1
    finally:
        database.close()
    row, = log_rows(db, notifications, event_id=event.id)
    assert row["next_attempt_at"] == datetime(2026, 12, 5, 6, 0, tzinfo=WITA)
