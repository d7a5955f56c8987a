"""Use cases that end a course: assessments, then finishing, when each
participant completes or not, exactly once, and each who completes gets
a certificate."""
from setiakawan_contract import training as contract
from setiakawan_kit.errors import Conflict, RuleBroken

from . import lookup, snapshots
from .rules import codes, completion as rules, courses as course_rules
from .storage import certificates as certificate_storage, courses as course_storage, enrolments as storage


def record_assessments(uow, identity, course_id, results):
    """results: [{enrolment_id, passed}] of confirmed participants."""
    course = lookup.organised_course(uow, identity, course_id)
    if course["status"] not in course_rules.ATTENDING:
        raise Conflict(f"Assessments are recorded while a course runs; this one is {course['status']}.",
                       course_status=course["status"])
    wanted = {str(r["enrolment_id"]): r["passed"] for r in results}
    updated = set(storage.set_assessments(uow, course_id, list(wanted.items())))
    strangers = [e for e in wanted if e not in updated]
    if strangers:
        raise RuleBroken(f"Not confirmed participants of this course: {', '.join(strangers[:5])}.",
                         field="results")
    return {"recorded": len(updated)}


def finish(uow, identity, course_id, time_zone):
    """Finish a running course and decide each participant's result, dated
    in ``time_zone``. A retried or concurrent request waits on the course's
    row lock, then finds it finished and answers the same results without
    deciding again."""
    course = lookup.managed_course(uow, identity, course_id)
    if course["status"] == "finished":
        return _summary(uow, course)
    try:
        course_rules.next_status(course["status"], "finish")
    except course_rules.TransitionRefused as exc:
        raise Conflict(str(exc), course_status=course["status"]) from None
    sessions = course_storage.sessions(uow, course_id)
    attended = storage.attendance_counts(uow, course_id)
    participants = storage.in_course(uow, course_id, ("confirmed",))
    finished_on = course_storage.today(uow, time_zone)
    results, certificates = [], {}
    for row in participants:
        result = rules.decide(len(sessions), attended.get(str(row["id"]), 0), float(course["min_attendance_share"]),
                              course["assessment_required"], row["assessment_passed"])
        status = "completed" if result.completed else "not_completed"
        results.append((str(row["id"]), status, result.attendance_share, list(result.reasons)))
        if result.completed:
            certificates[str(row["id"])] = codes.new_code()
    storage.record_results(uow, results)
    certificate_storage.insert(uow, [(code, enrolment_id, str(course_id), finished_on)
                                      for enrolment_id, code in certificates.items()])
    course = course_storage.update_course(uow, course_id, stamp="finished_at", status="finished",
                                          finished_on=finished_on)
    by_id = {str(r["id"]): r for r in storage.in_course(uow, course_id, ("completed", "not_completed"))}
    completed, not_completed = [], []
    for enrolment_id, status, share, reasons in results:
        data = snapshots.result(by_id[enrolment_id], course, finished_on)
        if status == "completed":
            completed.append((enrolment_id, dict(data, certificate_code=certificates[enrolment_id])))
        else:
            not_completed.append((enrolment_id, dict(data, reasons=reasons)))
    uow.publish_many(contract.PARTICIPANT_COMPLETED, completed)
    uow.publish_many(contract.PARTICIPANT_NOT_COMPLETED, not_completed)
    uow.publish(contract.COURSE_FINISHED, str(course_id),
                {"course": snapshots.course(course, sessions), "completed": len(completed),
                 "not_completed": len(not_completed)})
    return _summary(uow, course)


def _summary(uow, course):
    counts = storage.result_counts(uow, course["id"])
    return {"course_id": str(course["id"]), "status": course["status"], "finished_on": course["finished_on"],
            **counts}
