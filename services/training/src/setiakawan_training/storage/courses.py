"""Courses and their sessions."""
from psycopg2 import sql
from psycopg2.extras import Json, execute_values

from setiakawan_kit.auth import region_patterns

COURSE_COLUMNS = ("id", "series_id", "provider_agency", "provider_kind", "partners", "title", "skill_area", "mode",
                  "region_codes", "capacity", "eligibility", "min_attendance_share", "assessment_required",
                  "funding_source", "created_by", "starts_at", "ends_at")


def _value(column, value):
    return Json(value) if column == "eligibility" else value


def insert_course(uow, row):
    uow.execute(sql.SQL("INSERT INTO courses ({}) VALUES ({})").format(
        sql.SQL(", ").join(map(sql.Identifier, COURSE_COLUMNS)), sql.SQL(", ").join([sql.Placeholder()] * len(COURSE_COLUMNS))),
        [_value(c, row[c]) for c in COURSE_COLUMNS])


def update_course(uow, course_id, stamp=None, **fields):
    """Set ``fields`` (``stamp``: a column set to now), bump the version; returns the row."""
    assignments = [sql.SQL("{} = {}").format(sql.Identifier(name), sql.Placeholder()) for name in fields]
    if stamp:
        assignments.append(sql.SQL("{} = now()").format(sql.Identifier(stamp)))
    assignments.append(sql.SQL("version = version + 1"))
    return uow.fetchone(sql.SQL("UPDATE courses SET {} WHERE id = %s RETURNING *").format(sql.SQL(", ").join(assignments)),
                        [*(_value(k, v) for k, v in fields.items()), str(course_id)])


def course(uow, course_id, lock=False):
    return uow.fetchone("SELECT * FROM courses WHERE id = %s" + (" FOR UPDATE" if lock else ""), (str(course_id),))


def set_seats_later(uow, course_id, confirmed, waitlisted):
    """The course's seat counts (under its row lock), sent with the next statement."""
    uow.prepared_later("training_set_seats", "UPDATE courses SET confirmed = $2, waitlisted = $3,"
                       " version = version + 1 WHERE id = $1", ("uuid", "integer", "integer"),
                       (str(course_id), confirmed, waitlisted))


def replace_sessions(uow, course_id, sessions):
    uow.execute("DELETE FROM sessions WHERE course_id = %s", (str(course_id),))
    execute_values(uow.cursor, "INSERT INTO sessions (id, course_id, seq, starts_at, ends_at, venue_village_code, venue)"
                   " VALUES %s", [(s["id"], str(course_id), i + 1, s["starts_at"], s["ends_at"],
                                   s["venue_village_code"], s.get("venue") or "") for i, s in enumerate(sessions)])


def sessions(uow, course_id):
    return uow.fetchall("SELECT * FROM sessions WHERE course_id = %s ORDER BY seq", (str(course_id),))


def visible_courses(uow, agency, regions, filters, limit, offset):
    """Courses the caller may see (``access.sees_course`` in SQL), newest first."""
    patterns = region_patterns(regions)
    prefixes = [code[:n] for code in regions for n in (2, 5, 8) if len(code) > n]
    return uow.fetchall(
        "SELECT c.*, count(*) OVER () AS total FROM courses c"
        " WHERE (c.provider_agency = %(agency)s OR (c.status <> 'draft' AND (%(agency)s = ANY(c.partners)"
        "   OR EXISTS (SELECT 1 FROM unnest(c.region_codes) r WHERE r LIKE ANY(%(patterns)s) OR r = ANY(%(prefixes)s)))))"
        " AND (%(status)s::text IS NULL OR c.status = %(status)s)"
        " AND (%(skill_area)s::text IS NULL OR c.skill_area = %(skill_area)s)"
        " AND (%(provider)s::text IS NULL OR c.provider_agency = %(provider)s)"
        " AND (%(series)s::uuid IS NULL OR c.series_id = %(series)s::uuid)"
        " AND (%(region)s::text IS NULL OR EXISTS (SELECT 1 FROM unnest(c.region_codes) r"
        "      WHERE r = %(region)s OR r LIKE %(region)s || '.%%' OR %(region)s LIKE r || '.%%'))"
        " ORDER BY c.created_at DESC, c.id LIMIT %(limit)s OFFSET %(offset)s",
        {"agency": agency, "patterns": patterns, "prefixes": prefixes, "limit": limit, "offset": offset,
         **{k: filters.get(k) for k in ("status", "skill_area", "provider", "region")},
         "series": str(filters["series"]) if filters.get("series") else None})


def sessions_of_courses(uow, course_ids):
    """{course_id: [session rows]}."""
    out = {}
    for row in uow.fetchall("SELECT * FROM sessions WHERE course_id = ANY(%s::uuid[]) ORDER BY course_id, seq",
                            ([str(c) for c in course_ids],)):
        out.setdefault(str(row["course_id"]), []).append(row)
    return out


def today(uow, time_zone):
    """The transaction's date where the service's agencies are (``TIME_ZONE``)."""
    return uow.fetchone("SELECT (now() AT TIME ZONE %s)::date AS today", (time_zone,))["today"]
