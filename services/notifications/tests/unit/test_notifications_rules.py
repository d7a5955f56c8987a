"""The notifications service's rules: quiet hours in the recipient's own
time zone, where a webhook may point, Standard Webhooks signatures (checked
with the specification's library, as a partner checks them), and what the
delivery log keeps of an address."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from setiakawan_notifications.rules import destinations, masking, quiet_hours, signing
from setiakawan_notifications.rules.quiet_hours import WIB, WIT, WITA

BALANGAN_VILLAGE = "63.11.01.2001"  # Kalimantan Selatan: WITA
BARITO_TIMUR_VILLAGE = "62.13.01.2003"  # Kalimantan Tengah: WIB
JAYAPURA = "91.71"


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize("code, zone", [(BALANGAN_VILLAGE, WITA), (BARITO_TIMUR_VILLAGE, WIB), ("64.02", WITA),
                                        ("65", WITA), ("51.71", WITA), ("31.71", WIB), ("11", WIB),
                                        (JAYAPURA, WIT), ("96.01", WIT), ("81.01", WIT)])
def test_the_zone_follows_the_province(code, zone):
    assert quiet_hours.zone_of(code) is zone


def test_a_message_at_night_waits_for_six_in_the_recipients_own_zone():
    late = utc(2026, 12, 3, 14, 30)  # 22:30 WITA, 21:30 WIB, 23:30 WIT
    held = quiet_hours.send_at(late, BALANGAN_VILLAGE)
    assert held == datetime(2026, 12, 4, 6, 0, tzinfo=WITA) and held.tzinfo is WITA
    assert held.astimezone(timezone.utc) == utc(2026, 12, 3, 22, 0)
    assert quiet_hours.send_at(late, BARITO_TIMUR_VILLAGE) == datetime(2026, 12, 4, 6, 0, tzinfo=WIB)
    early = utc(2026, 12, 3, 20, 59)  # 04:59 WITA the next day
    assert quiet_hours.send_at(early, BALANGAN_VILLAGE) == datetime(2026, 12, 4, 6, 0, tzinfo=WITA)


@pytest.mark.parametrize("local, held", [((20, 59), False), ((21, 0), True), ((23, 59), True), ((0, 0), True),
                                         ((5, 59), True), ((6, 0), False), ((12, 0), False)])
def test_the_quiet_hours_run_from_nine_in_the_evening_to_six(local, held):
    now = datetime(2026, 12, 3, *local, tzinfo=WITA)
    at = quiet_hours.send_at(now, BALANGAN_VILLAGE)
    assert (at != now) is held
    if held:
        assert (at.hour, at.minute) == (6, 0) and timedelta(0) < at - now <= timedelta(hours=9)


def test_an_urgent_message_goes_at_once_whatever_the_hour():
    night = datetime(2026, 12, 3, 23, 0, tzinfo=WITA)
    assert quiet_hours.send_at(night, BALANGAN_VILLAGE, urgent=True) == night


def test_one_instant_is_quiet_in_one_zone_and_not_in_another():
    now = utc(2026, 12, 3, 13, 30)  # 20:30 WIB, 21:30 WITA, 22:30 WIT
    assert quiet_hours.send_at(now, BARITO_TIMUR_VILLAGE) == now
    assert quiet_hours.send_at(now, BALANGAN_VILLAGE) > now
    assert quiet_hours.send_at(now, JAYAPURA) > now


@pytest.mark.parametrize("url, addresses", [
    ("https://ngo.example.org/hooks/setiakawan", ["93.184.216.34"]),
    ("https://ngo.example.org:8443/hooks", ["2606:2800:220:1:248:1893:25c8:1946"]),
])
def test_a_public_https_address_receives_webhooks_in_production(url, addresses):
    assert destinations.refused(url, addresses, production=True) is None


@pytest.mark.parametrize("url, addresses, why", [
    ("http://ngo.example.org/hooks", ["93.184.216.34"], "HTTPS"),
    ("https://metadata.internal/latest/meta-data", ["169.254.169.254"], "not public"),
    ("https://intranet.dinsos/hooks", ["10.20.0.7"], "not public"),
    ("https://printer.local/hooks", ["192.168.1.20"], "not public"),
    ("https://localhost/hooks", ["127.0.0.1"], "not public"),
    ("https://[::1]/hooks", ["::1"], "not public"),
    ("https://cgnat.example/hooks", ["100.64.0.9"], "not public"),
    ("https://mapped.example/hooks", ["::ffff:10.0.0.1"], "not public"),
    ("https://mixed.example/hooks", ["93.184.216.34", "172.16.5.4"], "172.16.5.4"),
    ("https://nowhere.example/hooks", [], "does not resolve"),
    ("https://user:pw@ngo.example.org/hooks", ["93.184.216.34"], "credentials"),
    ("ftp://ngo.example.org/hooks", ["93.184.216.34"], "http(s)"),
    ("https:///hooks", ["93.184.216.34"], "http(s)"),
    ("https://ngo.example.org:99999/hooks", ["93.184.216.34"], "not valid"),
])
def test_production_refuses_plain_http_and_every_address_inside_a_network(url, addresses, why):
    reason = destinations.refused(url, addresses, production=True)
    assert reason is not None and why in reason


def test_development_allows_plain_http_to_loopback_only():
    assert destinations.refused("http://127.0.0.1:8081/hooks", ["127.0.0.1"], production=False) is None
    assert destinations.refused("http://localhost:8081/hooks", ["127.0.0.1", "::1"], production=False) is None
    assert "loopback" in destinations.refused("http://ngo.example.org/hooks", ["93.184.216.34"], production=False)
    assert destinations.refused("https://ngo.example.org/hooks", ["93.184.216.34"], production=False) is None


def test_a_signed_webhook_verifies_with_the_specifications_library():
    secret = signing.new_secret()
    assert secret.startswith("whsec_")
    body = json.dumps({"type": "entitlement.issued", "data": {"amount": 48000000}}).encode()
    headers = signing.headers(secret, "msg_2f9c", datetime.now(timezone.utc), body)
    assert Webhook(secret).verify(body, headers) == {"type": "entitlement.issued", "data": {"amount": 48000000}}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"48000000", b"98000000"), headers)  # tampered
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(body, headers)  # another subscription's secret


def test_a_webhook_replayed_after_five_minutes_is_refused():
    secret = signing.new_secret()
    body = b'{"type":"aid.delivered"}'
    old = signing.headers(secret, "msg_1", datetime.now(timezone.utc) - timedelta(minutes=6), body)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, old)


def test_the_signature_is_the_specifications_for_a_known_message():
    # the example of the Standard Webhooks specification
    headers = signing.headers("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                              datetime.fromtimestamp(1614265330, timezone.utc), b'{"test": 2432232314}')
    assert headers == {"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330",
                       "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}
    with pytest.raises(ValueError):
        signing.headers("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "m", datetime(2026, 1, 1), b"{}")


@pytest.mark.parametrize("channel, address, kept", [("sms", "081234567890", "0812****7890"),
                                                    ("whatsapp", "+6281234567890", "0812****7890"),
                                                    ("email", "siti.aminah@gmail.com", "s***@gmail.com")])
def test_the_log_keeps_a_masked_address(channel, address, kept):
    assert masking.masked(channel, address) == kept


def test_a_webhook_has_no_address_to_mask():
    with pytest.raises(ValueError):
        masking.masked("webhook", "https://ngo.example.org/hooks")
