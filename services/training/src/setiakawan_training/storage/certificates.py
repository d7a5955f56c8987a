"""Completion certificates."""
from psycopg2.extras import execute_values


def insert(uow, rows):
    """rows: [(code, enrolment_id, course_id, issued_on)]."""
    execute_values(uow.cursor, "INSERT INTO certificates (code, enrolment_id, course_id, issued_on) VALUES %s", rows,
                   page_size=1000)


def by_code(uow, code, time_zone):
    """The certificate with its course (its dates in ``time_zone``) and participant's place, or None."""
    return uow.fetchone(
        "SELECT k.code, k.issued_on, k.enrolment_id, e.village_code, c.id AS course_id, c.title AS course_title,"
        " c.skill_area, c.provider_agency, c.partners, (c.starts_at AT TIME ZONE %(tz)s)::date AS starts_on,"
        " (c.ends_at AT TIME ZONE %(tz)s)::date AS ends_on"
        "  FROM certificates k JOIN enrolments e ON e.id = k.enrolment_id JOIN courses c ON c.id = k.course_id"
        " WHERE k.code = %(code)s", {"code": code, "tz": time_zone})


def of_enrolment(uow, enrolment_id):
    row = uow.fetchone("SELECT code FROM certificates WHERE enrolment_id = %s", (str(enrolment_id),))
    return row["code"] if row else None
