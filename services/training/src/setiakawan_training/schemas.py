"""HTTP bodies and answers of the training service (the OpenAPI document
describes them from these schemas)."""
from datetime import datetime, timezone

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from setiakawan_contract.registry import GROUP_KINDS, SEXES
from setiakawan_contract.training import COURSE_STATUSES, ENROLMENT_STATUSES, MODES, SKILL_AREAS
from setiakawan_kit.regions import region, village

from .rules import reports


def _not_blank(text):
    if not text.strip():
        raise ValidationError("Must not be blank.")


TEXT = validate.And(validate.Length(1, 300), _not_blank)
#: times PostgreSQL and Python both hold (a year 10000 in UTC is stored, then unreadable)
TIME = validate.Range(datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc),
                      error="Must be between 2000 and 2100.")


class SessionIn(Schema):
    starts_at = fields.AwareDateTime(required=True, validate=TIME)
    ends_at = fields.AwareDateTime(required=True, validate=TIME)
    venue_village_code = fields.String(required=True, validate=village)
    venue = fields.String(load_default="", validate=validate.Length(0, 300))


class EligibilityIn(Schema):
    min_age = fields.Integer(strict=True, load_default=None, allow_none=True, validate=validate.Range(0, 150))
    max_age = fields.Integer(strict=True, load_default=None, allow_none=True, validate=validate.Range(0, 150))
    sex = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(SEXES))
    max_decile = fields.Integer(strict=True, load_default=None, allow_none=True, validate=validate.Range(1, 10))
    verified_only = fields.Boolean(load_default=False)
    group_kind = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(GROUP_KINDS))


class CompletionIn(Schema):
    min_attendance_share = fields.Float(load_default=0.75, validate=validate.Range(0, 1))
    assessment_required = fields.Boolean(load_default=False)


def _defaults(schema):
    """A nested body's defaults when it is left out (marshmallow would give {})."""
    return lambda: schema().load({})


class CourseIn(Schema):
    title = fields.String(required=True, validate=TEXT)
    skill_area = fields.String(required=True, validate=validate.OneOf(SKILL_AREAS))
    mode = fields.String(load_default="individual", validate=validate.OneOf(MODES),
                         metadata={"description": "individual participants, or community groups sending members"})
    region_codes = fields.List(fields.String(validate=region), required=True, validate=validate.Length(1, 100),
                               metadata={"description": "Where participants come from, at any Kemendagri level"})
    sessions = fields.List(fields.Nested(SessionIn), required=True, validate=validate.Length(1, 200))
    capacity = fields.Integer(strict=True, required=True, validate=validate.Range(1, 10_000))
    eligibility = fields.Nested(EligibilityIn, load_default=_defaults(EligibilityIn))
    completion = fields.Nested(CompletionIn, load_default=_defaults(CompletionIn))
    funding_source = fields.String(load_default=None, allow_none=True, validate=TEXT)
    partners = fields.List(fields.String(validate=TEXT), load_default=list, validate=validate.Length(0, 20),
                           metadata={"description": "Co-organising agencies: they record attendance too"})


class RunIn(Schema):
    region_codes = fields.List(fields.String(validate=region), required=True, validate=validate.Length(1, 100))
    sessions = fields.List(fields.Nested(SessionIn), required=True, validate=validate.Length(1, 200))
    capacity = fields.Integer(strict=True, validate=validate.Range(1, 10_000))


class SessionOut(Schema):
    id = fields.UUID()
    seq = fields.Integer()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    venue_village_code = fields.String()
    venue = fields.String()


class CourseOut(Schema):
    id = fields.UUID()
    series_id = fields.UUID(metadata={"description": "The same course run in several places shares it"})
    version = fields.Integer()
    provider_agency = fields.String()
    provider_kind = fields.String()
    partners = fields.List(fields.String())
    title = fields.String()
    skill_area = fields.String()
    mode = fields.String()
    region_codes = fields.List(fields.String())
    capacity = fields.Integer()
    confirmed = fields.Integer()
    waitlisted = fields.Integer()
    eligibility = fields.Dict()
    min_attendance_share = fields.Float()
    assessment_required = fields.Boolean()
    funding_source = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(COURSE_STATUSES)})
    starts_at = fields.DateTime(allow_none=True)
    ends_at = fields.DateTime(allow_none=True)
    sessions = fields.List(fields.Nested(SessionOut))
    created_at = fields.DateTime()
    published_at = fields.DateTime(allow_none=True)
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)


class CoursePage(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    items = fields.List(fields.Nested(CourseOut))


class PageQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 500))


class CourseQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(COURSE_STATUSES))
    skill_area = fields.String(validate=validate.OneOf(SKILL_AREAS))
    provider = fields.String(validate=TEXT)
    region = fields.String(validate=region)
    series = fields.UUID(metadata={"description": "The runs of one course in several places"})


class CancelIn(Schema):
    reason = fields.String(required=True, validate=TEXT)


class EnrolIn(Schema):
    person_ref = fields.UUID(required=True, metadata={"description": "The registry's reference of the person"})


class GroupEnrolIn(Schema):
    group_id = fields.UUID(required=True)
    member_refs = fields.List(fields.UUID(), required=True, validate=validate.Length(1, 200),
                              metadata={"description": "The members the group sends"})


class EnrolmentOut(Schema):
    id = fields.UUID()
    course_id = fields.UUID()
    person_ref = fields.UUID()
    household_id = fields.UUID()
    village_code = fields.String()
    group_id = fields.UUID(allow_none=True)
    status = fields.String(metadata={"enum": list(ENROLMENT_STATUSES)})
    waitlist_position = fields.Integer(allow_none=True)
    requested_by = fields.String()
    requested_at = fields.DateTime()
    confirmed_at = fields.DateTime(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)
    end_reason = fields.String(allow_none=True)
    end_detail = fields.String(allow_none=True)
    assessment_passed = fields.Boolean(allow_none=True)
    attendance_share = fields.Float(allow_none=True)
    result_reasons = fields.List(fields.String(), allow_none=True)
    certificate_code = fields.String(allow_none=True)


class GroupEnrolmentOut(Schema):
    group_id = fields.UUID()
    enrolments = fields.List(fields.Nested(EnrolmentOut))


class EnrolmentPage(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    items = fields.List(fields.Nested(EnrolmentOut))


class EnrolmentQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(ENROLMENT_STATUSES))


class WithdrawalOut(Schema):
    enrolment = fields.Nested(EnrolmentOut)
    promoted = fields.List(fields.Nested(EnrolmentOut))


class MarkIn(Schema):
    mark_id = fields.UUID(required=True, metadata={"description": "Made on the trainer's device, once per mark"})
    session_id = fields.UUID(required=True)
    enrolment_id = fields.UUID(required=True)
    present = fields.Boolean(required=True)
    recorded_at = fields.AwareDateTime(required=True, validate=TIME,
                                       metadata={"description": "When marked, by the device clock"})
    note = fields.String(load_default="", validate=validate.Length(0, 500))


class SheetIn(Schema):
    marks = fields.List(fields.Nested(MarkIn), required=True, validate=validate.Length(1, 5000))


class SheetOut(Schema):
    received = fields.Integer()
    recorded = fields.Integer()
    already_recorded = fields.Integer()


class MarkOut(Schema):
    mark_id = fields.UUID()
    session_id = fields.UUID()
    enrolment_id = fields.UUID()
    present = fields.Boolean()
    recorded_at = fields.DateTime()
    received_at = fields.DateTime()
    recorded_by = fields.String()
    note = fields.String()


class AttendanceQuery(Schema):
    history = fields.Boolean(load_default=False, metadata={"description": "Every mark, corrections included"})


class AttendanceOut(Schema):
    course_id = fields.UUID()
    history = fields.Boolean()
    marks = fields.List(fields.Nested(MarkOut))


class AssessmentIn(Schema):
    enrolment_id = fields.UUID(required=True)
    passed = fields.Boolean(required=True)


class AssessmentsIn(Schema):
    results = fields.List(fields.Nested(AssessmentIn), required=True, validate=validate.Length(1, 5000))


class AssessmentsOut(Schema):
    recorded = fields.Integer()


class FinishOut(Schema):
    course_id = fields.UUID()
    status = fields.String()
    finished_on = fields.Date()
    completed = fields.Integer()
    not_completed = fields.Integer()


class CertificateOut(Schema):
    valid = fields.Boolean()
    code = fields.String()
    course_id = fields.UUID()
    course_title = fields.String()
    skill_area = fields.String()
    provider_agency = fields.String()
    partners = fields.List(fields.String())
    starts_on = fields.Date()
    ends_on = fields.Date()
    completed_on = fields.Date()


class ReportQuery(Schema):
    by = fields.String(load_default="course", validate=validate.OneOf(reports.GROUPINGS))
    level = fields.String(load_default="district", validate=validate.OneOf(tuple(reports.LEVELS)),
                          metadata={"description": "The region level of by=region"})
    region = fields.String(load_default=None, validate=region,
                           metadata={"description": "Only participants living in this region"})
    skill_area = fields.String(load_default=None, validate=validate.OneOf(SKILL_AREAS))
    provider = fields.String(load_default=None, validate=TEXT)
    course_id = fields.UUID(load_default=None)
    since = fields.Date(load_default=None, metadata={"description": "Courses starting on or after this day"})
    until = fields.Date(load_default=None, metadata={"description": "Courses starting on or before this day"})

    @validates_schema
    def ordered(self, data, **kwargs):
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise ValidationError("since is after until.", "until")


class ReportLine(Schema):
    region_code = fields.String()
    course_id = fields.String()
    course_title = fields.String()
    provider_agency = fields.String()
    skill_area = fields.String()
    courses = fields.Integer()
    enrolled = fields.Integer()
    waitlisted = fields.Integer()
    completed = fields.Integer()
    not_completed = fields.Integer()
    attendance_share = fields.Float(allow_none=True)
    by_sex = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_age_band = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_village = fields.Dict(keys=fields.String(), values=fields.Integer())


class ReportOut(Schema):
    by = fields.String()
    level = fields.String(allow_none=True)
    lines = fields.List(fields.Nested(ReportLine))
