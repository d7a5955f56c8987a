"""HTTP queries and answers of the coordination service (the OpenAPI
document describes them from these schemas)."""
from marshmallow import Schema, ValidationError, fields, validate

from setiakawan_kit.regions import region

from .rules import periods


def _period(text):
    try:
        period = periods.parse(text)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    if not 2000 <= period.starts_on.year <= 2100:
        raise ValidationError("Must be between 2000 and 2100.")


class CoverageQuery(Schema):
    region = fields.String(required=True, validate=region,
                           metadata={"description": "A Kemendagri code at any level: 62, 62.13, 62.13.01, "
                                                    "62.13.01.2003"})
    period = fields.String(load_default=None, validate=_period,
                           metadata={"description": "2026-12 (a month), 2026-Q4 or 2026; default: this month"})
    gap_decile = fields.Integer(load_default=None, validate=validate.Range(1, 10),
                                metadata={"description": "Poor: decile at most this (default: the service's "
                                                         "GAP_DECILE_MAX, 4)"})


class RegionRef(Schema):
    code = fields.String()
    name = fields.String()


class RegionOut(RegionRef):
    level = fields.String()
    parents = fields.List(fields.Nested(RegionRef))


class PeriodOut(Schema):
    label = fields.String()
    starts_on = fields.String()
    ends_on = fields.String()


class AreaLine(Schema):
    code = fields.String()
    name = fields.String()
    households = fields.Integer()
    poor_households = fields.Integer(metadata={"description": "Verified, decile at most gap_decile"})
    households_reached = fields.Integer(metadata={"description": "By a benefit or a course seat in the period"})
    households_delivered = fields.Integer()
    gaps = fields.Integer(metadata={"description": "Poor households nobody reached in the period"})
    gap_share = fields.Float(allow_none=True)
    gap_level = fields.String(metadata={"description": "none, some or high (half or more of the poor)"})
    persons_trained = fields.Integer()
    persons_completed = fields.Integer()
    groups_reached = fields.Integer()
    agencies = fields.Integer()


class AgencyLine(Schema):
    agency = fields.String()
    kind = fields.String(allow_none=True, metadata={
        "description": "province, district, village, ngo or csr, as the agency's token names it on the events it "
                       "publishes (ce-agencykind); else as its programmes' funding sources agree; null when neither "
                       "tells"})
    programmes = fields.Integer()
    courses = fields.Integer()
    households_reached = fields.Integer()


class CategoryLine(Schema):
    category = fields.String()
    programmes = fields.Integer()
    planned = fields.Integer()
    delivered = fields.Integer()
    blocked = fields.Integer()


class SkillAreaLine(Schema):
    skill_area = fields.String()
    courses = fields.Integer()
    enrolled = fields.Integer()
    completed = fields.Integer()


class OverlapLine(Schema):
    agencies = fields.List(fields.String())
    categories = fields.List(fields.String())
    households = fields.Integer()


class ProgrammeLine(Schema):
    programme_id = fields.String(metadata={"format": "uuid"})
    name = fields.String()
    agency = fields.String()
    kind = fields.String()
    category = fields.String()
    status = fields.String()
    starts_on = fields.String(metadata={"format": "date"})
    ends_on = fields.String(metadata={"format": "date"})
    budget = fields.Integer(allow_none=True)
    planned = fields.Integer(metadata={"description": "Households (or groups) issued or delivered a benefit in the region"})
    delivered = fields.Integer()
    blocked = fields.Integer(metadata={"description": "Kept from a second benefit of its category by the ledger"})
    amount_planned = fields.Integer(metadata={"description": "Rupiah of the issued and delivered entitlements there"})


class CourseLine(Schema):
    course_id = fields.String(metadata={"format": "uuid"})
    title = fields.String()
    provider_agency = fields.String()
    skill_area = fields.String()
    status = fields.String()
    capacity = fields.Integer()
    first_session_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    last_session_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    enrolled = fields.Integer(metadata={"description": "Persons of the region seated"})
    waitlisted = fields.Integer()
    completed = fields.Integer()


class CoverageOut(Schema):
    region = fields.Nested(RegionOut)
    period = fields.Nested(PeriodOut)
    gap_decile = fields.Integer()
    totals = fields.Nested(AreaLine)
    areas = fields.List(fields.Nested(AreaLine))
    agencies = fields.List(fields.Nested(AgencyLine))
    programmes_by_category = fields.List(fields.Nested(CategoryLine))
    courses_by_skill_area = fields.List(fields.Nested(SkillAreaLine))
    overlaps_prevented = fields.List(fields.Nested(OverlapLine))
    programmes = fields.List(fields.Nested(ProgrammeLine), metadata={"description": "Each programme at work there"})
    courses = fields.List(fields.Nested(CourseLine), metadata={"description": "Each course at work there"})


class RebuildOut(Schema):
    events = fields.Integer(metadata={"description": "The logged events applied again"})
