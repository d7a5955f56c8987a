"""Attendance marks: every mark kept, the current one of a participant in a
session being the one marked last on the trainer's device."""
from psycopg2.extras import execute_values


def record(uow, marks):
    """Insert marks not seen before (by ``mark_id``); returns the ids inserted."""
    rows = execute_values(uow.cursor,
                          "INSERT INTO attendance_marks (mark_id, session_id, enrolment_id, present, recorded_at,"
                          " recorded_by, note) VALUES %s ON CONFLICT (mark_id) DO NOTHING RETURNING mark_id",
                          [(m["mark_id"], m["session_id"], m["enrolment_id"], m["present"], m["recorded_at"],
                            m["recorded_by"], m["note"]) for m in marks], fetch=True, page_size=1000)
    return {str(r["mark_id"]) for r in rows}


def existing(uow, mark_ids):
    """{mark_id: row} of marks already recorded."""
    return {str(r["mark_id"]): r for r in uow.fetchall(
        "SELECT * FROM attendance_marks WHERE mark_id = ANY(%s::uuid[])", ([str(m) for m in mark_ids],))}


def current(uow, course_id):
    """The current mark of each participant in each session of the course."""
    return uow.fetchall(
        "SELECT DISTINCT ON (m.enrolment_id, m.session_id) m.* FROM attendance_marks m"
        "  JOIN sessions s ON s.id = m.session_id WHERE s.course_id = %s"
        " ORDER BY m.enrolment_id, m.session_id, m.recorded_at DESC, m.seq DESC", (str(course_id),))


def history(uow, course_id):
    """Every mark, corrections included, in the order they were marked."""
    return uow.fetchall(
        "SELECT m.* FROM attendance_marks m JOIN sessions s ON s.id = m.session_id WHERE s.course_id = %s"
        " ORDER BY m.recorded_at, m.seq", (str(course_id),))
