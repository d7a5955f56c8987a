"""Events published by the distribution service (exchange ``distribution.events``).

Programmes and entitlements travel as snapshots with a ``version`` that
grows with every change, so a consumer keeps its read model by taking the
highest. A beneficiary is the registry's opaque ``household_id`` or
``group_id``; the person who collected aid is a ``person_ref``. No event
carries a NIK, a name or a phone number: the NIK shown at a handover is
checked with the registry and kept nowhere.

Quantities are decimal strings (``"2.5"`` kg), amounts whole Rupiah."""
from marshmallow import Schema, fields, validate

from .registry import REGION
from .types import event_types

KINDS = ("in_kind", "cash", "equipment", "group_grant")
CATEGORIES = ("food", "cash", "productive_assets", "education", "health", "housing", "social_rehabilitation",
              "other")
FUNDING_SOURCES = ("apbn", "apbd_province", "apbd_district", "village_funds", "csr", "ngo", "other")
PROGRAMME_STATUSES = ("draft", "active", "closed")
ENTITLEMENT_STATUSES = ("issued", "delivered", "revoked", "blocked")
BENEFICIARY_KINDS = ("household", "group")
CASH_BASES = ("per_beneficiary", "per_member", "split_total")
STOCK_MOVES = ("received", "allocated", "delivered", "returned")
#: a quantity as a decimal string, up to 3 places ("10", "2.5"): exact, unlike a JSON number
DECIMAL = validate.Regexp(r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,3})?$")


def quantity(**kwargs):
    return fields.String(required=True, validate=DECIMAL, **kwargs)


class Item(Schema):
    item = fields.String(required=True, metadata={"description": "What is given, e.g. beras (rice)"})
    quantity = quantity()
    unit = fields.String(required=True, metadata={"description": "kg, l, unit, paket …"})


class Period(Schema):
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True, metadata={"description": "The last day, included"})


class Cash(Schema):
    basis = fields.String(required=True, validate=validate.OneOf(CASH_BASES))
    amount = fields.Integer(required=True, validate=validate.Range(min=1),
                            metadata={"description": "Rupiah per beneficiary (household or group), per member, or the total split over the beneficiaries"})


class ProgrammeSnapshot(Schema):
    programme_id = fields.UUID(required=True)
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    agency = fields.String(required=True, metadata={"description": "The owning agency"})
    partners = fields.List(fields.String(), required=True, metadata={"description": "Co-funding partners"})
    funding_source = fields.String(required=True, validate=validate.OneOf(FUNDING_SOURCES))
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    items = fields.List(fields.Nested(Item), required=True)
    cash = fields.Nested(Cash, load_default=None, allow_none=True)
    group_kind = fields.String(load_default=None, allow_none=True,
                               metadata={"description": "For a group grant: the kind of group it goes to"})
    group_ids = fields.List(fields.UUID(), load_default=None, allow_none=True,
                            metadata={"description": "For a group grant: only these groups (else every group of "
                                                     "the kind in the regions)"})
    period = fields.Nested(Period, required=True)
    region_codes = fields.List(fields.String(validate=REGION), required=True, validate=validate.Length(min=1))
    rule = fields.String(required=True, metadata={"description": "The eligibility rule, in CEL"})
    quota = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    budget = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    stacks = fields.Boolean(required=True, metadata={"description": "May stack with other programmes of its "
                                                                    "category that stack too"})
    status = fields.String(required=True, validate=validate.OneOf(PROGRAMME_STATUSES))


class ProgrammeActivated(Schema):
    programme = fields.Nested(ProgrammeSnapshot, required=True)
    issued = fields.Integer(required=True, validate=validate.Range(min=0))
    blocked = fields.Integer(required=True, validate=validate.Range(min=0))


class ProgrammeClosed(Schema):
    programme = fields.Nested(ProgrammeSnapshot, required=True)
    revoked = fields.Integer(required=True, validate=validate.Range(min=0),
                             metadata={"description": "Entitlements still undelivered, revoked by the close"})


class EntitlementSnapshot(Schema):
    entitlement_id = fields.UUID(required=True)
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    programme_id = fields.UUID(required=True)
    programme_name = fields.String(required=True)
    agency = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    beneficiary_kind = fields.String(required=True, validate=validate.OneOf(BENEFICIARY_KINDS))
    beneficiary_id = fields.UUID(required=True, metadata={"description": "The registry's household_id or group_id"})
    village_code = fields.String(required=True, validate=REGION)
    period = fields.Nested(Period, required=True)
    amount = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0),
                            metadata={"description": "Rupiah, for cash and cash grants"})
    items = fields.List(fields.Nested(Item), required=True)
    status = fields.String(required=True, validate=validate.OneOf(ENTITLEMENT_STATUSES))


class EntitlementEvent(Schema):
    entitlement = fields.Nested(EntitlementSnapshot, required=True)


class Blocking(Schema):
    entitlement_id = fields.UUID(required=True)
    programme_id = fields.UUID(required=True)
    programme_name = fields.String(required=True)
    agency = fields.String(required=True)
    period = fields.Nested(Period, required=True)


class EntitlementBlocked(EntitlementEvent):
    blocked_by = fields.Nested(Blocking, required=True, metadata={
        "description": "The other programme whose benefit of the same category and period the beneficiary holds"})


class EntitlementRevoked(EntitlementEvent):
    reason = fields.String(required=True)


class Delivery(Schema):
    delivery_id = fields.UUID(required=True)
    delivered_at = fields.AwareDateTime(required=True, metadata={"description": "When the handover happened "
                                                                             "(recorded offline, sent later)"})
    village_code = fields.String(required=True, validate=REGION)
    latitude = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-90, 90))
    longitude = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-180, 180))
    photo_sha256 = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    point_id = fields.UUID(load_default=None, allow_none=True)
    recipient_ref = fields.UUID(required=True, metadata={"description": "The person_ref of who collected it"})
    officer_agency = fields.String(required=True)


class AidDelivered(EntitlementEvent):
    delivery = fields.Nested(Delivery, required=True)


class StockLevel(Schema):
    point_id = fields.UUID(required=True)
    point_name = fields.String(required=True)
    agency = fields.String(required=True)
    village_code = fields.String(required=True, validate=REGION)
    item = fields.String(required=True)
    unit = fields.String(required=True)
    on_hand = quantity(metadata={"description": "In the point, allocated or not"})
    allocated = quantity(metadata={"description": "Set aside for issued entitlements"})


class StockReceived(StockLevel):
    quantity = quantity()
    reference = fields.String(load_default=None, allow_none=True, metadata={"description": "Delivery note or PO"})


class StockLow(StockLevel):
    threshold = quantity()


_PERIOD = {"starts_on": "2026-12-01", "ends_on": "2026-12-31"}
_ITEMS = [{"item": "beras", "quantity": "10", "unit": "kg"}, {"item": "minyak goreng", "quantity": "2", "unit": "l"},
          {"item": "gula pasir", "quantity": "1", "unit": "kg"}]
_PROGRAMME = {"programme_id": "5e0c2b7a-91d4-4c1e-8f3a-2b6d7e8f9a01", "version": 2,
              "agency": "Dinas Sosial Provinsi Kalimantan Tengah", "partners": ["Dinas Sosial Kabupaten Barito Timur"],
              "funding_source": "apbd_province", "name": "Sembako Desember Barito Timur", "kind": "in_kind",
              "category": "food", "items": _ITEMS, "cash": None, "group_kind": None, "group_ids": None, "period": _PERIOD,
              "region_codes": ["62.13"], "rule": "household.decile <= 4 && household.verified", "quota": 500,
              "budget": None, "stacks": False, "status": "active"}
_ENTITLEMENT = {"entitlement_id": "a7f3c1d2-4b5e-4f60-9a1b-2c3d4e5f6a7b", "version": 1,
                "programme_id": _PROGRAMME["programme_id"], "programme_name": _PROGRAMME["name"],
                "agency": _PROGRAMME["agency"], "kind": "in_kind", "category": "food",
                "beneficiary_kind": "household", "beneficiary_id": "7c0e7a34-5f55-4a4a-8d59-7e2f7c2a0a11",
                "village_code": "62.13.01.2003", "period": _PERIOD, "amount": None, "items": _ITEMS,
                "status": "issued"}
_POINT = {"point_id": "0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a", "point_name": "Gudang Dinsos Tamiang Layang",
          "agency": "Dinas Sosial Kabupaten Barito Timur", "village_code": "62.13.01.2003", "item": "beras",
          "unit": "kg"}

PROGRAMME_ACTIVATED = event_types.define(
    "programme.activated", "distribution", ProgrammeActivated,
    example={"programme": _PROGRAMME, "issued": 412, "blocked": 37},
    description="A programme went live: every eligible beneficiary's entitlement was issued (or blocked) at once.")
PROGRAMME_CLOSED = event_types.define(
    "programme.closed", "distribution", ProgrammeClosed,
    example={"programme": dict(_PROGRAMME, status="closed", version=3), "revoked": 12},
    description="A programme closed; what was not delivered is revoked (entitlement.revoked each).")
ENTITLEMENT_ISSUED = event_types.define(
    "entitlement.issued", "distribution", EntitlementEvent, example={"entitlement": _ENTITLEMENT},
    description="A beneficiary is owed a benefit; it holds the category's place in the cross-agency ledger.")
ENTITLEMENT_BLOCKED = event_types.define(
    "entitlement.blocked", "distribution", EntitlementBlocked,
    example={"entitlement": dict(_ENTITLEMENT, status="blocked"),
             "blocked_by": {"entitlement_id": "b8e4d2c3-5a6f-4e71-8b2c-3d4e5f6a7b8c",
                            "programme_id": "6f1d3c8b-a2e5-4d2f-9b4c-3c7e8f9a0b12",
                            "programme_name": "Bantuan sembako Kabupaten Barito Timur",
                            "agency": "Dinas Sosial Kabupaten Barito Timur", "period": _PERIOD}},
    description="A beneficiary already holds a benefit of this category in an overlapping period from another "
                "programme (often another agency's), and neither lets both stack: the two agencies can coordinate.")
ENTITLEMENT_REVOKED = event_types.define(
    "entitlement.revoked", "distribution", EntitlementRevoked,
    example={"entitlement": dict(_ENTITLEMENT, status="revoked", version=2),
             "reason": "the household is no longer eligible (status rejected)"},
    description="An entitlement ended undelivered: the beneficiary stopped being eligible, or the programme closed.")
AID_DELIVERED = event_types.define(
    "aid.delivered", "distribution", AidDelivered,
    example={"entitlement": dict(_ENTITLEMENT, status="delivered", version=2),
             "delivery": {"delivery_id": "c9f5e3d4-6b7a-4f82-9c3d-4e5f6a7b8c9d",
                          "delivered_at": "2026-12-05T02:30:00+00:00", "village_code": "62.13.01.2003",
                          "latitude": -2.0756, "longitude": 115.1871, "photo_sha256": None,
                          "point_id": _POINT["point_id"], "recipient_ref": "0b6f4a8e-2f3c-4a51-9f0d-5d1c7f9e2a10",
                          "officer_agency": "Dinas Sosial Kabupaten Barito Timur"}},
    description="A field officer handed the benefit over, the recipient's NIK checked with the registry.")
STOCK_RECEIVED = event_types.define(
    "stock.received", "distribution", StockReceived,
    example=dict(_POINT, quantity="5000", on_hand="6200", allocated="4120", reference="SPB/2026/12/014"),
    description="A distribution point received stock of an item.")
STOCK_LOW = event_types.define(
    "stock.low", "distribution", StockLow,
    example=dict(_POINT, on_hand="180", allocated="0", threshold="200"),
    description="What a distribution point has of an item fell below its threshold.")
