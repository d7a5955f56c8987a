"""Enrolments: seats, the waitlist, results."""
import hashlib

from psycopg2 import sql
from psycopg2.extras import execute_values

from .people import PERSON_OF

ENROLMENT_COLUMNS = ("id", "course_id", "person_ref", "household_id", "village_code", "age", "sex", "group_id",
                     "status", "requested_by")


def _person_key(person_ref):
    return int.from_bytes(hashlib.blake2b(str(person_ref).encode(), digest_size=8).digest(), "big", signed=True)


LOCK_PEOPLE = "SELECT pg_advisory_xact_lock(k) FROM unnest($1) AS k ORDER BY k"


def lock_people(uow, person_refs):
    """Serialise changes to these people's enrolments until the transaction
    ends (two overlapping courses enrolled at once, a registry event about a
    person being enrolled). Always taken before any course's row lock, in
    one order, so two transactions never wait on each other in a circle."""
    keys = sorted({_person_key(p) for p in person_refs})
    uow.prepared("training_lock_people", LOCK_PEOPLE, ("bigint[]",), (keys,))


def lock_people_then_course(uow, person_refs, course_id):
    """``lock_people``, then the course's row lock, in one round trip; the
    course, or None, with ``transaction_began`` (``now()``). Its
    ``candidates`` are those of ``person_refs`` the read model knows
    (``people.PEOPLE_OF``), each with ``clashing_title``: a course they hold
    a seat in whose sessions overlap this one's, or None; and
    ``live_enrolment_id``: their confirmed or waitlisted enrolment in this
    course, or None (their locks held, nobody else can enrol them now)."""
    keys = sorted({_person_key(p) for p in person_refs})
    return uow.prepared_in_turn([
        ("training_lock_people", LOCK_PEOPLE, ("bigint[]",), (keys,)),
        ("training_course_and_candidates", COURSE_AND_CANDIDATES, ("uuid", "uuid[]"),
         (str(course_id), [str(p) for p in person_refs])),
    ]).fetchone()


def try_lock_person(uow, person_ref):
    """The person's lock if it is free (or held by this transaction already);
    False if another transaction holds it. For a course's row lock holder,
    which may not wait for a person."""
    return uow.fetchone("SELECT pg_try_advisory_xact_lock(%s) AS locked", (_person_key(person_ref),))["locked"]


NEW_ENROLMENT_COLUMNS = (*ENROLMENT_COLUMNS, "requested_at", "confirmed_at")


def new_enrolment(enrolment_id, course_id, person, group_id, status, agency, now):
    """An enrolment's row as ``insert_later`` writes it and the
    database would answer it; ``now``: the transaction's ``now()``."""
    return {"id": enrolment_id, "course_id": str(course_id), "person_ref": person.person_ref,
            "household_id": person.household_id, "village_code": person.village_code, "age": person.age,
            "sex": person.sex, "group_id": group_id, "status": status, "version": 1, "requested_by": agency,
            "requested_at": now, "confirmed_at": now if status == "confirmed" else None, "ended_at": None,
            "end_reason": None, "end_detail": None, "assessment_passed": None, "attendance_share": None,
            "result_reasons": None, "certificate_code": None}


def insert_later(uow, rows):
    """Insert enrolments (``NEW_ENROLMENT_COLUMNS``), in this order in the
    queue, with the transaction's next statement or its commit: the caller
    holds the people's locks and knows none of them holds a live enrolment
    in the course (the unique index would fail the transaction)."""
    uow.later_values(f"INSERT INTO enrolments ({', '.join(NEW_ENROLMENT_COLUMNS)}) VALUES %s",
                     f"({', '.join(['%s'] * len(NEW_ENROLMENT_COLUMNS))})",
                     [tuple(r[c] for c in NEW_ENROLMENT_COLUMNS) for r in rows])


def enrolment(uow, enrolment_id, lock=False):
    return uow.fetchone("SELECT * FROM enrolments WHERE id = %s" + (" FOR UPDATE" if lock else ""),
                        (str(enrolment_id),))


# A seat in another course whose sessions overlap this course's ($1): an
# end touching a start is no overlap (a morning session and the afternoon's).
CLASH_OF = """
SELECT c.title FROM enrolments e JOIN courses c ON c.id = e.course_id
  JOIN sessions theirs ON theirs.course_id = e.course_id
  JOIN sessions ours ON ours.course_id = $1::uuid
 WHERE e.person_ref = {person} AND e.status = 'confirmed' AND e.course_id <> $1::uuid
   AND theirs.starts_at < ours.ends_at AND ours.starts_at < theirs.ends_at
 LIMIT 1
"""

CLASHING = f"""
SELECT r.person_ref, clash.title FROM unnest($2::uuid[]) AS r(person_ref)
  JOIN LATERAL ({CLASH_OF.format(person="r.person_ref")}) clash ON true
"""

COURSE_AND_CANDIDATES = f"""
SELECT course.*, now() AS transaction_began, (
  SELECT coalesce(jsonb_agg(candidate), '[]') FROM (
    SELECT p.*, ({CLASH_OF.format(person="p.person_ref")}) AS clashing_title,
           (SELECT e.id FROM enrolments e WHERE e.course_id = $1 AND e.person_ref = p.person_ref
               AND e.status <> 'cancelled') AS live_enrolment_id
      FROM unnest($2::uuid[]) AS wanted(person_ref)
     CROSS JOIN LATERAL ({PERSON_OF.format(person="wanted.person_ref")}) p) candidate
  ) AS candidates
  FROM courses course WHERE course.id = $1 FOR UPDATE
"""


def clashing(uow, course_id, person_refs):
    """{person_ref: title of a course} for those of ``person_refs`` who hold a
    seat in another course whose sessions overlap this course's."""
    rows = uow.prepared("training_clashing", CLASHING, ("uuid", "uuid[]"),
                        (str(course_id), [str(p) for p in person_refs])).fetchall()
    return {str(r["person_ref"]): r["title"] for r in rows}


def set_status(uow, enrolment_id, status, stamp=None, **fields):
    """Set the status (and ``fields``), ``stamp`` a column set to now; returns the row."""
    assignments = [sql.SQL("{} = {}").format(sql.Identifier(name), sql.Placeholder(name)) for name in fields]
    if stamp:
        assignments.append(sql.SQL("{} = now()").format(sql.Identifier(stamp)))
    query = sql.SQL("UPDATE enrolments SET status = %(status)s, version = version + 1{} WHERE id = %(id)s"
                    " RETURNING *").format(sql.SQL("").join(sql.SQL(", ") + a for a in assignments))
    return uow.fetchone(query, dict(fields, status=status, id=str(enrolment_id)))


def waitlist(uow, course_id):
    return uow.fetchall("SELECT * FROM enrolments WHERE course_id = %s AND status = 'waitlisted' ORDER BY queue_seq",
                        (str(course_id),))


def waitlist_position(uow, course_id, queue_seq):
    return uow.fetchone("SELECT count(*) AS n FROM enrolments WHERE course_id = %s AND status = 'waitlisted'"
                        " AND queue_seq <= %s", (str(course_id), queue_seq))["n"]


def in_course(uow, course_id, statuses, limit=None, offset=0, village_patterns=None):
    return uow.fetchall(
        "SELECT e.*, k.code AS certificate_code, count(*) OVER () AS total"
        "  FROM enrolments e LEFT JOIN certificates k ON k.enrolment_id = e.id"
        " WHERE e.course_id = %s AND e.status = ANY(%s) AND (%s::text[] IS NULL OR e.village_code LIKE ANY(%s::text[]))"
        " ORDER BY e.queue_seq LIMIT %s OFFSET %s",
        (str(course_id), list(statuses), village_patterns, village_patterns, limit, offset))


def live_of_people(uow, person_refs, course_statuses):
    """Live (confirmed or waitlisted) enrolments of these people in courses in ``course_statuses``."""
    return uow.fetchall(
        "SELECT e.* FROM enrolments e JOIN courses c ON c.id = e.course_id"
        " WHERE e.person_ref = ANY(%s::uuid[]) AND e.status IN ('confirmed', 'waitlisted') AND c.status = ANY(%s)"
        " ORDER BY e.course_id",
        ([str(p) for p in person_refs], list(course_statuses)))


def set_assessments(uow, course_id, results):
    """results: [(enrolment_id, passed)] of confirmed participants; returns the ids updated."""
    rows = execute_values(uow.cursor,
                          "UPDATE enrolments e SET assessment_passed = v.passed"
                          "  FROM (VALUES %s) AS v(id, passed, course_id)"
                          " WHERE e.id = v.id::uuid AND e.course_id = v.course_id::uuid AND e.status = 'confirmed'"
                          " RETURNING e.id", [(str(i), p, str(course_id)) for i, p in results], fetch=True)
    return [str(r["id"]) for r in rows]


def attendance_counts(uow, course_id):
    """{enrolment_id: sessions attended} of the confirmed participants,
    counting each session's current mark (the one marked last on the device)."""
    return {str(r["enrolment_id"]): r["attended"] for r in uow.fetchall(
        "SELECT e.id AS enrolment_id, count(cur.session_id) FILTER (WHERE cur.present) AS attended"
        "  FROM enrolments e LEFT JOIN LATERAL ("
        "    SELECT DISTINCT ON (m.session_id) m.session_id, m.present FROM attendance_marks m"
        "     WHERE m.enrolment_id = e.id ORDER BY m.session_id, m.recorded_at DESC, m.seq DESC) cur ON true"
        " WHERE e.course_id = %s AND e.status = 'confirmed' GROUP BY e.id", (str(course_id),))}


def record_results(uow, results):
    """results: [(enrolment_id, status, attendance_share, reasons)]."""
    execute_values(uow.cursor,
                   "UPDATE enrolments e SET status = v.status, attendance_share = v.share, result_reasons = v.reasons,"
                   " version = e.version + 1, ended_at = now()"
                   " FROM (VALUES %s) AS v(id, status, share, reasons) WHERE e.id = v.id::uuid",
                   results, template="(%s, %s, %s::numeric, %s::text[])", page_size=1000)


def result_counts(uow, course_id):
    return uow.fetchone("SELECT count(*) FILTER (WHERE status = 'completed') AS completed,"
                        " count(*) FILTER (WHERE status = 'not_completed') AS not_completed"
                        " FROM enrolments WHERE course_id = %s", (str(course_id),))
