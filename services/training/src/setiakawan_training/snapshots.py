"""The event snapshots of courses and enrolments (the contract's shapes)."""


def session(row):
    return {"session_id": str(row["id"]), "starts_at": row["starts_at"], "ends_at": row["ends_at"],
            "venue_village_code": row["venue_village_code"]}


def course(row, sessions):
    return {"course_id": str(row["id"]), "version": row["version"], "series_id": str(row["series_id"]),
            "provider_agency": row["provider_agency"],
            "partners": list(row["partners"]), "title": row["title"], "skill_area": row["skill_area"],
            "mode": row["mode"], "region_codes": list(row["region_codes"]), "sessions": [session(s) for s in sessions],
            "capacity": row["capacity"], "eligibility": row["eligibility"],
            "completion": {"min_attendance_share": float(row["min_attendance_share"]),
                           "assessment_required": row["assessment_required"]},
            "funding_source": row["funding_source"], "status": row["status"]}


def enrolment(row, course_row, position=None):
    return {"enrolment_id": str(row["id"]), "version": row["version"], "course_id": str(row["course_id"]),
            "course_title": course_row["title"], "skill_area": course_row["skill_area"],
            "provider_agency": course_row["provider_agency"], "first_session_at": course_row["starts_at"],
            "person_ref": str(row["person_ref"]), "household_id": str(row["household_id"]),
            "village_code": row["village_code"], "group_id": row["group_id"] and str(row["group_id"]),
            "status": row["status"], "waitlist_position": position}


def result(row, course_row, finished_on):
    return {"course_id": str(row["course_id"]), "enrolment_id": str(row["id"]), "course_title": course_row["title"],
            "skill_area": course_row["skill_area"], "provider_agency": course_row["provider_agency"],
            "person_ref": str(row["person_ref"]), "household_id": str(row["household_id"]),
            "village_code": row["village_code"], "group_id": row["group_id"] and str(row["group_id"]),
            "finished_on": finished_on, "attendance_share": float(row["attendance_share"] or 0),
            "assessment_passed": row["assessment_passed"]}
