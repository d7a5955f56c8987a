"""Registry snapshots and course bodies the training tests share, with the
places and programmes of the seed reports (Balangan's sewing course for
alumni of a youth social institution, Kutai Kartanegara's empowerment
programme per sub-district, Kalimantan Utara's Karang Taruna capacity
building)."""
import uuid
from datetime import datetime, timedelta, timezone

BALANGAN = "63.11"
PARINGIN = "63.11.06.1023"  # Paringin Kota, Balangan
TENGGARONG = "64.02.06.1003"  # Bukit Biru, Tenggarong, Kutai Kartanegara
KUKAR = "64.02"


def new_ref():
    return str(uuid.uuid4())


def member(age=22, sex="F", person_ref=None, relationship="head"):
    return {"person_ref": person_ref or new_ref(), "age": age, "sex": sex, "relationship": relationship,
            "disability": False}


def household(members, village=PARINGIN, decile=2, status="verified", version=1, household_id=None):
    return {"household_id": household_id or new_ref(), "version": version, "village_code": village,
            "district_code": village[:8], "regency_code": village[:5], "province_code": village[:2],
            "status": status, "welfare_score": 20.0, "decile": decile, "size": len(members), "children": 0,
            "elderly": 0, "disabled": 0, "registering_agency": "Dinas Sosial Kabupaten Balangan", "members": members}


def group(member_refs, kind="karang_taruna", village=TENGGARONG, version=1, status="active", group_id=None):
    return {"group_id": group_id or new_ref(), "version": version, "name": "Karang Taruna Tunas Harapan",
            "kind": kind, "village_code": village, "district_code": village[:8], "regency_code": village[:5],
            "status": status, "member_refs": list(member_refs), "registering_agency": "Dinas Sosial Kukar"}


def at(days, hour=1):
    base = datetime(2026, 11, 2, tzinfo=timezone.utc)  # past: attendance is marked after the fact
    return (base + timedelta(days=days, hours=hour)).isoformat()


def course_body(capacity=20, regions=(BALANGAN,), venue=PARINGIN, days=(0, 1), first_day=0, **extra):
    """A sewing course for alumni of a youth social institution in Balangan (one session a day)."""
    body = {"title": "Pelatihan menjahit bagi alumni LKSA", "skill_area": "sewing", "mode": "individual",
            "region_codes": list(regions),
            "sessions": [{"starts_at": at(first_day + d), "ends_at": at(first_day + d, hour=7),
                          "venue_village_code": venue, "venue": "Balai Desa"} for d in days],
            "capacity": capacity, "eligibility": {"min_age": 16, "max_age": 35, "max_decile": 4},
            "completion": {"min_attendance_share": 0.5, "assessment_required": False},
            "funding_source": "APBD Kabupaten Balangan 2027", "partners": ["PT Adaro Indonesia"]}
    body.update(extra)
    return body
