"""Events published by the training service (exchange ``training.events``).

Course and enrolment events carry a snapshot with a ``version`` that grows
with every change of that course or enrolment, so a consumer keeps its
read model by taking the highest version. People appear only as the
registry's opaque ``person_ref`` and ``household_id``; no event names a
person. ``participant.completed`` is what other services act on: the
distribution service makes graduates of a skill area eligible for
equipment, the notifications service tells people their result."""
from marshmallow import Schema, fields, validate

from .registry import GROUP_KINDS, REGION, SEXES
from .types import event_types

SKILL_AREAS = ("farming", "fisheries", "livestock", "crafts", "sewing", "culinary", "it", "entrepreneurship",
               "organisational_capacity", "cadre_training", "health_education", "other")
MODES = ("individual", "group")
COURSE_STATUSES = ("draft", "open", "running", "finished", "cancelled")
ENROLMENT_STATUSES = ("confirmed", "waitlisted", "cancelled", "completed", "not_completed")
CANCEL_REASONS = ("withdrawn", "no_longer_eligible", "course_cancelled", "not_admitted")


class SessionSnapshot(Schema):
    session_id = fields.UUID(required=True)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    venue_village_code = fields.String(required=True, validate=REGION)


class Eligibility(Schema):
    min_age = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(0, 150))
    max_age = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(0, 150))
    sex = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(SEXES))
    max_decile = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, 10))
    verified_only = fields.Boolean(required=True)
    group_kind = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(GROUP_KINDS))


class CompletionRule(Schema):
    min_attendance_share = fields.Float(required=True, validate=validate.Range(0, 1))
    assessment_required = fields.Boolean(required=True)


class CourseSnapshot(Schema):
    course_id = fields.UUID(required=True)
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    series_id = fields.UUID(required=True, metadata={"description": "Shared by runs of the same course in "
                                                                    "several places (its first run's id)"})
    provider_agency = fields.String(required=True)
    partners = fields.List(fields.String(), required=True)
    title = fields.String(required=True)
    skill_area = fields.String(required=True, validate=validate.OneOf(SKILL_AREAS))
    mode = fields.String(required=True, validate=validate.OneOf(MODES))
    region_codes = fields.List(fields.String(validate=REGION), required=True, validate=validate.Length(min=1))
    sessions = fields.List(fields.Nested(SessionSnapshot), required=True)
    capacity = fields.Integer(required=True, validate=validate.Range(min=1))
    eligibility = fields.Nested(Eligibility, required=True)
    completion = fields.Nested(CompletionRule, required=True)
    funding_source = fields.String(load_default=None, allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(COURSE_STATUSES))


class CourseEvent(Schema):
    course = fields.Nested(CourseSnapshot, required=True)


class CourseCancelled(CourseEvent):
    reason = fields.String(required=True)


class CourseFinished(CourseEvent):
    completed = fields.Integer(required=True, validate=validate.Range(min=0))
    not_completed = fields.Integer(required=True, validate=validate.Range(min=0))


class EnrolmentSnapshot(Schema):
    enrolment_id = fields.UUID(required=True)
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    course_id = fields.UUID(required=True)
    course_title = fields.String(required=True)
    skill_area = fields.String(required=True, validate=validate.OneOf(SKILL_AREAS))
    provider_agency = fields.String(required=True)
    first_session_at = fields.AwareDateTime(load_default=None, allow_none=True)
    person_ref = fields.UUID(required=True)
    household_id = fields.UUID(required=True)
    village_code = fields.String(required=True, validate=REGION)
    group_id = fields.UUID(load_default=None, allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(ENROLMENT_STATUSES))
    waitlist_position = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))


class EnrolmentEvent(Schema):
    enrolment = fields.Nested(EnrolmentSnapshot, required=True)


class EnrolmentConfirmed(EnrolmentEvent):
    promoted = fields.Boolean(required=True, metadata={"description": "Confirmed from the waitlist"})


class EnrolmentCancelled(EnrolmentEvent):
    previous_status = fields.String(required=True, validate=validate.OneOf(("confirmed", "waitlisted")))
    reason = fields.String(required=True, validate=validate.OneOf(CANCEL_REASONS))
    detail = fields.String(required=True, metadata={"description": "Which rule, for no_longer_eligible"})


class ParticipantResult(Schema):
    course_id = fields.UUID(required=True)
    enrolment_id = fields.UUID(required=True)
    course_title = fields.String(required=True)
    skill_area = fields.String(required=True, validate=validate.OneOf(SKILL_AREAS))
    provider_agency = fields.String(required=True)
    person_ref = fields.UUID(required=True)
    household_id = fields.UUID(required=True)
    village_code = fields.String(required=True, validate=REGION)
    group_id = fields.UUID(load_default=None, allow_none=True)
    finished_on = fields.Date(required=True)
    attendance_share = fields.Float(required=True, validate=validate.Range(0, 1))
    assessment_passed = fields.Boolean(load_default=None, allow_none=True)


class ParticipantCompleted(ParticipantResult):
    certificate_code = fields.String(required=True, metadata={"description": "Checked at GET /certificates/{code}"})


class ParticipantNotCompleted(ParticipantResult):
    reasons = fields.List(fields.String(), required=True)


_SESSION = {"session_id": "5b1f0e8e-1c7d-4a8e-9b1c-2d3e4f5a6b70", "starts_at": "2027-01-11T01:00:00+00:00",
            "ends_at": "2027-01-11T07:00:00+00:00", "venue_village_code": "63.11.01.2001"}
_COURSE = {"course_id": "c3a1d2e4-5f60-4a7b-8c9d-0e1f2a3b4c5d", "version": 2,
           "series_id": "c3a1d2e4-5f60-4a7b-8c9d-0e1f2a3b4c5d",
           "provider_agency": "Dinas Sosial Kabupaten Balangan", "partners": ["PT Adaro Indonesia"],
           "title": "Pelatihan menjahit bagi alumni LKSA", "skill_area": "sewing", "mode": "individual",
           "region_codes": ["63.11"], "sessions": [_SESSION], "capacity": 20,
           "eligibility": {"min_age": 16, "max_age": 30, "sex": None, "max_decile": 4, "verified_only": True,
                           "group_kind": None},
           "completion": {"min_attendance_share": 0.75, "assessment_required": True},
           "funding_source": "APBD Kabupaten Balangan 2027", "status": "open"}
_ENROLMENT = {"enrolment_id": "e1d2c3b4-a596-4877-8695-a4b3c2d1e0f9", "version": 1, "course_id": _COURSE["course_id"],
              "course_title": _COURSE["title"], "skill_area": "sewing", "provider_agency": _COURSE["provider_agency"],
              "first_session_at": _SESSION["starts_at"], "person_ref": "0b6f4a8e-2f3c-4a51-9f0d-5d1c7f9e2a10",
              "household_id": "7c0e7a34-5f55-4a4a-8d59-7e2f7c2a0a11", "village_code": "63.11.01.2001",
              "group_id": None, "status": "confirmed", "waitlist_position": None}
_RESULT = {"course_id": _COURSE["course_id"], "enrolment_id": _ENROLMENT["enrolment_id"],
           "course_title": _COURSE["title"], "skill_area": "sewing", "provider_agency": _COURSE["provider_agency"],
           "person_ref": _ENROLMENT["person_ref"], "household_id": _ENROLMENT["household_id"],
           "village_code": "63.11.01.2001", "group_id": None, "finished_on": "2027-02-20",
           "attendance_share": 0.9, "assessment_passed": True}

COURSE_PUBLISHED = event_types.define(
    "course.published", "training", CourseEvent, example={"course": _COURSE},
    description="A course opened for enrolment.")
COURSE_CANCELLED = event_types.define(
    "course.cancelled", "training", CourseCancelled,
    example={"course": dict(_COURSE, status="cancelled", version=3), "reason": "trainer unavailable"},
    description="A course was cancelled; each of its enrolments is cancelled too (enrolment.cancelled).")
COURSE_FINISHED = event_types.define(
    "course.finished", "training", CourseFinished,
    example={"course": dict(_COURSE, status="finished", version=4), "completed": 18, "not_completed": 2},
    description="A course finished; each participant's result follows (participant.completed or not_completed).")
ENROLMENT_CONFIRMED = event_types.define(
    "enrolment.confirmed", "training", EnrolmentConfirmed, example={"enrolment": _ENROLMENT, "promoted": False},
    description="A person holds a seat, on enrolment or promoted from the waitlist.")
ENROLMENT_WAITLISTED = event_types.define(
    "enrolment.waitlisted", "training", EnrolmentEvent,
    example={"enrolment": dict(_ENROLMENT, status="waitlisted", waitlist_position=3)},
    description="The course was full: the person waits, at this position.")
ENROLMENT_CANCELLED = event_types.define(
    "enrolment.cancelled", "training", EnrolmentCancelled,
    example={"enrolment": dict(_ENROLMENT, status="cancelled", version=2), "previous_status": "confirmed",
             "reason": "no_longer_eligible", "detail": "household decile 6 is above 4"},
    description="An enrolment ended before the course: withdrawn, no longer eligible, the course cancelled, or "
                "not admitted (still waiting when the course started).")
PARTICIPANT_COMPLETED = event_types.define(
    "participant.completed", "training", ParticipantCompleted,
    example=dict(_RESULT, certificate_code="K7QM-3XPA-9D"),
    description="A participant completed a course and holds a certificate.")
PARTICIPANT_NOT_COMPLETED = event_types.define(
    "participant.not_completed", "training", ParticipantNotCompleted,
    example=dict(_RESULT, attendance_share=0.5, assessment_passed=None,
                 reasons=["attended 5 of 10 sessions (50.0%), 75.0% needed"]),
    description="A participant did not meet the course's completion rule.")
