"""The bodies of the NGO's own HTTP API."""
from marshmallow import Schema, fields, validate

MONTH = validate.Regexp(r"^20\d\d-(0[1-9]|1[0-2])$", error="A month is YYYY-MM")


class TopUpIn(Schema):
    month = fields.String(required=True, validate=MONTH)
    packages = fields.Integer(strict=True, required=True, validate=validate.Range(1, 100_000),
                              metadata={"description": "Packages received into the warehouse: at most this many "
                                                       "households are owed one"})
    decile_at_most = fields.Integer(strict=True, load_default=4, validate=validate.Range(1, 10))


class TopUpOut(Schema):
    programme_id = fields.UUID()
    month = fields.String()
    name = fields.String()
    packages = fields.Integer()
    issued = fields.Integer()
    blocked = fields.Integer()


class HouseholdQuery(Schema):
    village_code = fields.String(load_default=None, validate=validate.Regexp(r"^\d\d(\.\d\d){2}\.\d{4}$"))


class HouseholdOut(Schema):
    household_id = fields.UUID()
    village_code = fields.String()
    status = fields.String()
    decile = fields.Integer()
    month = fields.String(allow_none=True)
    entitlement_id = fields.UUID(allow_none=True)
    entitlement_status = fields.String(allow_none=True)
    blocked_by_agency = fields.String(allow_none=True)
    blocked_by_name = fields.String(allow_none=True)


class DeliveryIn(Schema):
    household_id = fields.UUID(required=True)
    month = fields.String(required=True, validate=MONTH)
    nik = fields.String(required=True, load_only=True, validate=validate.Regexp(r"^\d{16}$"))
    delivered_at = fields.AwareDateTime(required=True)
    idempotency_key = fields.String(required=True, validate=validate.Length(8, 100))


class DeliveryOut(Schema):
    entitlement_id = fields.UUID()
    status = fields.String()
    repeated = fields.Boolean()
