"""Every message rendered from its event type's contract example, in
Bahasa Indonesia and English: nothing missing from the data, no NIK, no
template left unrendered; amounts as Rupiah, dates and times as the
language and the place write them, villages by name."""
import copy
import re

import pytest

from setiakawan_contract import event_types as contract
from setiakawan_notifications.rules import messages

EXAMPLES = {t.name: t.example for t in contract}
NIK = re.compile(r"\d{16}")
WRITTEN = messages.event_types()


def test_messages_are_written_for_the_events_people_and_staff_are_told_of():
    assert WRITTEN == sorted(["household.registered", "household.verified", "entitlement.issued", "aid.delivered",
                              "entitlement.blocked", "stock.low", "enrolment.confirmed", "enrolment.waitlisted",
                              "enrolment.cancelled", "course.cancelled", "subscription.suspended"])


@pytest.mark.parametrize("language", messages.LANGUAGES)
@pytest.mark.parametrize("event_type", WRITTEN)
def test_every_message_renders_from_its_example_without_a_nik(event_type, language):
    message = messages.render(event_type, EXAMPLES[event_type], language)
    text = f"{message.subject}\n{message.body}"
    assert message.subject and message.body and "\n" not in message.subject
    assert not NIK.search(text), text
    assert "{" not in text and "None" not in text, text


def test_a_food_package_says_what_where_and_when_in_bahasa_indonesia():
    message = messages.render("entitlement.issued", EXAMPLES["entitlement.issued"])
    assert message.subject == "Bantuan untuk keluarga Anda: Sembako Desember Barito Timur"
    assert "10 kg beras, 2 l minyak goreng, 1 kg gula pasir" in message.body
    assert "Desa Pulau Patai" in message.body
    assert "antara 1 Desember 2026 dan 31 Desember 2026" in message.body


def test_cash_is_written_in_rupiah_and_english_dates_in_english():
    data = copy.deepcopy(EXAMPLES["entitlement.issued"])
    data["entitlement"].update(kind="cash", amount=48000000, items=[], programme_name="ATENSI berbasis keluarga")
    assert "ATENSI berbasis keluarga dari Dinas Sosial Provinsi Kalimantan Tengah: Rp48.000.000." in \
        messages.render("entitlement.issued", data).body
    english = messages.render("entitlement.issued", data, "en").body
    assert "Rp48.000.000" in english and "between 1 December 2026 and 31 December 2026" in english


def test_a_time_is_written_in_the_places_own_zone():
    # 01:00 UTC is 09:00 in Balangan (Kalimantan Selatan, WITA)
    confirmed = messages.render("enrolment.confirmed", EXAMPLES["enrolment.confirmed"])
    assert "mulai 11 Januari 2027 09.00 WITA" in confirmed.body
    promoted = messages.render("enrolment.confirmed", dict(EXAMPLES["enrolment.confirmed"], promoted=True))
    assert promoted.body.startswith("Ada kursi kosong: Anda naik dari daftar tunggu.")
    delivered = messages.render("aid.delivered", EXAMPLES["aid.delivered"], "en")
    assert "on 5 December 2026 09.30 WIB" in delivered.body  # Barito Timur, Kalimantan Tengah


def test_staff_are_told_which_other_programme_holds_the_benefit():
    body = messages.render("entitlement.blocked", EXAMPLES["entitlement.blocked"]).body
    blocker = EXAMPLES["entitlement.blocked"]["blocked_by"]
    assert blocker["programme_name"] in body and blocker["agency"] in body


def test_an_unknown_language_falls_back_to_bahasa_indonesia_and_an_unwritten_event_is_a_lookup_error():
    assert messages.render("stock.low", EXAMPLES["stock.low"], "jv") == messages.render("stock.low",
                                                                                     EXAMPLES["stock.low"])
    with pytest.raises(LookupError):
        messages.render("programme.activated", EXAMPLES["programme.activated"])


def test_data_missing_a_field_the_template_reads_is_an_error_not_a_blank():
    data = copy.deepcopy(EXAMPLES["stock.low"])
    del data["point_name"]
    with pytest.raises(Exception, match="point_name"):
        messages.render("stock.low", data)
