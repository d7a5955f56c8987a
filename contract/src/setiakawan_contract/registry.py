"""Events published by the registry (exchange ``registry.events``).

Household events carry a full, personal-data-free snapshot of the household
(``household``) with a ``version`` that grows with every change, so a
consumer keeps its read model by taking the snapshot with the highest
version. Persons appear only as opaque ``person_ref`` ids. No event carries
a NIK or KK number, nor anything derived from one (a hash, even a keyed
one, gives the number back to whoever can try the few million NIKs a birth
date and district leave): an agency matches its own lists through the
registry's matching endpoint instead.

Version 2 of the household and member events dropped version 1's
``kk_match`` and ``nik_match`` keyed hashes; the group events did not
carry them and are still version 1."""
from marshmallow import Schema, fields, validate

from .types import event_types

STATUSES = ("registered", "verified", "rejected", "inactive", "graduated")
SEXES = ("M", "F")
RELATIONSHIPS = ("head", "spouse", "child", "parent", "in_law", "grandchild", "sibling", "other")
GROUP_KINDS = ("kube", "karang_taruna", "lks")
#: schema version of the events whose data holds a HouseholdSnapshot
SNAPSHOT_VERSION = 2
REGION = validate.Regexp(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")


class MemberSnapshot(Schema):
    person_ref = fields.UUID(required=True)
    age = fields.Integer(required=True, validate=validate.Range(0, 150))
    sex = fields.String(required=True, validate=validate.OneOf(SEXES))
    relationship = fields.String(required=True, validate=validate.OneOf(RELATIONSHIPS))
    disability = fields.Boolean(required=True)


class HouseholdSnapshot(Schema):
    household_id = fields.UUID(required=True)
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    village_code = fields.String(required=True, validate=REGION)
    district_code = fields.String(required=True, validate=REGION)
    regency_code = fields.String(required=True, validate=REGION)
    province_code = fields.String(required=True, validate=REGION)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    welfare_score = fields.Float(required=True, validate=validate.Range(0, 100))
    decile = fields.Integer(required=True, validate=validate.Range(1, 10))
    size = fields.Integer(required=True, validate=validate.Range(min=0))
    children = fields.Integer(required=True, validate=validate.Range(min=0))
    elderly = fields.Integer(required=True, validate=validate.Range(min=0))
    disabled = fields.Integer(required=True, validate=validate.Range(min=0))
    registering_agency = fields.String(required=True)
    members = fields.List(fields.Nested(MemberSnapshot), required=True)


class HouseholdEvent(Schema):
    household = fields.Nested(HouseholdSnapshot, required=True)


class HouseholdUpdated(HouseholdEvent):
    changes = fields.List(fields.String(validate=validate.OneOf(("address", "welfare", "legal_basis"))),
                          required=True)
    previous_village_code = fields.String(load_default=None, allow_none=True, validate=REGION)


class HouseholdVerified(HouseholdEvent):
    verified_by = fields.String(required=True)
    verified_at = fields.AwareDateTime(required=True)
    reverify_due = fields.Date(required=True)


class HouseholdRejected(HouseholdEvent):
    rejected_by = fields.String(required=True)
    reason = fields.String(required=True)


class HouseholdStatusChanged(HouseholdEvent):
    previous_status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    reason = fields.String(required=True)


class MemberAdded(HouseholdEvent):
    person_ref = fields.UUID(required=True)


class MemberRemoved(HouseholdEvent):
    person_ref = fields.UUID(required=True)
    reason = fields.String(required=True)


class HouseholdMerged(HouseholdEvent):
    """``household`` is the surviving household; the merged one becomes inactive."""
    merged_household_id = fields.UUID(required=True)
    moved_person_refs = fields.List(fields.UUID(), required=True)


class GroupSnapshot(Schema):
    group_id = fields.UUID(required=True)
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(GROUP_KINDS))
    village_code = fields.String(required=True, validate=REGION)
    district_code = fields.String(required=True, validate=REGION)
    regency_code = fields.String(required=True, validate=REGION)
    status = fields.String(required=True, validate=validate.OneOf(("active", "inactive")))
    member_refs = fields.List(fields.UUID(), required=True)
    registering_agency = fields.String(required=True)


class GroupEvent(Schema):
    group = fields.Nested(GroupSnapshot, required=True)


_MEMBER = {"person_ref": "0b6f4a8e-2f3c-4a51-9f0d-5d1c7f9e2a10", "age": 41, "sex": "F", "relationship": "head",
           "disability": False}
_HOUSEHOLD = {"household_id": "7c0e7a34-5f55-4a4a-8d59-7e2f7c2a0a11", "version": 1,
              "village_code": "62.13.01.2003", "district_code": "62.13.01", "regency_code": "62.13",
              "province_code": "62", "status": "registered", "welfare_score": 23.5, "decile": 2, "size": 1,
              "children": 0, "elderly": 0, "disabled": 0,
              "registering_agency": "Dinas Sosial Kabupaten Barito Timur", "members": [_MEMBER]}
_GROUP = {"group_id": "3d6f1e52-8a7b-4c3d-9e2f-1a0b9c8d7e6f", "version": 1, "name": "KUBE Maju Bersama",
          "kind": "kube", "village_code": "62.13.01.2003", "district_code": "62.13.01", "regency_code": "62.13",
          "status": "active", "member_refs": [_MEMBER["person_ref"]],
          "registering_agency": "Dinas Sosial Kabupaten Barito Timur"}

HOUSEHOLD_REGISTERED = event_types.define(
    "household.registered", "registry", HouseholdEvent, version=SNAPSHOT_VERSION,
    example={"household": _HOUSEHOLD},
    description="A household was registered with its members.")
HOUSEHOLD_UPDATED = event_types.define(
    "household.updated", "registry", HouseholdUpdated, version=SNAPSHOT_VERSION,
    example={"household": _HOUSEHOLD, "changes": ["address"], "previous_village_code": "62.13.01.1012"},
    description="Address (a move), welfare indicators or legal basis changed; the snapshot is current.")
HOUSEHOLD_VERIFIED = event_types.define(
    "household.verified", "registry", HouseholdVerified, version=SNAPSHOT_VERSION,
    example={"household": dict(_HOUSEHOLD, status="verified"), "verified_by": "Dinas Sosial Barito Timur",
             "verified_at": "2026-11-24T03:00:00+00:00", "reverify_due": "2027-11-24"},
    description="A field officer verified the household.")
HOUSEHOLD_REJECTED = event_types.define(
    "household.rejected", "registry", HouseholdRejected, version=SNAPSHOT_VERSION,
    example={"household": dict(_HOUSEHOLD, status="rejected"), "rejected_by": "Dinas Sosial Barito Timur",
             "reason": "not found at the address"},
    description="A field officer rejected the household.")
HOUSEHOLD_STATUS_CHANGED = event_types.define(
    "household.status_changed", "registry", HouseholdStatusChanged, version=SNAPSHOT_VERSION,
    example={"household": dict(_HOUSEHOLD, status="graduated"), "previous_status": "verified",
             "reason": "income above the threshold"},
    description="Any change of status (also sent alongside verified and rejected).")
MEMBER_ADDED = event_types.define(
    "member.added", "registry", MemberAdded, version=SNAPSHOT_VERSION,
    example={"household": _HOUSEHOLD, "person_ref": _MEMBER["person_ref"]},
    description="A member joined a household; the snapshot includes them.")
MEMBER_REMOVED = event_types.define(
    "member.removed", "registry", MemberRemoved, version=SNAPSHOT_VERSION,
    example={"household": dict(_HOUSEHOLD, members=[], size=0), "person_ref": _MEMBER["person_ref"],
             "reason": "moved out"},
    description="A member left a household (death, moved out, duplicate).")
HOUSEHOLD_MERGED = event_types.define(
    "household.merged", "registry", HouseholdMerged, version=SNAPSHOT_VERSION,
    example={"household": _HOUSEHOLD, "merged_household_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
             "moved_person_refs": []},
    description="A duplicate household was merged into this one; the other is now inactive.")
GROUP_REGISTERED = event_types.define(
    "group.registered", "registry", GroupEvent, example={"group": _GROUP},
    description="A community group (KUBE, Karang Taruna, LKS) was registered.")
GROUP_UPDATED = event_types.define(
    "group.updated", "registry", GroupEvent, example={"group": dict(_GROUP, version=2)},
    description="A community group's members, name or status changed.")
