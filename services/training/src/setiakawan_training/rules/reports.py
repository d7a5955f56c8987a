"""How reports group participants."""

AGE_BANDS = ((0, 14, "0-14"), (15, 24, "15-24"), (25, 34, "25-34"), (35, 44, "35-44"), (45, 59, "45-59"),
             (60, 200, "60+"))
BAND_NAMES = tuple(name for _, _, name in AGE_BANDS)
GROUPINGS = ("course", "provider", "region")
#: region level: the length of a Kemendagri code at that level (62, 62.13, 62.13.01, 62.13.01.2003)
LEVELS = {"province": 2, "regency": 5, "district": 8, "village": 13}


def age_band(age):
    for low, high, name in AGE_BANDS:
        if low <= age <= high:
            return name
    return BAND_NAMES[-1]


def region_at(village_code, level):
    return village_code[:LEVELS[level]]


def share(part, whole):
    return round(part / whole, 3) if whole else None


TOOK_PART = ("confirmed", "completed", "not_completed")


def _key(row, by, level):
    if by == "course":
        return (str(row["course_id"]),)
    if by == "provider":
        return (row["provider_agency"],)
    return (region_at(row["village_code"], level), str(row["course_id"]))


def _new_line(row, by, level):
    if by == "course":
        line = {"course_id": str(row["course_id"]), "course_title": row["course_title"],
                "provider_agency": row["provider_agency"], "skill_area": row["skill_area"]}
    elif by == "provider":
        line = {"provider_agency": row["provider_agency"]}
    else:
        line = {"region_code": region_at(row["village_code"], level), "course_id": str(row["course_id"]),
                "course_title": row["course_title"], "provider_agency": row["provider_agency"],
                "skill_area": row["skill_area"]}
    return dict(line, courses=set(), enrolled=0, waitlisted=0, completed=0, not_completed=0, sessions_due=0,
                sessions_attended=0, by_sex={"F": 0, "M": 0}, by_age_band={b: 0 for b in BAND_NAMES}, by_village={})


def aggregate(rows, by, level="district"):
    """Report lines from participant rows (course_id, course_title,
    provider_agency, skill_area, status, sex, age, village_code, sessions,
    attended, course_started): per course, per provider, or per region (at
    ``level``) and course. People who took part (a seat held, then a result)
    are counted by sex, age band and village; the attendance share is of
    the sessions of courses that have started."""
    lines = {}
    for row in rows:
        key = _key(row, by, level)
        line = lines.get(key) or lines.setdefault(key, _new_line(row, by, level))
        line["courses"].add(str(row["course_id"]))
        if row["status"] == "waitlisted":
            line["waitlisted"] += 1
            continue
        if row["status"] not in TOOK_PART:
            continue
        line["enrolled"] += 1
        line["completed"] += row["status"] == "completed"
        line["not_completed"] += row["status"] == "not_completed"
        if row["course_started"]:
            line["sessions_due"] += row["sessions"]
            line["sessions_attended"] += row["attended"]
        line["by_sex"][row["sex"]] = line["by_sex"].get(row["sex"], 0) + 1
        line["by_age_band"][age_band(row["age"])] += 1
        line["by_village"][row["village_code"]] = line["by_village"].get(row["village_code"], 0) + 1
    out = []
    for key in sorted(lines):
        line = lines[key]
        line["courses"] = len(line["courses"])
        line["attendance_share"] = share(line.pop("sessions_attended"), line.pop("sessions_due"))
        line["by_village"] = dict(sorted(line["by_village"].items()))
        out.append(line)
    return out


def csv_columns(by):
    keys = {"course": ["course_id", "course_title", "provider_agency", "skill_area"],
            "provider": ["provider_agency"],
            "region": ["region_code", "course_id", "course_title", "provider_agency", "skill_area"]}[by]
    return keys + ["courses", "enrolled", "waitlisted", "completed", "not_completed", "attendance_share",
                   "female", "male"] + [f"age_{b}" for b in BAND_NAMES] + ["villages"]


def csv_row(line, by):
    """A report line flattened for a spreadsheet (villages as ``code=n`` pairs)."""
    flat = dict(line, female=line["by_sex"].get("F", 0), male=line["by_sex"].get("M", 0),
                villages=" ".join(f"{code}={n}" for code, n in line["by_village"].items()),
                **{f"age_{b}": line["by_age_band"][b] for b in BAND_NAMES})
    return [_cell(flat[c]) for c in csv_columns(by)]


def _cell(value):
    """A value as a spreadsheet cell; text that a spreadsheet would run as a
    formula (a course title starting with =, +, - or @) is quoted."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
