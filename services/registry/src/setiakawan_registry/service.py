"""The registry's nameko entrypoints: thin translations from HTTP and RPC
to the use cases in households, review, groups and imports."""
import logging
import uuid

import eventlet
from marshmallow import Schema, fields
from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Response

from setiakawan_kit.db import dsn_from_config
from setiakawan_kit.diagnostics import DiagnosticsMixin
from setiakawan_kit.http import api
from setiakawan_kit.rpc import rpc
from setiakawan_kit.service import KitService

from . import groups, households, imports, review, schemas, storage

log = logging.getLogger(__name__)

ANY = ("admin", "operator", "field_officer", "viewer")
WRITE = ("admin", "operator", "field_officer")
VERIFY = ("admin", "field_officer")
MANAGE = ("admin", "operator")


class MemberOut(Schema):
    person_ref = fields.UUID(attribute="id")
    nik = fields.String()
    name = fields.String()
    birth_date = fields.Date()
    sex = fields.String()
    relationship = fields.String()
    disability = fields.String()
    occupation = fields.String()
    education = fields.String()
    phone = fields.String(allow_none=True)


class HouseholdOut(Schema):
    id = fields.UUID()
    kk_number = fields.String()
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


class Settings(DependencyProvider):
    def setup(self):
        self.settings = households.Settings.from_config(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.settings


class IndexRepair(DependencyProvider):
    """Every minute (and at start), builds the indexes that an import which
    was killed had dropped for its load (see ``importer``)."""

    def start(self):
        self.interval = float(self.container.config.get("INDEX_REPAIR_SECONDS") or 60)
        self.running = True
        self.container.spawn_managed_thread(self._loop, identifier="index-repair")

    def stop(self):
        self.running = False

    kill = stop

    def _loop(self):
        dsn = dsn_from_config(self.container.config)
        while self.running:
            try:
                imports.repair_indexes(dsn)
            except Exception:  # noqa: BLE001 - tried again next time
                log.exception("index repair failed")
            eventlet.sleep(self.interval)


class RegistryService(DiagnosticsMixin, KitService):
    """Households (keluarga, by KK number), their members (by NIK), community
    groups, verification and cross-agency duplicate detection."""

    name = "registry"
    description = __doc__
    settings = Settings()
    index_repair = IndexRepair()

    # -- households -------------------------------------------------------
    @api("POST", "/households", body=schemas.HouseholdIn, response=HouseholdOut, roles=WRITE, status=201,
         tags=["households"], summary="Register a household with its members")
    def register_household(self, call):
        with self.db.transaction() as uow:
            return 201, households.register(uow, self.settings, call.identity, call.body)

    @api("GET", "/households", query=schemas.SearchQuery, roles=ANY, tags=["households"],
         summary="Search members by NIK (exact) or by name within a region")
    def search(self, call):
        with self.db.transaction() as uow:
            return households.search(uow, call.identity, call.query)

    @api("GET", "/households/due-for-reverification", query=schemas.DueQuery, roles=ANY,
         tags=["households"], summary="Verified households whose verification runs out")
    def due_for_reverification(self, call):
        with self.db.transaction() as uow:
            return households.due_for_reverification(uow, call.identity, call.query)

    @api("GET", "/households/<uuid:household_id>", response=HouseholdOut, roles=ANY, tags=["households"])
    def get_household(self, call, household_id):
        with self.db.transaction() as uow:
            return households.detail(uow, households.load(uow, call.identity, household_id))

    @api("GET", "/households/<uuid:household_id>/history", query=schemas.HistoryQuery, roles=ANY,
         tags=["households"], summary="Who changed what and when, oldest first, a page at a time")
    def household_history(self, call, household_id):
        with self.db.transaction() as uow:
            households.load(uow, call.identity, household_id)
            return households.history(uow, household_id, call.query)

    @api("PUT", "/households/<uuid:household_id>/indicators", body=schemas.IndicatorsIn, response=HouseholdOut,
         roles=WRITE, tags=["households"], summary="Update welfare indicators (rescores)")
    def update_indicators(self, call, household_id):
        with self.db.transaction() as uow:
            return households.update_indicators(uow, self.settings, call.identity, household_id, call.body)

    @api("POST", "/households/<uuid:household_id>/move", body=schemas.MoveIn, response=HouseholdOut,
         roles=WRITE, tags=["households"], summary="Move the household to a new address")
    def move_household(self, call, household_id):
        with self.db.transaction() as uow:
            return households.move(uow, call.identity, household_id, call.body["address"])

    @api("POST", "/households/<uuid:household_id>/verification", body=schemas.VerificationIn,
         response=HouseholdOut, roles=VERIFY, tags=["households"], summary="Verify or reject (field officers)")
    def verify_household(self, call, household_id):
        body = call.body
        with self.db.transaction() as uow:
            return households.verify(uow, self.settings, call.identity, household_id, body["outcome"],
                                     body["notes"], body["reason"])

    @api("POST", "/households/<uuid:household_id>/status", body=schemas.StatusIn, response=HouseholdOut,
         roles=MANAGE, tags=["households"], summary="Mark inactive or graduated, or register again")
    def change_status(self, call, household_id):
        with self.db.transaction() as uow:
            return households.change_status(uow, call.identity, household_id, call.body["status"],
                                            call.body["reason"])

    # -- members ----------------------------------------------------------
    @api("POST", "/households/<uuid:household_id>/members", body=schemas.MemberIn, response=MemberOut,
         roles=WRITE, status=201, tags=["members"])
    def add_member(self, call, household_id):
        with self.db.transaction() as uow:
            return 201, households.add_member(uow, self.settings, call.identity, household_id, call.body)

    @api("PATCH", "/households/<uuid:household_id>/members/<uuid:member_id>", body=schemas.MemberUpdate,
         response=MemberOut, roles=WRITE, tags=["members"])
    def update_member(self, call, household_id, member_id):
        with self.db.transaction() as uow:
            return households.update_member(uow, self.settings, call.identity, household_id, member_id,
                                            call.body)

    @api("POST", "/households/<uuid:household_id>/members/<uuid:member_id>/removal", body=schemas.RemovalIn,
         response=HouseholdOut, roles=WRITE, tags=["members"], summary="Remove a member (with the reason)")
    def remove_member(self, call, household_id, member_id):
        with self.db.transaction() as uow:
            households.remove_member(uow, self.settings, call.identity, household_id, member_id,
                                     call.body["reason"])
            return households.detail(uow, households.load(uow, call.identity, household_id))

    # -- duplicates -------------------------------------------------------
    @api("GET", "/duplicates", query=schemas.DuplicateQuery, roles=ANY, tags=["duplicates"],
         summary="Likely duplicates for review")
    def list_duplicates(self, call):
        with self.db.transaction() as uow:
            return review.list_open(uow, call.identity, call.query)

    @api("POST", "/duplicates/<uuid:candidate_id>/merge", body=schemas.ResolutionIn, roles=WRITE,
         tags=["duplicates"], summary="The newer record is the same person: remove it")
    def merge_duplicate(self, call, candidate_id):
        with self.db.transaction() as uow:
            return review.merge(uow, self.settings, call.identity, candidate_id, call.body["note"])

    @api("POST", "/duplicates/<uuid:candidate_id>/dismiss", body=schemas.ResolutionIn, roles=WRITE,
         tags=["duplicates"], summary="Not the same person")
    def dismiss_duplicate(self, call, candidate_id):
        with self.db.transaction() as uow:
            return review.dismiss(uow, call.identity, candidate_id, call.body["note"])

    # -- groups -----------------------------------------------------------
    @api("POST", "/groups", body=schemas.GroupIn, roles=WRITE, status=201, tags=["groups"])
    def register_group(self, call):
        with self.db.transaction() as uow:
            return 201, groups.register(uow, call.identity, call.body)

    @api("GET", "/groups/<uuid:group_id>", roles=ANY, tags=["groups"])
    def get_group(self, call, group_id):
        with self.db.transaction() as uow:
            return groups.detail(uow, groups.load(uow, call.identity, group_id))

    @api("GET", "/groups/<uuid:group_id>/history", query=schemas.HistoryQuery, roles=ANY, tags=["groups"],
         summary="Who changed what and when, oldest first, a page at a time")
    def group_history(self, call, group_id):
        with self.db.transaction() as uow:
            groups.load(uow, call.identity, group_id)
            return households.history(uow, group_id, call.query)

    @api("PATCH", "/groups/<uuid:group_id>", body=schemas.GroupUpdate, roles=WRITE, tags=["groups"])
    def update_group(self, call, group_id):
        with self.db.transaction() as uow:
            return groups.update(uow, call.identity, group_id, call.body)

    # -- imports ----------------------------------------------------------
    @api("POST", "/imports", roles=MANAGE, status=202, tags=["imports"],
         summary="Upload a CSV list (text/csv, one row per member); it is imported in the background")
    def upload_import(self, call):
        row = imports.upload(self.db, call.identity, call.request, self.introspection.config)
        return 202, {"Location": f"/imports/{row['id']}"}, row

    @api("GET", "/imports/<uuid:import_id>", roles=ANY, tags=["imports"], summary="Progress and counts")
    def get_import(self, call, import_id):
        with self.db.transaction() as uow:
            return imports.progress(imports.load(uow, call.identity, import_id))

    @api("GET", "/imports/<uuid:import_id>/rejections", roles=ANY, tags=["imports"],
         summary="Rejected rows with their reasons, as CSV")
    def import_rejections(self, call, import_id):
        with self.db.transaction() as uow:
            imports.load(uow, call.identity, import_id)
            text = imports.rejections_csv(uow, import_id)
        return Response(text, status=200, content_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="rejections-{import_id}.csv"'})

    # -- for other services -------------------------------------------------
    @rpc(callers=("notifications",))
    def contact_details(self, caller, person_ref):
        """Name, phone and village of a current member, for notifications;
        None for an unknown or removed person."""
        person_ref = _as_uuid(person_ref)
        if person_ref is None:
            return None
        with self.db.transaction() as uow:
            row = storage.contact(uow, person_ref)
        if row is None:
            return None
        return {"person_ref": str(row["id"]), "name": row["name"], "phone": row["phone"],
                "village_code": row["village_code"]}

    @rpc(callers=("distribution",))
    def nik_belongs_to(self, caller, nik, person_ref):
        """Whether a NIK shown at a delivery is this person's (proof of delivery)."""
        person_ref = _as_uuid(person_ref)
        if person_ref is None or not isinstance(nik, str) or "\x00" in nik:
            return False
        with self.db.transaction() as uow:
            return storage.nik_is_of(uow, nik, person_ref)


def _as_uuid(value):
    """The canonical form of a UUID (any form Python reads, such as
    ``urn:uuid:…``, which PostgreSQL would refuse), or None."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None

