"""The whole platform as an operator runs it (``setiakawan run``: the four
services and the sandbox gateway as processes of their own, restarted by the
supervisor) with Yayasan Wahana Peduli's service beside it, driven only
through HTTP and events. A household registered by Barito Timur's office is
verified; the province's December sembako and the NGO's top-up of the same
category both reach for it, it gets the province's only and the NGO learns
why; its daughter completes a sewing course and the household is issued a
sewing machine; the head receives exactly the SMS messages expected, in
Bahasa Indonesia. Then the same with RabbitMQ restarted in the middle and the
distribution service killed with SIGKILL: the same outcome, nothing lost,
nothing doubled."""
import json
import os
import re
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import pytest
import requests

from demo.households import Households, body
from demo.platform import Agency, Platform
from demo.scenario import BARITO_TIMUR, PROV_KALTENG, sessions
from setiakawan_kit import keys
from setiakawan_kit.testing import wait_for
from tests.support.supervised import SERVICES, SupervisedPlatform

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples" / "partner" / "src"))
from wahana_partner import SERVICE as WAHANA  # noqa: E402

NGO = Agency("Yayasan Wahana Peduli", "ngo", ("62.13",))
PULAU_PATAI = "62.13.01.2003"
SEMBAKO = {"name": "Sembako Provinsi Kalimantan Tengah, Desember 2026", "funding_source": "apbd_province",
           "partners": [BARITO_TIMUR.name], "kind": "in_kind", "category": "food",
           "items": [{"item": "beras", "quantity": "10", "unit": "kg"},
                     {"item": "minyak goreng", "quantity": "2", "unit": "l"}],
           "period": {"starts_on": "2026-12-01", "ends_on": "2026-12-31"}, "region_codes": ["62.13"],
           "rule": "household.decile <= 5 && household.verified"}
MACHINES = {"name": "Mesin jahit bagi lulusan pelatihan menjahit", "funding_source": "apbd_district",
            "kind": "equipment", "category": "productive_assets",
            "items": [{"item": "mesin jahit", "quantity": "1", "unit": "unit"}],
            "period": {"starts_on": "2026-12-01", "ends_on": "2027-03-31"}, "region_codes": ["62.13"],
            "rule": '"sewing" in household.completed_skills && household.verified'}
COURSE = {"title": "Pelatihan menjahit Barito Timur", "skill_area": "sewing", "mode": "individual",
          "region_codes": ["62.13"], "capacity": 12, "eligibility": {"min_age": 16, "verified_only": True},
          "completion": {"min_attendance_share": 0.5, "assessment_required": False},
          "sessions": sessions((23, 24), PULAU_PATAI), "funding_source": "APBD Kabupaten Barito Timur 2026"}
#: what the head's phone receives, each once: registered, verified, two benefits owed, one handed over
EXPECTED_SMS = ("telah didaftarkan", "telah diverifikasi", "berhak menerima Sembako Provinsi",
                "berhak menerima Mesin jahit", "telah diserahkan kepada keluarga Anda")


@pytest.fixture
def platform(tmp_path, amqp_uri, infrastructure, broker_accounts, token_keys):
    household = Households(seed=uuid.uuid4().int % 10**6, today=date.today()).make(PULAU_PATAI, size=2,
                                                                                   young_adult=True)
    head_phone = "+62" + household.rows[0]["phone"].removeprefix("0")
    prefix = broker_accounts.prefix + "e2e-"
    running = SupervisedPlatform(tmp_path, amqp_uri, infrastructure.database_url, prefix, token_keys.jwks,
                                 NOTIFICATIONS_QUIET_FROM="00:00", NOTIFICATIONS_QUIET_UNTIL="00:00",
                                 NOTIFICATIONS_RETRY_BASE_S="2", SANDBOX_NOT_ON_WHATSAPP=head_phone)
    try:
        running.start()
        running.api = Platform({k: v for k, v in running.urls.items() if k != "sandbox"},
                               keys.load_signing_key(token_keys.signing_key))
        running.household, running.head_phone = household, head_phone
        yield running
    finally:
        running.stop()
        infrastructure.broker.admin.delete_users([prefix + name for name in SERVICES])


def test_a_household_gets_one_food_package_a_sewing_machine_and_the_expected_sms(platform, run_service,
                                                                                   make_database, token_keys):
    pinged = subprocess.run([sys.executable, "-m", "setiakawan_kit.cli", "ping", "--json", "--timeout", "60",
                             "--key", str(token_keys.signing_key)], env=platform.env, capture_output=True,
                            text=True, timeout=120)
    assert pinged.returncode == 0, pinged.stdout + pinged.stderr
    assert all(sorted(row["received_from"]) == sorted(SERVICES) for row in json.loads(pinged.stdout)["services"])
    outcome = play(platform, run_service, make_database)
    check(outcome, platform)


def test_the_same_with_the_broker_restarted_and_a_service_killed(platform, run_service, make_database, own_broker):
    outcome = play(platform, run_service, make_database, after_registration=own_broker.restart,
                   after_course=lambda: platform.kill("distribution"))
    check(outcome, platform)
    said = platform.log.read_text()
    assert "distribution exited with status -9 (SIGKILL)" in said, said[-3000:]


def play(platform, run_service, make_database, after_registration=lambda: None, after_course=lambda: None):
    api, household = platform.api, platform.household
    province, ngo = api.caller(PROV_KALTENG, "admin"), api.caller(NGO, "admin")
    district, officer = api.caller(BARITO_TIMUR, "admin"), api.caller(BARITO_TIMUR, "field_officer")
    ngo_token = ngo.headers["Authorization"].removeprefix("Bearer ")
    wahana = run_service("wahana", WAHANA.module, make_database(WAHANA.migrations, prefix="wahana"),
                         env={"PYTHONPATH": os.pathsep.join(sys.path)}, DISTRICT="62.13",
                         WAREHOUSE_VILLAGE="62.13.01.1012",
                         SETIAKAWAN={"distribution_url": api.urls["distribution"], "token": ngo_token})
    ngo.post("notifications", "/contacts", {"name": "Program pangan", "channel": "email",
                                            "address": "pangan@wahanapeduli.or.id"})
    warehouse = province.post("distribution", "/points", {"name": "Gudang Dinas Sosial, Tamiang Layang",
                                                          "kind": "warehouse", "village_code": "62.13.01.1012"})
    for item in SEMBAKO["items"]:
        province.post("distribution", f"/points/{warehouse['id']}/moves", dict(item, move="received", quantity="50"))
    sembako = province.post("distribution", "/programmes", dict(SEMBAKO, point_id=warehouse["id"]))
    province.post("distribution", f"/programmes/{sembako['id']}/activate")
    machines = district.post("distribution", "/programmes", MACHINES)
    district.post("distribution", f"/programmes/{machines['id']}/activate")

    household.record = district.post("registry", "/households", body(household.rows))
    officer.post("registry", f"/households/{household.id}/verification", {"outcome": "verified"})
    after_registration()

    def benefits():  # none while the distribution service has not heard of the household (404)
        report = district.call("GET", "distribution", f"/reports/households/{household.id}", expect=(200, 404))
        return {b["programme_id"]: b for b in report.get("benefits", [])}

    wait_for(lambda: sembako["id"] in benefits(), timeout=90, what="the province's package issued")
    wait_for(lambda: any(h["household_id"] == household.id for h in ngo_get(wahana, ngo, "/households")),
             timeout=90, what="the NGO's service knowing the verified household")
    top_up = requests.post(wahana.url + "/top-ups", json={"month": "2026-12", "packages": 10, "decile_at_most": 10},
                           headers=ngo.headers, timeout=60)
    assert top_up.status_code == 201, top_up.text

    daughter, _ = household.member("child", min_age=18, today=date.today())
    course = district.post("training", "/courses", COURSE)
    district.post("training", f"/courses/{course['id']}/publish")
    enrolment = wait_for(lambda: _enrol(district, course, daughter), timeout=90, what="the daughter enrolled")
    district.post("training", f"/courses/{course['id']}/start")
    officer.post("training", f"/courses/{course['id']}/attendance", {"marks": [
        {"mark_id": str(uuid.uuid4()), "session_id": s["id"], "enrolment_id": enrolment["id"], "present": True,
         "recorded_at": s["ends_at"]} for s in course["sessions"]]})
    assert district.post("training", f"/courses/{course['id']}/finish")["completed"] == 1
    after_course()

    wait_for(lambda: machines["id"] in benefits(), timeout=90, what="the sewing machine issued")
    head_ref, head_nik = household.member("head")
    officer.post("distribution", f"/entitlements/{benefits()[sembako['id']]['id']}/delivery", {
        "idempotency_key": str(uuid.uuid4()), "recipient_ref": head_ref, "nik": head_nik,
        "delivered_at": "2026-12-05T02:00:00+00:00", "village_code": PULAU_PATAI, "point_id": warehouse["id"]})

    told = wait_for(lambda: [h for h in ngo_get(wahana, ngo, "/households")
                             if h["household_id"] == household.id and h["entitlement_status"] == "blocked"],
                    timeout=90, what="the NGO told whose benefit holds the month")
    head_sms = wait_for(lambda: len(sms_to(platform)) >= len(EXPECTED_SMS) and sms_to(platform), timeout=120,
                        what="the head's SMS", state=lambda: sms_to(platform))
    settled(platform)
    coverage = district.get("coordination", "/coverage", region=PULAU_PATAI, period="2026-12")
    return {"benefits": {p["name"]: benefits()[p["id"]]["status"] for p in (sembako, machines)},
            "top_up": top_up.json(), "told": told[0], "head_messages": sandbox(platform, "messages"),
            "head_sms": head_sms, "emails": sandbox(platform, "emails"), "coverage": coverage}


def check(outcome, platform):
    assert outcome["benefits"] == {SEMBAKO["name"]: "delivered", MACHINES["name"]: "issued"}
    assert (outcome["top_up"]["issued"], outcome["top_up"]["blocked"]) == (0, 1)
    assert (outcome["told"]["blocked_by_agency"], outcome["told"]["blocked_by_name"]) == (PROV_KALTENG.name,
                                                                                         SEMBAKO["name"])
    to_head = [m for m in outcome["head_messages"] if m["to"] == platform.head_phone]
    assert [m["channel"] for m in to_head] == ["sms"] * len(EXPECTED_SMS), to_head  # WhatsApp refused: SMS instead
    texts = [m["text"] for m in to_head]
    for phrase in EXPECTED_SMS:
        assert sum(phrase in text for text in texts) == 1, (phrase, texts)
    assert not any(re.search(r"\d{16}", text) for text in texts)  # never a NIK or a KK number
    assert all("Desa Pulau Patai" in text for text in texts if "berhak menerima" in text)
    blocked = [e for e in outcome["emails"] if "pangan@wahanapeduli.or.id" in e["to"]]
    assert len(blocked) == 1 and "tidak mendapat" in blocked[0]["text"] and PROV_KALTENG.name in blocked[0]["text"]
    # the coordination service saw it all from the events: who reached the household, what the ledger prevented
    coverage = outcome["coverage"]
    assert (coverage["totals"]["households_reached"], coverage["totals"]["households_delivered"]) == (1, 1), coverage
    assert {c["category"]: (c["planned"], c["delivered"], c["blocked"]) for c in coverage["programmes_by_category"]
            } == {"food": (1, 1, 1), "productive_assets": (1, 0, 0)}, coverage
    assert coverage["overlaps_prevented"] == [{"agencies": sorted([NGO.name, PROV_KALTENG.name]),
                                               "categories": ["food"], "households": 1}], coverage


def ngo_get(wahana, ngo, path):
    answer = requests.get(wahana.url + path, headers=ngo.headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _enrol(caller, course, person_ref):
    answer = requests.post(f"{caller.platform.urls['training']}/courses/{course['id']}/enrolments",
                           json={"person_ref": person_ref}, headers=caller.headers, timeout=30)
    return answer.status_code == 201 and answer.json()


def sandbox(platform, what):
    return requests.get(f"{platform.urls['sandbox']}/{what}", timeout=10).json()


def sms_to(platform):
    return [m for m in sandbox(platform, "messages") if m["to"] == platform.head_phone]


def settled(platform):
    """Once no service has an event waiting (outbox, queues, retries) and no message waits to be sent."""
    def quiet():
        result = subprocess.run([sys.executable, "-m", "setiakawan_kit.cli", "status", "--json"], env=platform.env,
                                capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            return False
        rows = json.loads(result.stdout)["services"]
        return all(r["outbox_unsent"] == 0 and r["queued"] == r["in_handling"] == r["retrying"] == r["dead"] == 0
                   for r in rows)

    wait_for(quiet, timeout=120, interval=1, what="every service settled")
    admin = platform.api.caller(PROV_KALTENG, "admin")
    wait_for(lambda: not admin.get("notifications", "/messages", status="queued")["items"]
             and not admin.get("notifications", "/messages", status="failed")["items"], timeout=120,
             what="no message waiting to be sent")
