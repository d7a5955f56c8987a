"""Use cases of attendance. Trainers in villages often mark a sheet with no
connection and send it later: every mark carries an id made on the device,
so a sheet sent twice records once, and the mark made last on the device
is the one that counts, whenever it arrives (a correction is a new mark;
the old one stays in the history)."""
from datetime import datetime, timedelta, timezone

from setiakawan_kit.errors import Conflict, RuleBroken

from . import lookup
from .rules import access, courses as course_rules
from .storage import attendance as storage, courses as course_storage, enrolments as enrolment_storage

#: a device clock may run this far ahead of the server's
CLOCK_SKEW = timedelta(minutes=10)
SAME_MARK = ("session_id", "enrolment_id", "present", "recorded_at")


def record_sheet(uow, identity, course_id, marks):
    """Record a sheet of marks; returns how many were new and how many had
    been recorded before. A mark id sent again with different content
    refuses the whole sheet."""
    course = lookup.organised_course(uow, identity, course_id)
    if course["status"] not in course_rules.ATTENDING:
        raise Conflict(f"Attendance is recorded while a course runs; this one is {course['status']}.",
                       course_status=course["status"])
    sessions = {str(s["id"]): s for s in course_storage.sessions(uow, course_id)}
    participants = {str(e["id"]) for e in enrolment_storage.in_course(uow, course_id, ("confirmed",))}
    latest = datetime.now(timezone.utc) + CLOCK_SKEW
    problems, seen = [], {}
    for i, mark in enumerate(marks):
        mark = dict(mark, mark_id=str(mark["mark_id"]), session_id=str(mark["session_id"]),
                    enrolment_id=str(mark["enrolment_id"]))
        session = sessions.get(mark["session_id"])
        if session is None:
            problems.append({"field": f"marks.{i}.session_id", "message": "Not a session of this course."})
        elif session["starts_at"] > latest:
            problems.append({"field": f"marks.{i}.session_id", "message": "The session has not started."})
        if mark["enrolment_id"] not in participants:
            problems.append({"field": f"marks.{i}.enrolment_id", "message": "Not a confirmed participant."})
        if mark["recorded_at"] > latest:
            problems.append({"field": f"marks.{i}.recorded_at", "message": "Marked in the future."})
        twin = seen.setdefault(mark["mark_id"], mark)
        if _differs(twin, mark):
            problems.append({"field": f"marks.{i}.mark_id", "message": "The same mark id twice with different content."})
    if problems:
        raise RuleBroken(problems[0]["message"], errors=problems)
    unique = list(seen.values())
    before = storage.existing(uow, seen)
    reused = [m["mark_id"] for m in unique if m["mark_id"] in before and _differs(before[m["mark_id"]], m)]
    if reused:
        raise Conflict(f"Mark ids recorded before with different content: {', '.join(reused[:5])}.",
                       mark_ids=reused)
    recorded = storage.record(uow, [dict(m, recorded_by=identity.agency, note=m.get("note") or "")
                                    for m in unique if m["mark_id"] not in before])
    # a mark id another sheet recorded meanwhile (it committed while this one waited to insert)
    missing = [m["mark_id"] for m in unique if m["mark_id"] not in before and m["mark_id"] not in recorded]
    raced = storage.existing(uow, missing) if missing else {}
    reused = [m["mark_id"] for m in unique if m["mark_id"] in raced and _differs(raced[m["mark_id"]], m)]
    if reused:
        raise Conflict(f"Mark ids recorded before with different content: {', '.join(reused[:5])}.",
                       mark_ids=reused)
    return {"received": len(marks), "recorded": len(recorded), "already_recorded": len(unique) - len(recorded)}


def _differs(a, b):
    return any(str(a[k]) != str(b[k]) if k != "recorded_at" else a[k] != b[k] for k in SAME_MARK)


def sheet(uow, identity, course_id, history=False):
    """The current mark of each participant in each session (``history``:
    every mark, corrections included), for the participants the caller may see."""
    course = lookup.course(uow, identity, course_id)
    marks = storage.history(uow, course_id) if history else storage.current(uow, course_id)
    if not access.organises(identity, course):
        visible = {str(e["id"]) for e in enrolment_storage.in_course(uow, course_id, ("confirmed", "completed",
                                                                                     "not_completed"))
                   if identity.covers(e["village_code"])}
        marks = [m for m in marks if str(m["enrolment_id"]) in visible]
    return {"course_id": str(course_id), "history": history, "marks": marks}
