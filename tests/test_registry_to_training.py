"""The registry and the training service as separate processes: the
training service learns people only from the registry's events, and acts
on them (a household that stops qualifying loses its seat)."""
import requests

from setiakawan_kit.cli import installed_services
from setiakawan_kit.testing import wait_for

AGENCY = "Dinas Sosial Kabupaten Barito Timur"
HOUSEHOLD = {
    "kk_number": "6213010107200001",
    "address": {"street": "Jl. Tjilik Riwut No. 5", "rt": "001", "rw": "002", "village_code": "62.13.01.2003"},
    "indicators": {"monthly_income": 900_000, "floor": "wood", "wall": "wood", "roof": "zinc",
                   "electricity": "pln_450", "water": "protected_well", "sanitation": "shared", "assets": []},
    "legal_basis": "public_duty",
    "members": [{"nik": "6213014107850003", "name": "Siti Aminah", "birth_date": "1985-07-01", "sex": "F",
                 "relationship": "head"}],
}
COURSE = {"title": "Pelatihan tata boga bagi ibu rumah tangga", "skill_area": "culinary", "region_codes": ["62.13"],
          "sessions": [{"starts_at": "2026-11-09T01:00:00+00:00", "ends_at": "2026-11-09T06:00:00+00:00",
                        "venue_village_code": "62.13.01.2003"}],
          "capacity": 25, "eligibility": {"min_age": 18, "verified_only": True},
          "funding_source": "APBD Kabupaten Barito Timur 2026"}


def test_the_training_service_knows_people_only_from_the_registry_and_follows_them(make_database, run_service,
                                                                                    token):
    services = {info.name: info for info in installed_services()}
    started = {}
    for name in ("registry", "training"):
        info = services[name]
        started[name] = run_service(name, info.module, make_database(info.migrations, prefix=name),
                                    **info.test_config)
    registry, training = started["registry"], started["training"]

    def client(role):
        return {"Authorization": f"Bearer {token(role=role, regions=('62.13',), kind='district', agency=AGENCY)}"}

    registered = requests.post(registry.url + "/households", json=HOUSEHOLD, headers=client("operator"), timeout=30)
    assert registered.status_code == 201, registered.text
    household = registered.json()
    person_ref = household["members"][0]["person_ref"]
    created = requests.post(training.url + "/courses", json=COURSE, headers=client("operator"), timeout=30)
    assert created.status_code == 201, created.text
    course = created.json()
    published = requests.post(f"{training.url}/courses/{course['id']}/publish", headers=client("operator"), timeout=30)
    assert published.status_code == 200, published.text

    def enrol():
        return requests.post(f"{training.url}/courses/{course['id']}/enrolments", json={"person_ref": person_ref},
                             headers=client("operator"), timeout=30)

    # known from household.registered, but not verified yet
    refused = wait_for(lambda: (r := enrol()).status_code == 422 and "not verified" in r.text and r.json(),
                       timeout=30, what="the training service to know the person", services=[training])
    assert "Siti" not in str(refused)
    verified = requests.post(f"{registry.url}/households/{household['id']}/verification", json={"outcome": "verified"},
                             headers=client("field_officer"), timeout=30)
    assert verified.status_code == 200, verified.text
    enrolment = wait_for(lambda: (r := enrol()).status_code == 201 and r.json(), timeout=30,
                         what="enrolment once the household is verified", services=[training])
    assert enrolment["status"] == "confirmed" and enrolment["household_id"] == household["id"]
    inactive = requests.post(f"{registry.url}/households/{household['id']}/status",
                             json={"status": "inactive", "reason": "moved to another province"},
                             headers=client("operator"), timeout=30)
    assert inactive.status_code == 200, inactive.text

    def ended():
        got = requests.get(f"{training.url}/enrolments/{enrolment['id']}", headers=client("viewer"), timeout=30).json()
        return got["status"] == "cancelled" and got

    gone = wait_for(ended, timeout=30, what="the enrolment to end", services=[training])
    assert (gone["end_reason"], gone["end_detail"]) == ("no_longer_eligible", "rules: household_status")
