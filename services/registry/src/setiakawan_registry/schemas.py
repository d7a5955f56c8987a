"""HTTP bodies of the registry, validated with the registry's rules so that
bad input comes back as field-level 422 errors, and its answers (which the
OpenAPI document describes from these schemas)."""
from datetime import timezone

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates, validates_schema

from setiakawan_kit.auth import REGION_CODE
from setiakawan_contract.registry import GROUP_KINDS, STATUSES

from .rules import access, calendar, disclosure, households as hh
from .rules import forms, identity, regions, welfare

REGION = validate.Regexp(REGION_CODE, error="Not a Kemendagri region code.")


def _village(code):
    if regions.village(code) is None:
        raise ValidationError(f"{code} is not a village (desa/kelurahan) on the Kemendagri list.")


class FormDate(fields.Date):
    """A date written ISO, DD-MM-YYYY or DD/MM/YYYY (``rules.forms``)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault(
            "description", "YYYY-MM-DD; DD-MM-YYYY and DD/MM/YYYY, as Indonesian offices write dates, are read too")
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError("Not a valid date.")
        try:
            return forms.read_date(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class Sex(fields.String):
    """M or F; L, P, Laki-laki and Perempuan are read too."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {"description": "M or F; L/P and Laki-laki/Perempuan are read too"})
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        sex = forms.read_sex(super()._deserialize(value, attr, data, **kwargs))
        if sex is None:
            raise ValidationError("Must be M or F (L or P, Laki-laki or Perempuan).")
        return sex


class Relationship(fields.String):
    """One of the registry's relationships, or its Indonesian name."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {"description": f"{', '.join(hh.RELATIONSHIPS)}; or as a Kartu Keluarga "
                                                      "names it: Kepala Keluarga, Suami, Istri, Anak, Menantu, "
                                                      "Cucu, Orang Tua, Mertua, Famili Lain, Lainnya"})
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        relationship = forms.read_relationship(super()._deserialize(value, attr, data, **kwargs))
        if relationship is None:
            raise ValidationError(f"Must be one of: {', '.join(hh.RELATIONSHIPS)} (or its Indonesian name).")
        return relationship


class VillageCode(fields.String):
    """A village code with or without dots (6213012003 is 62.13.01.2003)."""

    def _deserialize(self, value, attr, data, **kwargs):
        return forms.read_village_code(super()._deserialize(value, attr, data, **kwargs))


def _not_future(value):
    if value > calendar.today():
        raise ValidationError("The date is in the future.")


class MemberFields(Schema):
    name = fields.String(required=True, validate=validate.Length(1, hh.NAME_MAX))
    relationship = Relationship(required=True)
    disability = fields.String(load_default="none", validate=validate.OneOf(hh.DISABILITIES))
    occupation = fields.String(load_default="", validate=validate.Length(0, hh.OCCUPATION_MAX))
    education = fields.String(load_default="", validate=validate.OneOf(hh.EDUCATION))
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(0, 30))

    @post_load
    def normalize_phone(self, data, **kwargs):
        if data.get("phone"):
            try:
                data["phone"] = identity.normalize_phone(data["phone"])
            except identity.InvalidIdentity as exc:
                raise ValidationError({"phone": [exc.message]}) from None
        return data


class MemberIn(MemberFields):
    nik = fields.String(required=True)
    birth_date = FormDate(required=True)
    sex = Sex(required=True)

    @validates_schema
    def check_nik(self, data, **kwargs):
        if "nik" not in data:
            return
        try:
            nik = identity.parse_nik(data["nik"])
        except identity.InvalidIdentity as exc:
            raise ValidationError({"nik": [exc.message]}) from None
        try:
            hh.check_birth_date(data["birth_date"], calendar.today()) if "birth_date" in data else None
            identity.check_nik_matches(nik, data.get("birth_date"), data.get("sex"))
        except (identity.InvalidIdentity, hh.RuleViolation) as exc:
            raise ValidationError({exc.field or "nik": [str(exc)]}) from None


class MemberUpdate(MemberFields):
    """Any of the member's own fields; the NIK, birth date and sex are fixed
    by the NIK (a wrong NIK is corrected by removing and adding the member)."""

    name = fields.String(validate=validate.Length(1, hh.NAME_MAX))
    relationship = Relationship()
    disability = fields.String(validate=validate.OneOf(hh.DISABILITIES))
    occupation = fields.String(validate=validate.Length(0, hh.OCCUPATION_MAX))
    education = fields.String(validate=validate.OneOf(hh.EDUCATION))
    phone = fields.String(allow_none=True, validate=validate.Length(0, 30))


class AddressIn(Schema):
    street = fields.String(load_default="", validate=validate.Length(0, hh.STREET_MAX))
    rt = fields.String(load_default="", validate=validate.Regexp(r"^\d{0,3}$", error="RT is up to 3 digits."))
    rw = fields.String(load_default="", validate=validate.Regexp(r"^\d{0,3}$", error="RW is up to 3 digits."))
    village_code = VillageCode(required=True, validate=[REGION, _village])


class IndicatorsIn(Schema):
    monthly_income = fields.Integer(required=True, validate=validate.Range(0, hh.INCOME_MAX),
                                    metadata={"description": "Household income per month, Rupiah"})
    floor = fields.String(required=True, validate=validate.OneOf(welfare.FLOOR))
    wall = fields.String(required=True, validate=validate.OneOf(welfare.WALL))
    roof = fields.String(required=True, validate=validate.OneOf(welfare.ROOF))
    electricity = fields.String(required=True, validate=validate.OneOf(welfare.ELECTRICITY))
    water = fields.String(required=True, validate=validate.OneOf(welfare.WATER))
    sanitation = fields.String(required=True, validate=validate.OneOf(welfare.SANITATION))
    assets = fields.List(fields.String(validate=validate.OneOf(welfare.ASSETS)), load_default=list)


class HouseholdIn(Schema):
    kk_number = fields.String(required=True)
    address = fields.Nested(AddressIn, required=True)
    indicators = fields.Nested(IndicatorsIn, required=True)
    legal_basis = fields.String(required=True, validate=validate.OneOf(hh.LEGAL_BASES))
    consent_date = FormDate(load_default=None, allow_none=True, validate=_not_future)
    consent_recorded_by = fields.String(load_default=None, allow_none=True,
                                        validate=validate.Length(1, hh.RECORDED_BY_MAX))
    members = fields.List(fields.Nested(MemberIn), required=True, validate=validate.Length(1, hh.MAX_MEMBERS))

    @validates("kk_number")
    def check_kk(self, value, **kwargs):
        try:
            identity.check_kk(value)
        except identity.InvalidIdentity as exc:
            raise ValidationError(exc.message) from None

    @validates_schema
    def check_household(self, data, **kwargs):
        errors = {}
        try:
            hh.check_legal_basis(data.get("legal_basis"), data.get("consent_date"),
                                 data.get("consent_recorded_by"), calendar.today())
        except hh.RuleViolation as exc:
            errors[exc.field] = [str(exc)]
        members = data.get("members") or []
        try:
            hh.check_members(members)
        except hh.RuleViolation as exc:
            errors["members"] = [str(exc)]
        niks = [m["nik"] for m in members if "nik" in m]
        if len(niks) != len(set(niks)):
            errors.setdefault("members", []).append("The same NIK appears twice in this household.")
        if errors:
            raise ValidationError(errors)


class MoveIn(Schema):
    address = fields.Nested(AddressIn, required=True)


class VerificationIn(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(("verified", "rejected")))
    notes = fields.String(load_default="", validate=validate.Length(0, 2000))
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 500))

    @validates_schema
    def rejection_needs_reason(self, data, **kwargs):
        if data.get("outcome") == "rejected" and not data.get("reason"):
            raise ValidationError({"reason": ["A rejection needs a reason."]})


class StatusIn(Schema):
    status = fields.String(required=True, validate=validate.OneOf(("registered", "inactive", "graduated")))
    reason = fields.String(required=True, validate=validate.Length(1, 500))


class RemovalIn(Schema):
    reason = fields.String(required=True, validate=validate.OneOf(("moved_out", "died", "duplicate", "error")))


class SearchQuery(Schema):
    nik = fields.String(validate=validate.Regexp(r"^\d{16}$", error="A NIK has exactly 16 digits."))
    name = fields.String(validate=validate.Length(2, 200))
    region = fields.String(validate=REGION)
    status = fields.String(validate=validate.OneOf(STATUSES))
    page = fields.Integer(load_default=1, validate=validate.Range(1, 10_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 100))

    @validates_schema
    def one_way(self, data, **kwargs):
        if bool(data.get("nik")) == bool(data.get("name")):
            raise ValidationError("Search by exactly one of nik or name.")


class DueQuery(Schema):
    region = fields.String(validate=REGION)
    before = fields.Date(load_default=None)
    page = fields.Integer(load_default=1, validate=validate.Range(1, 10_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class HistoryQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=100, validate=validate.Range(1, 500))


class ResolutionIn(Schema):
    note = fields.String(load_default="", validate=validate.Length(0, 2000))


class DuplicateQuery(Schema):
    status = fields.String(load_default="open", validate=validate.OneOf(("open", "merged", "dismissed")))
    page = fields.Integer(load_default=1, validate=validate.Range(1, 10_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class GroupIn(Schema):
    name = fields.String(required=True, validate=validate.Length(2, 200))
    kind = fields.String(required=True, validate=validate.OneOf(GROUP_KINDS))
    village_code = VillageCode(required=True, validate=[REGION, _village])
    member_refs = fields.List(fields.UUID(), load_default=list, validate=validate.Length(0, 500))


class GroupUpdate(Schema):
    name = fields.String(validate=validate.Length(2, 200))
    status = fields.String(validate=validate.OneOf(("active", "inactive")))
    member_refs = fields.List(fields.UUID(), validate=validate.Length(0, 500))


class PageQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=100, validate=validate.Range(1, 500))


class UtcDateTime(fields.AwareDateTime):
    """A date and time with an offset (UTC if none is given), loaded in UTC:
    PostgreSQL refuses offsets beyond 15:59, which ISO 8601 allows."""

    def __init__(self, **kwargs):
        super().__init__(default_timezone=timezone.utc, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(timezone.utc)
        except OverflowError:  # before year 1 in UTC
            raise ValidationError("The date and time is out of range.") from None


class AccessLogQuery(PageQuery):
    household = fields.UUID(metadata={"description": "Reads of this household"})
    person_ref = fields.UUID(metadata={"description": "Reads concerning this person"})
    agency = fields.String(validate=validate.Length(1, 200), metadata={"description": "Reads by this agency "
                                                                                      "(or calling service)"})
    since = UtcDateTime(metadata={"description": "At or after (UTC unless given)"})
    until = UtcDateTime(metadata={"description": "Before"})


class PurposeHeader(Schema):
    """Why the caller reads personal data (UU PDP), kept in the access log."""

    purpose = fields.String(data_key="X-Purpose", load_default=None, metadata={
        "description": f"Why personal data is read, kept in the access log: at most {access.PURPOSE_MAX} "
                       "characters once runs of white space are one space; UTF-8 may be sent raw"})

    @post_load
    def normalize(self, data, **kwargs):
        try:
            return {"purpose": access.purpose(data["purpose"])}
        except access.BadPurpose as exc:
            raise ValidationError({"X-Purpose": [str(exc)]}) from None


class UploadQuery(Schema):
    filename = fields.String(load_default="upload.csv", metadata={
        "description": "The list's name, shown with its progress (the first 200 characters are kept)"})
    delimiter = fields.String(load_default=None, validate=validate.OneOf([",", ";", "tab"]),
                              metadata={"description": "How the columns are separated: `,`, `;` or `tab`; "
                                                       "by default, what splits the header line into most columns"})

    mapping = fields.String(load_default=None, validate=validate.Length(1, 60), metadata={
        "description": "A column mapping by name: one your agency saved (PUT /import-mappings/{name}) or "
                       "the built-in dtks"})
    columns = fields.String(load_default=None, validate=validate.Length(1, 2000), metadata={
        "description": "A mapping of headers given with the upload: HEADER=column pairs, e.g. NIK=nik,NAMA=name"})
    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "Check the whole list and count what would be created, skipped as already registered "
                       "and rejected (with the rejections file), writing and publishing nothing"})
    sheet = fields.String(load_default=None, validate=validate.Length(1, 100),
                          metadata={"description": "The sheet of a workbook to import (by default the first)"})

    @post_load
    def tab(self, data, **kwargs):
        if data.get("delimiter") == "tab":
            data["delimiter"] = "\t"
        return data


def _sixteen_digits(value):
    if not (len(value) == 16 and value.isascii() and value.isdigit()):
        raise ValidationError("A NIK or KK number has exactly 16 digits (0-9).")


def _number():
    return fields.String(validate=_sixteen_digits, metadata={"pattern": "^[0-9]{16}$"})


class MatchesIn(Schema):
    niks = fields.List(_number(), validate=validate.Length(1, access.MATCH_BATCH_MAX),
                       metadata={"description": f"Up to {access.MATCH_BATCH_MAX} NIKs"})
    kk_numbers = fields.List(_number(), validate=validate.Length(1, access.MATCH_BATCH_MAX),
                             metadata={"description": f"Up to {access.MATCH_BATCH_MAX} KK numbers"})

    @validates_schema
    def one_kind(self, data, **kwargs):
        if ("niks" in data) == ("kk_numbers" in data):
            raise ValidationError("Send exactly one of niks or kk_numbers.")


# -- answers --------------------------------------------------------------------------
_LEVEL = {"description": "How personal data is shown to the caller (the disclosure policy): clear, or masked: "
                         "NIK and KK number as the first 4 and last 4 digits with 8 bullets (U+2022) between, "
                         "names as initials, birth date and phone null",
          "enum": list(disclosure.LEVELS)}
_NUMBER = {"description": "16 digits, or masked (6213••••••••0003)"}
_NAME = {"description": "The name, or masked its initials (S. A.)"}
_WITHHELD = {"description": "Null when masked"}


def _disclosure():
    return fields.String(metadata=_LEVEL)


class MemberOut(Schema):
    person_ref = fields.UUID(attribute="id")
    nik = fields.String(metadata=_NUMBER)
    name = fields.String(metadata=_NAME)
    birth_date = fields.Date(allow_none=True, metadata=_WITHHELD)
    sex = fields.String()
    relationship = fields.String()
    disability = fields.String()
    occupation = fields.String()
    education = fields.String()
    phone = fields.String(allow_none=True, metadata=_WITHHELD)


class MemberAnswer(MemberOut):
    household_id = fields.UUID()
    disclosure = _disclosure()


class HouseholdOut(Schema):
    id = fields.UUID()
    kk_number = fields.String(metadata=_NUMBER)
    street = fields.String()
    rt = fields.String()
    rw = fields.String()
    village_code = fields.String()
    indicators = fields.Dict()
    welfare_score = fields.Float()
    decile = fields.Integer()
    status = fields.String()
    registering_agency = fields.String()
    legal_basis = fields.String()
    consent_date = fields.Date(allow_none=True)
    consent_recorded_by = fields.String(allow_none=True)
    verified_at = fields.DateTime(allow_none=True)
    verified_by = fields.String(allow_none=True)
    verification_notes = fields.String(allow_none=True)
    reverify_due = fields.Date(allow_none=True)
    merged_into = fields.UUID(allow_none=True)
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    members = fields.List(fields.Nested(MemberOut))
    disclosure = _disclosure()


class Page(Schema):
    page = fields.Integer()
    per_page = fields.Integer()


class PersonShown(Schema):
    """A person as the disclosure policy shows them to the caller."""

    person_ref = fields.UUID()
    household_id = fields.UUID()
    village_code = fields.String()
    nik = fields.String(metadata=_NUMBER)
    name = fields.String(metadata=_NAME)
    birth_date = fields.Date(allow_none=True, metadata=_WITHHELD)
    sex = fields.String()


class PersonFound(PersonShown):
    status = fields.String()
    score = fields.Float(metadata={"description": "Name search: word similarity, best first"})


class SearchPage(Page):
    items = fields.List(fields.Nested(PersonFound))
    disclosure = _disclosure()


class DueHousehold(Schema):
    id = fields.UUID()
    village_code = fields.String()
    status = fields.String()
    verified_at = fields.DateTime(allow_none=True)
    reverify_due = fields.Date(allow_none=True)


class DuePage(Page):
    items = fields.List(fields.Nested(DueHousehold))


class HistoryEntry(Schema):
    entity = fields.String()
    entity_id = fields.UUID()
    action = fields.String()
    agency = fields.String()
    role = fields.String()
    changes = fields.Dict(metadata={"description": "What changed; names, NIKs, KK numbers and phones in it "
                                                   "shown as the disclosure policy allows"})
    at = fields.DateTime()


class HistoryPage(Page):
    items = fields.List(fields.Nested(HistoryEntry))
    disclosure = _disclosure()


class DuplicatePerson(PersonShown):
    """One of a likely duplicate's two members; outside the caller's regions
    only its person_ref, household_id and village_code."""


class DuplicateOut(Schema):
    id = fields.UUID()
    member_id = fields.UUID(metadata={"description": "The newer record"})
    other_id = fields.UUID()
    similarity = fields.Float()
    reason = fields.String()
    status = fields.String()
    resolved_by = fields.String(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
    resolution_note = fields.String(allow_none=True)
    created_at = fields.DateTime()
    household_id = fields.UUID()
    other_household_id = fields.UUID()
    village_code = fields.String()
    other_village_code = fields.String()
    member = fields.Nested(DuplicatePerson)
    other = fields.Nested(DuplicatePerson)


class DuplicatePage(Page):
    items = fields.List(fields.Nested(DuplicateOut))
    disclosure = _disclosure()


class AccessLogEntry(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    agency = fields.String(metadata={"description": "The agency, or for RPC the calling service"})
    kind = fields.String(metadata={"description": "The agency's kind; service for RPC"})
    role = fields.String(metadata={"description": "The token's role; rpc for RPC"})
    action = fields.String(metadata={"description": "household.read, household.write, household.search, "
                                                    "household.history, duplicates.list, import.rejections, "
                                                    "match, contact_details, nik_belongs_to"})
    disclosure = fields.String(metadata={"description": "clear or masked; reference for a match, check for a "
                                                        "NIK check"})
    household_id = fields.UUID(allow_none=True)
    person_ref = fields.UUID(allow_none=True)
    import_id = fields.UUID(allow_none=True)
    region_code = fields.String(metadata={"description": "The household's village (an import's region)"})
    purpose = fields.String(allow_none=True, metadata={"description": "The X-Purpose header"})
    correlation_id = fields.String(allow_none=True)


class AccessLogPage(Page):
    items = fields.List(fields.Nested(AccessLogEntry))


class Match(Schema):
    nik = fields.String(metadata={"description": "The NIK sent (NIK matches)"})
    kk_number = fields.String(metadata={"description": "The KK number sent (KK matches)"})
    person_ref = fields.UUID(allow_none=True, metadata={"description": "Null for a KK number"})
    household_id = fields.UUID()


class MatchesOut(Schema):
    looked_up = fields.Integer(metadata={"description": "Distinct numbers looked up (counted against the "
                                                        "hourly allowance)"})
    matches = fields.List(fields.Nested(Match), metadata={"description": "Those found in the caller's regions, "
                                                                         "in the order sent"})


class GroupOut(Schema):
    id = fields.UUID()
    name = fields.String()
    kind = fields.String(metadata={"enum": list(GROUP_KINDS)})
    village_code = fields.String()
    status = fields.String(metadata={"enum": ["active", "inactive"]})
    registering_agency = fields.String()
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    member_refs = fields.List(fields.UUID())


class ImportOut(Schema):
    id = fields.UUID()
    status = fields.String(metadata={"enum": ["queued", "running", "completed", "failed"]})
    stage = fields.String(metadata={"enum": ["queued", "importing", "flagging", "done"]})
    filename = fields.String()
    sha256 = fields.String()
    total_rows = fields.Integer()
    processed_rows = fields.Integer()
    accepted_rows = fields.Integer()
    already_registered = fields.Integer()
    rejected_rows = fields.Integer()
    households_created = fields.Integer()
    dry_run = fields.Boolean(metadata={"description": "A dry run: the counts say what an import would do; "
                                                      "nothing was written"})
    error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    progress = fields.Float(metadata={"description": "0 to 1"})


class MappingIn(Schema):
    columns = fields.Dict(keys=fields.String(validate=validate.Length(1, 100)), values=fields.String(),
                          load_default=dict, metadata={"description": "The file's header -> a registry column"})
    values = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.String()),
                         load_default=dict, metadata={"description": "A registry column -> {the file's code -> value}"})
    defaults = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict,
                           metadata={"description": "A registry column the file lacks -> every row's value"})


class MappingOut(MappingIn):
    name = fields.String()
    built_in = fields.Boolean()
