"""Snapshots as the registry, training and distribution services publish
them, for the coordination tests: Barito Timur in December 2026, where the
provincial social office hands out food packages (sembako) with the
district's social office (a seed report), and the district runs a sewing
course."""
import uuid

BARITO_TIMUR = "62.13"
DUSUN_TIMUR = "62.13.01"
PULAU_PATAI = "62.13.01.2003"
BANUA_LIMA = "62.13.02"
KANDRIS = "62.13.02.2002"
PROVINCE = "Dinas Sosial Provinsi Kalimantan Tengah"
DISTRICT = "Dinas Sosial Kabupaten Barito Timur"
DECEMBER = {"starts_on": "2026-12-01", "ends_on": "2026-12-31"}
SEMBAKO = [{"item": "beras", "quantity": "10", "unit": "kg"}, {"item": "minyak goreng", "quantity": "2", "unit": "l"},
           {"item": "gula pasir", "quantity": "1", "unit": "kg"}]


def new_ref():
    return str(uuid.uuid4())


def household(village=PULAU_PATAI, decile=2, status="verified", version=1, members=1, household_id=None):
    people = [{"person_ref": new_ref(), "age": 30 + i, "sex": "F" if i % 2 == 0 else "M",
               "relationship": "head" if i == 0 else "child", "disability": False} for i in range(members)]
    return {"household_id": household_id or new_ref(), "version": version, "village_code": village,
            "district_code": village[:8], "regency_code": village[:5], "province_code": village[:2],
            "status": status, "welfare_score": 20.0, "decile": decile, "size": members, "children": 0, "elderly": 0,
            "disabled": 0, "registering_agency": DISTRICT, "members": people}


def programme(agency=PROVINCE, funding_source="apbd_province", name="Sembako Desember Barito Timur",
              category="food", region_codes=(BARITO_TIMUR,), version=2, status="active", period=DECEMBER):
    return {"programme_id": new_ref(), "version": version, "agency": agency, "partners": [],
            "funding_source": funding_source, "name": name, "kind": "in_kind", "category": category,
            "items": SEMBAKO, "cash": None, "group_kind": None, "group_ids": None, "period": dict(period),
            "region_codes": list(region_codes), "rule": "household.decile <= 4 && household.verified",
            "quota": 500, "budget": None, "stacks": False, "status": status}


def entitlement(programme_snapshot, beneficiary, status="issued", version=1):
    return {"entitlement_id": new_ref(), "version": version, "programme_id": programme_snapshot["programme_id"],
            "programme_name": programme_snapshot["name"], "agency": programme_snapshot["agency"],
            "kind": programme_snapshot["kind"], "category": programme_snapshot["category"],
            "beneficiary_kind": "household", "beneficiary_id": beneficiary["household_id"],
            "village_code": beneficiary["village_code"], "period": dict(programme_snapshot["period"]),
            "amount": None, "items": SEMBAKO, "status": status}


def delivery(beneficiary):
    return {"delivery_id": new_ref(), "delivered_at": "2026-12-05T02:30:00+00:00",
            "village_code": beneficiary["village_code"], "latitude": None, "longitude": None, "photo_sha256": None,
            "point_id": None, "recipient_ref": beneficiary["members"][0]["person_ref"], "officer_agency": DISTRICT}


def blocking(entitlement_snapshot):
    return {"entitlement_id": entitlement_snapshot["entitlement_id"],
            "programme_id": entitlement_snapshot["programme_id"],
            "programme_name": entitlement_snapshot["programme_name"], "agency": entitlement_snapshot["agency"],
            "period": dict(entitlement_snapshot["period"])}


def course(provider=DISTRICT, skill_area="sewing", region_codes=(BARITO_TIMUR,), status="open", version=2,
           first_day="2026-12-10"):
    return {"course_id": new_ref(), "version": version, "series_id": new_ref(), "provider_agency": provider,
            "partners": [], "title": "Pelatihan menjahit", "skill_area": skill_area, "mode": "individual",
            "region_codes": list(region_codes),
            "sessions": [{"session_id": new_ref(), "starts_at": f"{first_day}T01:00:00+00:00",
                          "ends_at": f"{first_day}T07:00:00+00:00", "venue_village_code": PULAU_PATAI}],
            "capacity": 20, "eligibility": {"min_age": 16, "max_age": 45, "max_decile": 4, "verified_only": True},
            "completion": {"min_attendance_share": 0.5, "assessment_required": False},
            "funding_source": "APBD Kabupaten Barito Timur 2026", "status": status}


def enrolment(course_snapshot, beneficiary, status="confirmed", version=1):
    return {"enrolment_id": new_ref(), "version": version, "course_id": course_snapshot["course_id"],
            "course_title": course_snapshot["title"], "skill_area": course_snapshot["skill_area"],
            "provider_agency": course_snapshot["provider_agency"],
            "first_session_at": course_snapshot["sessions"][0]["starts_at"],
            "person_ref": beneficiary["members"][0]["person_ref"], "household_id": beneficiary["household_id"],
            "village_code": beneficiary["village_code"], "group_id": None, "status": status,
            "waitlist_position": None}
