"""HTTP bodies and answers of the distribution service (the OpenAPI
document describes them from these schemas)."""
from datetime import date, datetime, timezone

from lokal.nik import is_valid_nik
from marshmallow import Schema, ValidationError, fields, validate

from setiakawan_contract.distribution import (BENEFICIARY_KINDS, CASH_BASES, CATEGORIES, ENTITLEMENT_STATUSES,
                                              FUNDING_SOURCES, KINDS, PROGRAMME_STATUSES)
from setiakawan_contract.registry import GROUP_KINDS
from setiakawan_kit.regions import region, village

from . import snapshots
from .rules import eligibility
from .rules.stock import MANUAL_MOVES, decimal_text


def _not_blank(text):
    if not text.strip():
        raise ValidationError("Must not be blank.")


def _nik(value):
    if not is_valid_nik(value):
        raise ValidationError("Not a NIK: 16 digits with a real district and birth date.")


TEXT = validate.And(validate.Length(1, 300), _not_blank)
#: dates and times PostgreSQL and Python both hold
DAY = validate.Range(date(2000, 1, 1), date(2100, 1, 1), error="Must be between 2000 and 2100.")
TIME = validate.Range(datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc),
                      error="Must be between 2000 and 2100.")
def _positive(value):
    # a Python check: a Range of Decimals would be documented as strings
    if not 0 < value <= 10**9:
        raise ValidationError("Must be above 0 and at most 1000000000.")


def _not_negative(value):
    if not 0 <= value <= 10**9:
        raise ValidationError("Must be from 0 to 1000000000.")


QUANTITY = fields.Decimal(required=True, places=3, allow_nan=False, validate=_positive)
RUPIAH = validate.Range(1, 10**15)


class ItemIn(Schema):
    item = fields.String(required=True, validate=TEXT, metadata={"description": "beras, minyak goreng, mesin jahit …"})
    quantity = fields.Decimal(required=True, places=3, allow_nan=False, validate=_positive)
    unit = fields.String(required=True, validate=validate.And(validate.Length(1, 20), _not_blank))


class CashIn(Schema):
    basis = fields.String(required=True, validate=validate.OneOf(CASH_BASES))
    amount = fields.Integer(strict=True, required=True, validate=RUPIAH, metadata={"description": "Rupiah"})


class PeriodIn(Schema):
    starts_on = fields.Date(required=True, validate=DAY)
    ends_on = fields.Date(required=True, validate=DAY, metadata={"description": "The last day, included"})


class ProgrammeIn(Schema):
    name = fields.String(required=True, validate=TEXT)
    funding_source = fields.String(required=True, validate=validate.OneOf(FUNDING_SOURCES))
    partners = fields.List(fields.String(validate=TEXT), load_default=list, validate=validate.Length(0, 20),
                           metadata={"description": "Co-funding partner agencies"})
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    items = fields.List(fields.Nested(ItemIn), load_default=list, validate=validate.Length(0, 30))
    cash = fields.Nested(CashIn, load_default=None, allow_none=True)
    group_kind = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(GROUP_KINDS))
    group_ids = fields.List(fields.UUID(), load_default=None, allow_none=True, validate=validate.Length(1, 1000))
    period = fields.Nested(PeriodIn, required=True)
    region_codes = fields.List(fields.String(validate=region), required=True, validate=validate.Length(1, 100))
    rule = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, eligibility.MAX_LENGTH),
                         metadata={"description": "Who is eligible, in CEL over household (README: eligibility "
                                                  "rules), e.g. household.decile <= 4 && household.verified"})
    quota = fields.Integer(strict=True, load_default=None, allow_none=True, validate=validate.Range(1, 10**7))
    budget = fields.Integer(strict=True, load_default=None, allow_none=True, validate=RUPIAH)
    stacks = fields.Boolean(load_default=False, metadata={
        "description": "May a beneficiary hold it with another programme of its category in the same period "
                       "(only if that one stacks too)"})
    point_id = fields.UUID(load_default=None, allow_none=True,
                           metadata={"description": "The distribution point its items are collected from"})


class ProgrammeOut(Schema):
    id = fields.UUID()
    version = fields.Integer()
    agency = fields.String()
    partners = fields.List(fields.String())
    funding_source = fields.String()
    name = fields.String()
    kind = fields.String()
    category = fields.String()
    items = fields.Function(lambda row: snapshots.items(row["items"]))
    cash = fields.Function(lambda row: {"basis": row["cash_basis"], "amount": row["cash_amount"]}
                           if row["cash_basis"] else None)
    group_kind = fields.String(allow_none=True)
    group_ids = fields.List(fields.UUID(), allow_none=True)
    period = fields.Function(lambda row: {"starts_on": row["starts_on"].isoformat(),
                                          "ends_on": row["ends_on"].isoformat()})
    region_codes = fields.List(fields.String())
    rule = fields.String()
    quota = fields.Integer(allow_none=True)
    budget = fields.Integer(allow_none=True)
    stacks = fields.Boolean()
    point_id = fields.UUID(allow_none=True)
    status = fields.String(metadata={"enum": list(PROGRAMME_STATUSES)})
    created_at = fields.DateTime()
    activated_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    issued = fields.Integer(metadata={"description": "On activation: entitlements issued"})
    blocked = fields.Integer(metadata={"description": "On activation: beneficiaries blocked by another programme"})
    revoked = fields.Integer(metadata={"description": "On close: undelivered entitlements revoked"})


class PageQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 500))


class ProgrammeQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(PROGRAMME_STATUSES))
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    owner = fields.String(validate=TEXT, metadata={"description": "The owning agency"})


class ProgrammePage(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    items = fields.List(fields.Nested(ProgrammeOut))


class VillageCount(Schema):
    village_code = fields.String()
    count = fields.Integer()


class PreviewOut(Schema):
    programme_id = fields.UUID()
    rule = fields.String()
    total = fields.Integer()
    by_village = fields.List(fields.Nested(VillageCount))


class RuleHelpOut(Schema):
    fields_ = fields.Dict(data_key="fields", keys=fields.String(), values=fields.String())
    functions = fields.Dict(keys=fields.String(), values=fields.String())
    examples = fields.List(fields.String())


class BlockedByOut(Schema):
    entitlement_id = fields.UUID(attribute="blocked_by")
    programme_id = fields.UUID(attribute="blocker_programme_id")
    programme_name = fields.String(attribute="blocker_programme_name")
    agency = fields.String(attribute="blocker_agency")


class EntitlementOut(Schema):
    id = fields.UUID()
    version = fields.Integer()
    programme_id = fields.UUID()
    programme_name = fields.String()
    agency = fields.String()
    kind = fields.String()
    category = fields.String()
    beneficiary_kind = fields.String(metadata={"enum": list(BENEFICIARY_KINDS)})
    beneficiary_id = fields.UUID()
    village_code = fields.String()
    amount = fields.Integer(allow_none=True, metadata={"description": "Rupiah"})
    items = fields.Function(lambda row: snapshots.items(row["items"]))
    period = fields.Function(lambda row: {"starts_on": row["starts_on"].isoformat(),
                                          "ends_on": row["ends_on"].isoformat()})
    status = fields.String(metadata={"enum": list(ENTITLEMENT_STATUSES)})
    blocked_by = fields.Function(lambda row: BlockedByOut().dump(row) if row.get("blocked_by") else None)
    reason = fields.String(allow_none=True)
    issued_at = fields.DateTime()
    changed_at = fields.DateTime()


class EntitlementQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(ENTITLEMENT_STATUSES))
    village_code = fields.String(validate=village)


class EntitlementPage(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    items = fields.List(fields.Nested(EntitlementOut))


class DeliveryIn(Schema):
    idempotency_key = fields.String(required=True, validate=validate.Length(8, 100), metadata={
        "description": "Made by the device for this handover: a request retried with it delivers once"})
    recipient_ref = fields.UUID(required=True, metadata={"description": "The person_ref of who collects it"})
    nik = fields.String(required=True, validate=_nik, load_only=True, metadata={
        "description": "The NIK on the recipient's KTP, checked with the registry and stored nowhere"})
    delivered_at = fields.AwareDateTime(required=True, validate=TIME, metadata={
        "description": "When it was handed over (a delivery recorded offline keeps its own time)"})
    village_code = fields.String(required=True, validate=village)
    latitude = fields.Float(load_default=None, allow_none=True, allow_nan=False, validate=validate.Range(-90, 90))
    longitude = fields.Float(load_default=None, allow_none=True, allow_nan=False,
                             validate=validate.Range(-180, 180))
    photo_sha256 = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"),
                                 metadata={"description": "SHA-256 (hex) of the handover photo kept by the agency"})
    point_id = fields.UUID(load_default=None, allow_none=True,
                           metadata={"description": "The point the items left (else the programme's)"})


class DeliveryOut(Schema):
    id = fields.UUID()
    entitlement_id = fields.UUID()
    idempotency_key = fields.String()
    officer_agency = fields.String()
    recipient_ref = fields.UUID()
    delivered_at = fields.DateTime()
    village_code = fields.String()
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    photo_sha256 = fields.String(allow_none=True)
    point_id = fields.UUID(allow_none=True)
    received_at = fields.DateTime()
    entitlement = fields.Nested(EntitlementOut)


class PointIn(Schema):
    name = fields.String(required=True, validate=TEXT)
    kind = fields.String(required=True, validate=validate.OneOf(("warehouse", "village_hall", "other")))
    village_code = fields.String(required=True, validate=village)


def _quantity(column, description):
    return fields.Function(lambda row: decimal_text(row[column]),
                           metadata={"type": "string", "description": description + " (a decimal string)"})


class StockLineOut(Schema):
    item = fields.String()
    unit = fields.String()
    on_hand = _quantity("on_hand", "In the point, allocated or not")
    allocated = _quantity("allocated", "Set aside for entitlements")
    low_threshold = _quantity("low_threshold", "stock.low is told when what is free falls under it")


class PointOut(Schema):
    id = fields.UUID()
    agency = fields.String()
    name = fields.String()
    kind = fields.String()
    village_code = fields.String()
    stock = fields.List(fields.Nested(StockLineOut))


class MoveIn(Schema):
    move = fields.String(required=True, validate=validate.OneOf(MANUAL_MOVES), metadata={
        "description": "received (into the point), allocated (set aside for entitlements), returned (back in)"})
    item = fields.String(required=True, validate=TEXT)
    unit = fields.String(required=True, validate=validate.And(validate.Length(1, 20), _not_blank))
    quantity = QUANTITY
    low_threshold = fields.Decimal(load_default=None, allow_none=True, places=3, allow_nan=False,
                                   validate=_not_negative)
    reference = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 100))


class ItemLineOut(Schema):
    item = fields.String()
    unit = fields.String()
    planned = fields.String()
    delivered = fields.String()


class VillageLineOut(Schema):
    village_code = fields.String()
    planned = fields.Integer()
    delivered = fields.Integer()
    blocked = fields.Integer()
    revoked = fields.Integer()
    amount_planned = fields.Integer()
    amount_delivered = fields.Integer()
    items = fields.List(fields.Nested(ItemLineOut))


class StockOfProgrammeOut(Schema):
    item = fields.String()
    unit = fields.String()
    on_hand = fields.String()
    allocated = fields.String()
    still_to_deliver = fields.String()


class ProgrammeReportOut(Schema):
    programme_id = fields.UUID()
    name = fields.String()
    agency = fields.String()
    status = fields.String()
    budget = fields.Integer(allow_none=True)
    budget_used = fields.Integer(metadata={"description": "Rupiah of the entitlements issued and delivered"})
    totals = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_village = fields.List(fields.Nested(VillageLineOut))
    stock = fields.List(fields.Nested(StockOfProgrammeOut))


class HouseholdBenefitsOut(Schema):
    household_id = fields.UUID()
    village_code = fields.String()
    benefits = fields.List(fields.Nested(EntitlementOut))
