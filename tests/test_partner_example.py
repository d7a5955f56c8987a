"""examples/partner/ beside the platform, every part a process of its own,
reaching Setiakawan only through the contract, the kit and public HTTP
APIs, with its own token and broker accounts: Yayasan Wahana Peduli's
service keeps Barito Timur's verified households and runs its December food
top-up through the distribution API; a household the province already
feeds that month gets one package, not two, and the NGO learns whose; the
NGO records a handover once, however often it is sent; a plain kombu
listener and a receiver of signed webhooks see the district's events."""
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import requests

from setiakawan_kit.cli import installed_services
from setiakawan_kit.testing import free_port, wait_for

PARTNER_DIR = Path(__file__).resolve().parents[1] / "examples" / "partner"
sys.path.insert(0, str(PARTNER_DIR / "src"))  # the partner's package, as its own deployment installs it

from wahana_partner import SERVICE as WAHANA  # noqa: E402

PROVINCE = "Dinas Sosial Provinsi Kalimantan Tengah"
DISTRICT = "Dinas Sosial Kabupaten Barito Timur"
NGO = "Yayasan Wahana Peduli"
MONTH = "2026-12"
PULAU_PATAI, KANDRIS = "62.13.01.2003", "62.13.02.2002"  # in Dusun Timur, and in Banua Lima
POOR = {"monthly_income": 600_000, "floor": "earth", "wall": "bamboo", "roof": "thatch", "electricity": "none",
        "water": "river", "sanitation": "none", "assets": []}


def household(kk, village, head_nik, head_name, sex, born):
    return {"kk_number": kk, "address": {"street": "Jl. Tjilik Riwut", "rt": "001", "rw": "002",
                                         "village_code": village},
            "indicators": POOR, "legal_basis": "public_duty",
            "members": [{"nik": head_nik, "name": head_name, "birth_date": born, "sex": sex,
                         "relationship": "head"}]}


SEMBAKO = {"name": "Sembako Provinsi Kalimantan Tengah Desember 2026", "funding_source": "apbd_province",
           "partners": [DISTRICT], "kind": "in_kind", "category": "food",
           "items": [{"item": "beras", "quantity": "10", "unit": "kg"},
                     {"item": "minyak goreng", "quantity": "2", "unit": "l"},
                     {"item": "gula pasir", "quantity": "1", "unit": "kg"}],
           "period": {"starts_on": "2026-12-01", "ends_on": "2026-12-31"}, "region_codes": ["62.13.01"],
           "rule": "household.verified"}


class Agency:
    def __init__(self, token, **claims):
        self.headers = {"Authorization": f"Bearer {token(**claims)}"}

    def call(self, method, url, body=None, expect=(200, 201)):
        answer = requests.request(method, url, json=body, headers=self.headers, timeout=30)
        assert answer.status_code in expect, (method, url, answer.status_code, answer.text)
        return answer.json() if answer.content else None


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_partner_joins_with_its_own_service_a_kombu_listener_and_a_webhook_receiver(
        make_database, run_service, token, partner_account, tmp_path):
    services = {info.name: info for info in installed_services()}
    started = {name: run_service(name, services[name].module, make_database(services[name].migrations, prefix=name),
                                 **services[name].test_config)
               for name in ("registry", "distribution", "notifications")}
    registry, distribution, notifications = (started[n] for n in ("registry", "distribution", "notifications"))
    province = Agency(token, role="admin", regions=("62",), agency=PROVINCE, kind="province")
    district = Agency(token, role="operator", regions=("62.13",), agency=DISTRICT, kind="district")
    field_officer = Agency(token, role="field_officer", regions=("62.13",), agency=DISTRICT, kind="district")
    ngo = Agency(token, role="admin", regions=("62.13",), agency=NGO, kind="ngo")
    ngo_token = ngo.headers["Authorization"].removeprefix("Bearer ")

    wahana = run_service("wahana", WAHANA.module, make_database(WAHANA.migrations, prefix="wahana"),
                         env={"PYTHONPATH": os.pathsep.join(sys.path)}, DISTRICT="62.13", WAREHOUSE_VILLAGE="62.13.01.1012",
                         SETIAKAWAN={"distribution_url": distribution.url, "token": ngo_token})
    listened, received = tmp_path / "kombu.jsonl", tmp_path / "webhooks.jsonl"
    listener_uri = partner_account("wahana", {"registry.events": ("household.verified",)})
    processes = [subprocess.Popen(
        [sys.executable, str(PARTNER_DIR / "kombu_listener.py"), "--amqp-uri", listener_uri, "--out", str(listened)],
        stderr=open(tmp_path / "kombu.log", "w"), start_new_session=True)]
    processes.append(subprocess.Popen(
        [sys.executable, str(PARTNER_DIR / "webhook_receiver.py"), "--port", str(free_port()), "--subscribe",
         notifications.url, "--token", ngo_token, "--event-type", "household.verified", "--event-type",
         "entitlement.blocked", "--region", "62.13", "--out", str(received)],
        stderr=open(tmp_path / "receiver.log", "w"), start_new_session=True))
    try:
        wait_for(lambda: "listening on" in (tmp_path / "kombu.log").read_text(), what="the kombu listener bound")
        wait_for(lambda: "receiving webhooks" in (tmp_path / "receiver.log").read_text(),
                 what="the webhook receiver subscribed", state=lambda: (tmp_path / "receiver.log").read_text())

        sembako = province.call("POST", distribution.url + "/programmes", SEMBAKO)
        province.call("POST", f"{distribution.url}/programmes/{sembako['id']}/activate")
        fed = district.call("POST", registry.url + "/households", household(
            "6213010302150001", PULAU_PATAI, "6213010107850001", "Yulius Ahmad", "M", "1985-07-01"))
        hungry = district.call("POST", registry.url + "/households", household(
            "6213020302150002", KANDRIS, "6213025204790001", "Rusmini", "F", "1979-04-12"))
        for house in (fed, hungry):
            field_officer.call("POST", f"{registry.url}/households/{house['id']}/verification", {"outcome": "verified"})

        # the province's package reaches the household in Dusun Timur first
        wait_for(lambda: [e for e in province.call(
            "GET", f"{distribution.url}/programmes/{sembako['id']}/entitlements")["items"]
            if e["beneficiary_id"] == fed["id"] and e["status"] == "issued"],
            what="the province's entitlement", services=[distribution])
        wait_for(lambda: len(ngo.call("GET", wahana.url + "/households")) == 2,
                 what="the NGO knowing both verified households", services=[wahana])

        top_up = ngo.call("POST", wahana.url + "/top-ups", {"month": MONTH, "packages": 50, "decile_at_most": 10})
        assert (top_up["issued"], top_up["blocked"]) == (1, 1)
        ngo.call("POST", wahana.url + "/top-ups", {"month": MONTH, "packages": 5}, expect=(409,))

        def known():
            return {h["household_id"]: h for h in ngo.call("GET", wahana.url + "/households")
                    if h["entitlement_status"]}

        seen = wait_for(lambda: len(known()) == 2 and known(), what="the NGO told of both entitlements",
                        services=[wahana])
        assert seen[fed["id"]]["entitlement_status"] == "blocked"
        assert (seen[fed["id"]]["blocked_by_agency"], seen[fed["id"]]["blocked_by_name"]) == (PROVINCE, SEMBAKO["name"])
        assert seen[hungry["id"]]["entitlement_status"] == "issued"

        report = district.call("GET", f"{distribution.url}/reports/households/{fed['id']}")
        food = [b for b in report["benefits"] if b["category"] == "food" and b["status"] != "blocked"]
        assert [b["agency"] for b in food] == [PROVINCE]  # one package this month, not two

        handover = {"household_id": hungry["id"], "month": MONTH, "nik": "6213025204790001",
                    "delivered_at": "2026-12-05T03:00:00+00:00", "idempotency_key": str(uuid.uuid4())}
        wrong = ngo.call("POST", wahana.url + "/deliveries", dict(handover, nik="6213025204790009",
                                                                   idempotency_key=str(uuid.uuid4())), expect=(409,))
        assert "refused" in wrong["detail"]
        assert ngo.call("POST", wahana.url + "/deliveries", handover) == {
            "entitlement_id": seen[hungry["id"]]["entitlement_id"], "status": "delivered", "repeated": False}
        assert ngo.call("POST", wahana.url + "/deliveries", handover)["repeated"] is True
        ngo.call("POST", wahana.url + "/deliveries", dict(handover, household_id=fed["id"],
                                                          idempotency_key=str(uuid.uuid4())), expect=(409,))
        delivered = [b for b in district.call("GET", f"{distribution.url}/reports/households/{hungry['id']}")[
            "benefits"] if b["status"] == "delivered"]
        assert [b["programme_id"] for b in delivered] == [top_up["programme_id"]]
        wait_for(lambda: known()[hungry["id"]]["entitlement_status"] == "delivered",
                 what="the NGO told of its delivery", services=[wahana])

        wait_for(lambda: len(lines(listened)) == 2, what="the kombu listener's two events")
        assert {e["household_id"] for e in lines(listened)} == {fed["id"], hungry["id"]}
        assert {e["type"] for e in lines(listened)} == {"household.verified"}
        wait_for(lambda: len(lines(received)) >= 3, what="three signed webhooks", services=[notifications],
                 state=lambda: lines(received))
        by_type = {}
        for hook in lines(received):
            by_type.setdefault(hook["type"], []).append(hook)
        assert len(by_type["household.verified"]) == 2 and len(by_type["entitlement.blocked"]) == 1
        assert by_type["entitlement.blocked"][0]["event"]["data"]["entitlement"]["beneficiary_id"] == fed["id"]
        for log in ("kombu.log", "receiver.log"):
            assert "refused" not in (tmp_path / log).read_text() and "rejected" not in (tmp_path / log).read_text()
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
