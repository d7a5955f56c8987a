"""The rows reports are made from."""
from setiakawan_kit.auth import region_patterns

# Each live or finished enrolment the caller may see, with the sessions its
# course has held so far and how many of them the participant attended
# (current marks).
PARTICIPANTS = """
SELECT e.course_id, c.title AS course_title, c.provider_agency, c.skill_area, e.status, e.sex, e.age,
       e.village_code, c.status IN ('running', 'finished') AS course_started,
       (SELECT count(*) FROM sessions s WHERE s.course_id = c.id
         AND (c.status = 'finished' OR s.starts_at <= now())) AS sessions,
       (SELECT count(*) FROM (SELECT DISTINCT ON (m.session_id) m.present FROM attendance_marks m
                               WHERE m.enrolment_id = e.id ORDER BY m.session_id, m.recorded_at DESC, m.seq DESC) cur
         WHERE cur.present) AS attended
  FROM enrolments e JOIN courses c ON c.id = e.course_id
 WHERE e.status <> 'cancelled' AND c.status NOT IN ('draft', 'cancelled')
   AND (e.village_code LIKE ANY(%(patterns)s) OR c.provider_agency = %(agency)s OR %(agency)s = ANY(c.partners))
   AND (%(region)s::text IS NULL OR e.village_code = %(region)s OR e.village_code LIKE %(region)s || '.%%')
   AND (%(skill_area)s::text IS NULL OR c.skill_area = %(skill_area)s)
   AND (%(provider)s::text IS NULL OR c.provider_agency = %(provider)s)
   AND (%(course_id)s::uuid IS NULL OR c.id = %(course_id)s::uuid)
   AND (%(since)s::date IS NULL OR c.starts_at >= %(since)s::date)
   AND (%(until)s::date IS NULL OR c.starts_at < %(until)s::date + 1)
"""


def participants(uow, agency, regions, filters):
    patterns = region_patterns(regions)
    values = {k: filters.get(k) for k in ("region", "skill_area", "provider", "since", "until")}
    course_id = filters.get("course_id")
    return uow.fetchall(PARTICIPANTS, {"agency": agency, "patterns": patterns, **values,
                                       "course_id": str(course_id) if course_id else None})
