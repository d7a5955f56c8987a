"""The registry, the training service and the distribution service as
separate processes: a young woman from Balangan completes a sewing course,
and training's own participant.completed makes her household eligible for
the sewing machine of the district's equipment programme (the seed report's
alumni of a youth social institution)."""
import uuid

import requests

from setiakawan_kit.cli import installed_services
from setiakawan_kit.testing import wait_for

BALANGAN = "Dinas Sosial Kabupaten Balangan"
MUARA_NINIAN = "63.11.01.2001"
HOUSEHOLD = {
    "kk_number": "6311010107200001",
    "address": {"street": "Jl. Jend. A. Yani No. 7", "rt": "002", "rw": "001", "village_code": MUARA_NINIAN},
    "indicators": {"monthly_income": 800_000, "floor": "wood", "wall": "wood", "roof": "zinc",
                   "electricity": "pln_450", "water": "protected_well", "sanitation": "shared", "assets": []},
    "legal_basis": "public_duty",
    "members": [{"nik": "6311014203800002", "name": "Masitah", "birth_date": "1980-03-02", "sex": "F",
                 "relationship": "head"},
                {"nik": "6311015005070001", "name": "Rahmawati", "birth_date": "2007-05-10", "sex": "F",
                 "relationship": "child"}],
}
COURSE = {"title": "Pelatihan menjahit bagi alumni LKSA", "skill_area": "sewing", "mode": "individual",
          "region_codes": ["63.11"], "capacity": 20, "eligibility": {"min_age": 16, "verified_only": True},
          "completion": {"min_attendance_share": 0.5, "assessment_required": False},
          "sessions": [{"starts_at": f"2026-11-0{d}T01:00:00+00:00", "ends_at": f"2026-11-0{d}T07:00:00+00:00",
                        "venue_village_code": MUARA_NINIAN} for d in (2, 3)],
          "funding_source": "APBD Kabupaten Balangan 2026"}
MACHINES = {"name": "Mesin jahit bagi alumni LKSA", "funding_source": "apbd_district", "kind": "equipment",
            "category": "productive_assets", "items": [{"item": "mesin jahit", "quantity": "1", "unit": "unit"}],
            "period": {"starts_on": "2026-12-01", "ends_on": "2027-03-31"}, "region_codes": ["63.11"],
            "rule": '"sewing" in household.completed_skills && household.verified'}


def test_completing_a_sewing_course_makes_the_household_eligible_for_a_sewing_machine(make_database, run_service,
                                                                                       token):
    services = {info.name: info for info in installed_services()}
    started = {name: run_service(name, services[name].module,
                                 make_database(services[name].migrations, prefix=name), **services[name].test_config)
               for name in ("registry", "training", "distribution")}
    registry, training, distribution = started["registry"], started["training"], started["distribution"]

    def auth(role):
        return {"Authorization": f"Bearer {token(role=role, regions=('63.11',), kind='district', agency=BALANGAN)}"}

    def post(url, body=None, role="operator"):
        answer = requests.post(url, json=body, headers=auth(role), timeout=30)
        assert answer.status_code in (200, 201), (url, answer.text)
        return answer.json()

    household = post(registry.url + "/households", HOUSEHOLD)
    post(f"{registry.url}/households/{household['id']}/verification", {"outcome": "verified"}, role="field_officer")
    alumna = next(m["person_ref"] for m in household["members"] if m["relationship"] == "child")

    draft = post(distribution.url + "/programmes", MACHINES)
    verified = post(distribution.url + "/programmes", dict(MACHINES, name="Verified", rule="household.verified"))
    wait_for(lambda: post(f"{distribution.url}/programmes/{verified['id']}/preview")["total"] == 1, timeout=30,
             what="the distribution service to know the household", services=[distribution, registry])
    assert post(f"{distribution.url}/programmes/{draft['id']}/activate")["issued"] == 0

    course = post(training.url + "/courses", COURSE)
    post(f"{training.url}/courses/{course['id']}/publish")
    enrolment = wait_for(lambda: (r := requests.post(f"{training.url}/courses/{course['id']}/enrolments",
                                                     json={"person_ref": alumna}, headers=auth("operator"),
                                                     timeout=30)).status_code == 201 and r.json(),
                         timeout=30, what="the training service to know her", services=[training])
    post(f"{training.url}/courses/{course['id']}/start")
    post(f"{training.url}/courses/{course['id']}/attendance", {"marks": [
        {"mark_id": str(uuid.uuid4()), "session_id": s["id"], "enrolment_id": enrolment["id"], "present": True,
         "recorded_at": s["ends_at"]} for s in course["sessions"]]}, role="field_officer")
    assert post(f"{training.url}/courses/{course['id']}/finish")["completed"] == 1

    def sewing_machine():
        answer = requests.get(f"{distribution.url}/reports/households/{household['id']}", headers=auth("viewer"),
                              timeout=30)
        return answer.status_code == 200 and [b for b in answer.json()["benefits"] if b["programme_id"] == draft["id"]]

    benefit = wait_for(sewing_machine, timeout=30, what="the sewing machine entitlement",
                       services=[distribution, training])
    assert benefit[0]["status"] == "issued" and benefit[0]["beneficiary_id"] == household["id"]
    assert benefit[0]["items"] == [{"item": "mesin jahit", "quantity": "1", "unit": "unit"}]
