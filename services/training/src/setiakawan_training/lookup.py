"""Finding a course or an enrolment as the caller may see it: one answer,
404, for what does not exist and what the caller may not see."""
from setiakawan_kit.errors import NotFound, OutOfScope

from .rules import access
from .storage import courses as course_storage, enrolments as enrolment_storage


def course(uow, identity, course_id, lock=False):
    return _visible(identity, course_id, course_storage.course(uow, course_id, lock=lock))


def course_for_people(uow, identity, course_id, person_refs):
    """The course, locked after the people's locks (see ``enrolments``)."""
    return _visible(identity, course_id, enrolment_storage.lock_people_then_course(uow, person_refs, course_id))


def _visible(identity, course_id, row):
    if row is None or not access.sees_course(identity, row):
        raise NotFound(f"No course {course_id} you may see.")
    return row


def managed_course(uow, identity, course_id):
    """The course, locked, if the caller's agency provides it."""
    row = course(uow, identity, course_id, lock=True)
    if not access.manages(identity, row):
        raise OutOfScope(f"Only the provider, {row['provider_agency']}, may change this course "
                         "(its admin or operator).")
    return row


def organised_course(uow, identity, course_id):
    """The course, locked, if the caller's agency provides it or co-organises it."""
    row = course(uow, identity, course_id, lock=True)
    if not access.records_attendance(identity, row):
        raise OutOfScope("Only the course's provider and partners record attendance and assessments.")
    return row


def enrolment(uow, identity, enrolment_id):
    """(enrolment, its course) if the caller may see the participant."""
    row = enrolment_storage.enrolment(uow, enrolment_id)
    if row is not None:
        found = course_storage.course(uow, row["course_id"])
        if access.sees_course(identity, found) and access.sees_participant(identity, found, row["village_code"]):
            return row, found
    raise NotFound(f"No enrolment {enrolment_id} you may see.")
