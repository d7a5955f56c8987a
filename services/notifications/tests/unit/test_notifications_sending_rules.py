"""The sender's rules: whom an event concerns, what an answer means,
when a failed message is tried again, how fast a channel may go, what the
log keeps of an address, and a quiet window set by the operator."""
from datetime import datetime, time, timedelta, timezone

import psycopg2
import psycopg2.errors
import pytest

from setiakawan_contract import event_types
from setiakawan_notifications.rules import addresses, answers, backoff, routing
from setiakawan_notifications.rules.quiet_hours import WIB, WITA, send_at
from setiakawan_notifications.rules.rate import Bucket

EXAMPLES = {t.name: t.example for t in event_types}


def test_the_head_of_a_household_is_found_in_its_snapshot_or_by_the_entitlements_beneficiary():
    verified = EXAMPLES["household.verified"]
    assert routing.head_of(verified["household"]) == "0b6f4a8e-2f3c-4a51-9f0d-5d1c7f9e2a10"
    assert routing.head_of({"members": [{"person_ref": "x", "relationship": "child"}]}) is None
    assert routing.household_of("household.verified", verified) == verified["household"]["household_id"]
    issued = EXAMPLES["entitlement.issued"]
    assert routing.household_of("entitlement.issued", issued) == issued["entitlement"]["beneficiary_id"]
    grant = {"entitlement": dict(issued["entitlement"], beneficiary_kind="group")}
    assert routing.household_of("entitlement.issued", grant) is None
    assert routing.person_of("enrolment.waitlisted", EXAMPLES["enrolment.waitlisted"]) == \
        EXAMPLES["enrolment.waitlisted"]["enrolment"]["person_ref"]
    assert routing.person_of("stock.low", EXAMPLES["stock.low"]) is None


def test_both_agencies_of_a_blocked_benefit_learn_of_it():
    assert routing.agencies_of("entitlement.blocked", EXAMPLES["entitlement.blocked"]) == [
        "Dinas Sosial Provinsi Kalimantan Tengah", "Dinas Sosial Kabupaten Barito Timur"]
    assert routing.agencies_of("stock.low", EXAMPLES["stock.low"]) == ["Dinas Sosial Kabupaten Barito Timur"]
    assert routing.agencies_of("course.cancelled", EXAMPLES["course.cancelled"]) == ["Dinas Sosial Kabupaten Balangan"]


@pytest.mark.parametrize("event_type", [t for types in routing.CONSUMED.values() for t in types])
def test_every_consumed_event_type_says_where_it_lies_and_whom_it_concerns(event_type):
    data = EXAMPLES[event_type]
    assert routing.regions_of(event_type, data) and routing.agencies_of(event_type, data)


def test_region_filters_take_a_wider_area_and_a_narrower_one():
    assert routing.in_regions(["62.13.01.2003"], ["62.13"])
    assert not routing.in_regions(["63.11.01.2001"], ["62.13"])
    assert routing.in_regions(["62"], ["62.13"])  # a province-wide programme concerns a regency's staff
    assert routing.in_regions(["62.13.01.2003"], [])


def test_a_rules_channels_are_checked():
    assert routing.check_channels("head", ["whatsapp", "sms"]) is None
    assert routing.check_channels("agency_staff", ["email"]) is None
    assert "phone number" in routing.check_channels("person", ["email"])
    assert routing.check_channels("head", ["sms", "sms"])
    assert routing.check_channels("head", [])


@pytest.mark.parametrize("status, body, kind", [
    (200, {"id": "gw-1", "status": "accepted"}, answers.SENT),
    (202, {"id": "gw-1"}, answers.SENT),
    (200, {"status": "accepted"}, answers.RETRY),  # taken without an id is not taken
    (422, {"error": "not_on_whatsapp"}, answers.NEXT_CHANNEL),
    (429, {"error": "rate_limited", "retry_after": "3"}, answers.RETRY),
    (503, {"error": "unavailable"}, answers.RETRY),
    (500, "not json", answers.RETRY),
    (400, {"error": "invalid_number"}, answers.REFUSED),
    (401, {"error": "unauthorized"}, answers.RETRY),  # our token, not the message: tried again
    (404, "", answers.RETRY),
])
def test_what_the_gateways_answer_means(status, body, kind):
    outcome = answers.from_gateway(status, body)
    assert outcome.kind == kind and outcome.answer.startswith(str(status))


def test_a_rate_limited_answer_says_when_to_come_back():
    assert answers.from_gateway(429, {"error": "rate_limited", "retry_after": "3"}).retry_after_s == 3.0
    assert answers.from_gateway(429, {"retry_after": "soon"}).retry_after_s is None
    assert answers.from_gateway(200, {"id": "x" * 500}).gateway_id == "x" * 200


def test_a_partners_receiver_takes_any_2xx_and_gone_ends_it():
    assert answers.from_partner(204).kind == answers.SENT
    assert answers.from_partner(410, "Gone").kind == answers.REFUSED
    assert answers.from_partner(500, "Internal Server Error").answer == "500 Internal Server Error"
    assert answers.from_partner(301).kind == answers.RETRY  # no redirect is followed


def test_retries_back_off_exponentially_up_to_a_cap_and_honour_retry_after():
    now = datetime(2026, 12, 4, 3, 0, tzinfo=timezone.utc)
    waits = [(backoff.next_attempt(now, n, 30, 3600) - now).total_seconds() for n in range(1, 10)]
    assert waits[:5] == [30, 60, 120, 240, 480] and waits[-1] == 3600
    assert (backoff.next_attempt(now, 1, 30, 3600, jitter=1.0) - now).total_seconds() == 45
    assert (backoff.next_attempt(now, 1, 30, 3600, retry_after_s=300) - now).total_seconds() == 300
    assert (backoff.next_attempt(now, 1, 30, 600, retry_after_s=10 ** 6) - now).total_seconds() == 600
    assert backoff.given_up(8, 8) and not backoff.given_up(7, 8)


def test_a_bucket_lets_a_seconds_worth_through_then_spaces_them():
    clock = [0.0]
    bucket = Bucket(10, lambda: clock[0])
    assert [bucket.wait() for _ in range(10)] == [0.0] * 10
    assert bucket.wait() == pytest.approx(0.1) and bucket.wait() == pytest.approx(0.2)
    clock[0] = 10.0
    assert bucket.wait() == 0.0


def test_the_log_keeps_a_mask_and_opt_outs_a_keyed_hash_of_one_number_however_written():
    key = b"k"
    assert addresses.address_hash(key, "sms", "0812-3456-7890") == addresses.address_hash(key, "sms", "+6281234567890")
    assert addresses.address_hash(key, "sms", "081234567890") != addresses.address_hash(b"other", "sms", "081234567890")
    assert "81234567890" not in addresses.address_hash(key, "sms", "081234567890")
    assert addresses.shown("sms", "+6281234567890") == "0812****7890"
    assert addresses.shown("webhook", "https://hooks.peduli.or.id/setiakawan?x=1") == "hooks.peduli.or.id"
    assert "@" in addresses.shown("email", "linjamsos@dinsos.kalteng.go.id")


def test_an_operators_quiet_window_holds_messages_to_its_end_and_an_empty_one_holds_nothing():
    now = datetime(2026, 12, 4, 14, 0, tzinfo=WITA)
    assert send_at(now, "63.11.01.2001", quiet=(time(13, 0), time(15, 30))) == now.replace(hour=15, minute=30)
    assert send_at(now, "63.11.01.2001", quiet=(time(0, 0), time(0, 0))) == now
    # 14:00 WITA is 13:00 WIB: inside 12:30-13:30 in Barito Timur
    assert send_at(now, "62.13.01.2003", quiet=(time(12, 30), time(13, 30))) == \
        datetime(2026, 12, 4, 13, 30, tzinfo=WIB)
    assert send_at(now + timedelta(hours=9), "63.11.01.2001") == datetime(2026, 12, 5, 6, 0, tzinfo=WITA)


@pytest.mark.parametrize("address", ["64:ff9b::a9fe:a9fe", "64:ff9b:1::a00:1", "2002:a9fe:a9fe::1", "::a9fe:a9fe",
                                     "::ffff:10.0.0.1", "2001:0:4136:e378:8000:63bf:3fff:fdd2"])
def test_an_ipv6_address_carrying_a_private_ipv4_one_is_refused_in_production(address):
    from setiakawan_notifications.rules.destinations import refused
    assert "not public" in refused("https://hooks.example.org/x", [address], production=True)


def test_plain_http_to_loopback_works_in_development_over_ipv4_and_ipv6():
    from setiakawan_notifications.rules.destinations import refused
    assert refused("http://localhost:8080/x", ["127.0.0.1", "::1"], production=False) is None


def test_a_rate_shared_by_instances_is_taken_in_blocks_and_a_database_outage_leaves_the_local_pace():
    from setiakawan_notifications.channels.limits import RateLimit

    taken = []

    def take(channel, count, per_second):
        taken.append((channel, count, per_second))
        return 0.0

    limit = RateLimit("sms", 1000, take)  # blocks of a tenth of a second's sends: 100
    for _ in range(250):
        limit.wait()
    assert taken == [("sms", 100, 1000.0)] * 3

    def down(channel, count, per_second):
        raise psycopg2.OperationalError("could not connect to server: Connection refused")

    alone = RateLimit("sms", 1000, down)
    for _ in range(5):
        alone.wait()  # paced by the process's own bucket, not failed

    def broken(channel, count, per_second):
        raise psycopg2.errors.UndefinedColumn("column \"sends\" does not exist")

    with pytest.raises(psycopg2.errors.UndefinedColumn):  # a fault of its own is not paced through
        RateLimit("sms", 1000, broken).wait()
