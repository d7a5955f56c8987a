"""The registry's nameko entrypoints: thin translations from HTTP and RPC
to the use cases in households, review, groups, imports, matches,
access_log and personal_data."""
import logging

import eventlet
from nameko.extensions import DependencyProvider

from setiakawan_kit import context
from setiakawan_kit.db import dsn_from_config
from setiakawan_kit.diagnostics import DiagnosticsMixin
from setiakawan_kit.http import api
from setiakawan_kit.rpc import rpc
from setiakawan_kit.service import KitService

from . import (access_log, groups, households, import_chunks, import_mappings, imports, matches, personal_data,
               review, schemas)

log = logging.getLogger(__name__)

ANY = ("admin", "operator", "field_officer", "viewer")
WRITE = ("admin", "operator", "field_officer")
VERIFY = ("admin", "field_officer")
MANAGE = ("admin", "operator")

# problem answers of several use cases (the kit derives the others)
REGISTERED = "The KK number or a NIK is registered already (existing_household_id when the caller's regions cover it)"
TRANSITION = "The household's status cannot change so (statuses in the README), or it was merged into another"
RESOLVED = "The candidate was merged or dismissed already"
PURPOSE = schemas.PurposeHeader  # X-Purpose, on every request that reads personal data


class Settings(DependencyProvider):
    def setup(self):
        self.settings = households.Settings.from_config(self.container.config)
        path = import_chunks.import_path()
        if path["bulk_import"] != "c":
            log.warning("bulk imports will take the slower Python path: %s", path["bulk_import_reason"])

    def get_dependency(self, worker_ctx):
        return self.settings


class Uploads(DependencyProvider):
    """The private folder of uploaded lists (``imports.upload_dir``); at
    start, before any request, it removes the uploads a killed importer or
    service left there."""

    def setup(self):
        config = self.container.config
        self.folder = imports.upload_dir(config)
        imports.sweep_uploads(dsn_from_config(config), self.folder)

    def get_dependency(self, worker_ctx):
        return self.folder


class IndexRepair(DependencyProvider):
    """Every minute (and at start), builds the indexes that an import which
    was killed had dropped for its load (see ``importer``). Stopping ends
    the wait between two repairs at once; a repair under way is killed with
    the container and done again at the next start."""

    def setup(self):
        self.interval = float(self.container.config.get("INDEX_REPAIR_SECONDS") or 60)
        self.stopped = eventlet.Event()

    def start(self):
        self.container.spawn_managed_thread(self._loop, identifier="index-repair")

    def stop(self):
        if not self.stopped.ready():
            self.stopped.send()

    kill = stop

    def _loop(self):
        dsn = dsn_from_config(self.container.config)
        while not self.stopped.ready():
            try:
                imports.repair_indexes(dsn)
            except Exception:  # noqa: BLE001 - tried again next time
                log.exception("index repair failed")
            self.stopped.wait(self.interval)


class RegistryService(DiagnosticsMixin, KitService):
    """Households (keluarga, by KK number), their members (by NIK), community
    groups, verification and cross-agency duplicate detection."""

    name = "registry"
    description = __doc__

    def health_details(self):
        return import_chunks.import_path()
    settings = Settings()
    uploads = Uploads()
    index_repair = IndexRepair()

    # -- households -------------------------------------------------------
    @api("POST", "/households", body=schemas.HouseholdIn, response=schemas.HouseholdOut, headers=PURPOSE,
         roles=WRITE, status=201, problems={409: REGISTERED}, tags=["households"],
         summary="Register a household with its members")
    def register_household(self, call):
        audit = _audit(call)
        with self.db.transaction() as uow:
            return 201, households.register(uow, self.settings, call.identity, audit, call.body)

    @api("GET", "/households", query=schemas.SearchQuery, response=schemas.SearchPage, headers=PURPOSE, roles=ANY,
         tags=["households"], summary="Search members by NIK (exact) or by name within a region")
    def search(self, call):
        audit = _audit(call)
        with self.db.transaction() as uow:
            return households.search(uow, call.identity, audit, call.query)

    @api("GET", "/households/due-for-reverification", query=schemas.DueQuery, response=schemas.DuePage,
         roles=ANY, tags=["households"], summary="Verified households whose verification runs out")
    def due_for_reverification(self, call):
        with self.db.transaction() as uow:
            return households.due_for_reverification(uow, call.identity, call.query)

    @api("GET", "/households/<uuid:household_id>", response=schemas.HouseholdOut, headers=PURPOSE, roles=ANY,
         tags=["households"])
    def get_household(self, call, household_id):
        audit = _audit(call)
        with self.db.transaction() as uow:
            return households.read(uow, call.identity, audit, household_id)

    @api("GET", "/households/<uuid:household_id>/history", query=schemas.HistoryQuery,
         response=schemas.HistoryPage, headers=PURPOSE, roles=ANY, tags=["households"],
         summary="Who changed what and when, oldest first, a page at a time")
    def household_history(self, call, household_id):
        audit = _audit(call)
        with self.db.transaction() as uow:
            return households.history(uow, call.identity, audit, household_id, call.query)

    @api("PUT", "/households/<uuid:household_id>/indicators", body=schemas.IndicatorsIn,
         response=schemas.HouseholdOut, headers=PURPOSE, roles=WRITE, tags=["households"],
         summary="Update welfare indicators (rescores)")
    def update_indicators(self, call, household_id):
        audit = _audit(call)
        with self.db.transaction() as uow:
            return households.update_indicators(uow, self.settings, call.identity, audit, household_id, call.body)

    @api("POST", "/households/<uuid:household_id>/move", body=schemas.MoveIn, response=schemas.HouseholdOut,
         headers=PURPOSE, roles=WRITE, tags=["households"], summary="Move the household to a new address")
    def move_household(self, call, household_id):
        audit = _audit(call)
        with self.db.transaction() as uow:
            return households.move(uow, call.identity, audit, household_id, call.body["address"])

    @api("POST", "/households/<uuid:household_id>/verification", body=schemas.VerificationIn,
         response=schemas.HouseholdOut, headers=PURPOSE, roles=VERIFY, problems={409: TRANSITION},
         tags=["households"], summary="Verify or reject (field officers)")
    def verify_household(self, call, household_id):
        body, audit = call.body, _audit(call)
        with self.db.transaction() as uow:
            return households.verify(uow, self.settings, call.identity, audit, household_id, body["outcome"],
                                     body["notes"], body["reason"])

    @api("POST", "/households/<uuid:household_id>/status", body=schemas.StatusIn, response=schemas.HouseholdOut,
         headers=PURPOSE, roles=MANAGE, problems={409: TRANSITION}, tags=["households"],
         summary="Mark inactive or graduated, or register again")
    def change_status(self, call, household_id):
        audit = _audit(call)
        with self.db.transaction() as uow:
            return households.change_status(uow, call.identity, audit, household_id, call.body["status"],
                                            call.body["reason"])

    # -- members ----------------------------------------------------------
    @api("POST", "/households/<uuid:household_id>/members", body=schemas.MemberIn, response=schemas.MemberAnswer,
         headers=PURPOSE, roles=WRITE, status=201, problems={409: REGISTERED}, tags=["members"])
    def add_member(self, call, household_id):
        audit = _audit(call)
        with self.db.transaction() as uow:
            return 201, households.add_member(uow, self.settings, call.identity, audit, household_id, call.body)

    @api("PATCH", "/households/<uuid:household_id>/members/<uuid:member_id>", body=schemas.MemberUpdate,
         response=schemas.MemberAnswer, headers=PURPOSE, roles=WRITE, tags=["members"])
    def update_member(self, call, household_id, member_id):
        audit = _audit(call)
        with self.db.transaction() as uow:
            return households.update_member(uow, self.settings, call.identity, audit, household_id, member_id,
                                            call.body)

    @api("POST", "/households/<uuid:household_id>/members/<uuid:member_id>/removal", body=schemas.RemovalIn,
         response=schemas.HouseholdOut, headers=PURPOSE, roles=WRITE,
         problems={409: "The head cannot leave while others remain"}, tags=["members"],
         summary="Remove a member (with the reason)")
    def remove_member(self, call, household_id, member_id):
        audit = _audit(call)
        with self.db.transaction() as uow:
            return households.remove_member(uow, self.settings, call.identity, audit, household_id, member_id,
                                            call.body["reason"])

    # -- duplicates -------------------------------------------------------
    @api("GET", "/duplicates", query=schemas.DuplicateQuery, response=schemas.DuplicatePage, headers=PURPOSE, roles=ANY,
         tags=["duplicates"], summary="Likely duplicates for review, with both members")
    def list_duplicates(self, call):
        audit = _audit(call)
        with self.db.transaction() as uow:
            return review.list_open(uow, call.identity, audit, call.query)

    @api("POST", "/duplicates/<uuid:candidate_id>/merge", body=schemas.ResolutionIn, response=schemas.DuplicateOut,
         roles=WRITE, problems={409: RESOLVED + "; a record was removed meanwhile; or the newer record's village "
                                               "is outside the caller's regions"},
         tags=["duplicates"], summary="The newer record is the same person: remove it")
    def merge_duplicate(self, call, candidate_id):
        with self.db.transaction() as uow:
            return review.merge(uow, self.settings, call.identity, candidate_id, call.body["note"])

    @api("POST", "/duplicates/<uuid:candidate_id>/dismiss", body=schemas.ResolutionIn,
         response=schemas.DuplicateOut, roles=WRITE, problems={409: RESOLVED}, tags=["duplicates"],
         summary="Not the same person")
    def dismiss_duplicate(self, call, candidate_id):
        with self.db.transaction() as uow:
            return review.dismiss(uow, call.identity, candidate_id, call.body["note"])

    # -- groups -----------------------------------------------------------
    @api("POST", "/groups", body=schemas.GroupIn, response=schemas.GroupOut, roles=WRITE, status=201,
         tags=["groups"])
    def register_group(self, call):
        with self.db.transaction() as uow:
            return 201, groups.register(uow, call.identity, call.body)

    @api("GET", "/groups/<uuid:group_id>", response=schemas.GroupOut, roles=ANY, tags=["groups"])
    def get_group(self, call, group_id):
        with self.db.transaction() as uow:
            return groups.detail(uow, groups.load(uow, call.identity, group_id))

    @api("GET", "/groups/<uuid:group_id>/history", query=schemas.HistoryQuery, response=schemas.HistoryPage,
         roles=ANY, tags=["groups"],
         summary="Who changed what and when, oldest first, a page at a time")
    def group_history(self, call, group_id):
        with self.db.transaction() as uow:
            return groups.history(uow, call.identity, group_id, call.query)

    @api("PATCH", "/groups/<uuid:group_id>", body=schemas.GroupUpdate, response=schemas.GroupOut, roles=WRITE,
         tags=["groups"])
    def update_group(self, call, group_id):
        with self.db.transaction() as uow:
            return groups.update(uow, call.identity, group_id, call.body)

    # -- imports ----------------------------------------------------------
    @api("POST", "/imports", body=("text/csv", imports.XLSX), query=schemas.UploadQuery, response=schemas.ImportOut, roles=MANAGE,
         status=202, tags=["imports"],
         problems={400: "The upload ended before its Content-Length", 411: "No Content-Length",
                   422: "Not UTF-8, not a workbook, no such sheet, empty, or not headed by the import's columns"},
         summary="Upload a list, one row per member: CSV (text/csv; comma, semicolon or tab separated, with or "
                 "without a byte-order mark) or an Excel workbook (.xlsx); it is imported in the background")
    def upload_import(self, call):
        with self.db.transaction() as uow:
            mapping = import_mappings.for_upload(uow, call.identity, call.query["mapping"], call.query["columns"])
        row = imports.upload(self.db, call.identity, self.uploads, call.request.stream, call.request.content_length,
                             call.query["filename"], self.introspection.config, call.query["delimiter"],
                             call.request.mimetype, call.query["sheet"], call.query["dry_run"], mapping)
        return 202, {"Location": f"/imports/{row['id']}"}, row

    @api("PUT", "/import-mappings/<name>", body=schemas.MappingIn, response=schemas.MappingOut, roles=MANAGE,
         tags=["imports"], summary="Save a mapping from your exports' headers and codes to the import's columns")
    def save_import_mapping(self, call, name):
        with self.db.transaction() as uow:
            return import_mappings.save(uow, call.identity, name, call.body)

    @api("GET", "/import-mappings", response=[schemas.MappingOut], roles=MANAGE, tags=["imports"],
         summary="The built-in mappings and your agency's")
    def list_import_mappings(self, call):
        with self.db.transaction() as uow:
            return import_mappings.listed(uow, call.identity)

    @api("GET", "/import-mappings/<name>", response=schemas.MappingOut, roles=MANAGE, tags=["imports"],
         summary="One mapping, built in or your agency's")
    def get_import_mapping(self, call, name):
        with self.db.transaction() as uow:
            return import_mappings.get(uow, call.identity, name)

    @api("GET", "/imports/<uuid:import_id>", response=schemas.ImportOut, roles=ANY, tags=["imports"],
         summary="Progress and counts")
    def get_import(self, call, import_id):
        with self.db.transaction() as uow:
            return imports.progress(imports.load(uow, call.identity, import_id))

    @api("GET", "/imports/<uuid:import_id>/rejections", content_type="text/csv", headers=PURPOSE, roles=ANY,
         tags=["imports"], summary="Rejected rows with their reasons, as CSV")
    def import_rejections(self, call, import_id):
        audit = _audit(call)
        with self.db.transaction() as uow:
            text = imports.rejections(uow, call.identity, audit, import_id)
        return 200, {"Content-Disposition": f'attachment; filename="rejections-{import_id}.csv"'}, text

    # -- personal data --------------------------------------------------------
    @api("POST", "/matches", body=schemas.MatchesIn, response=schemas.MatchesOut, headers=PURPOSE, roles=matches.ROLES,
         problems={429: "Over the agency's hourly allowance of looked-up numbers (see Retry-After)"},
         tags=["personal data"], summary="Which of these NIKs or KK numbers the registry holds in your regions: "
                                         "their references only")
    def match(self, call):
        audit = _audit(call)
        with self.db.transaction() as uow:
            return matches.match(uow, self.settings, call.identity, audit, **call.body)

    @api("GET", "/access-log", query=schemas.AccessLogQuery, response=schemas.AccessLogPage, roles=access_log.ROLES,
         tags=["personal data"], summary="Who read whose personal data in your regions, newest first")
    def read_access_log(self, call):
        with self.db.transaction() as uow:
            return access_log.entries(uow, call.identity, call.query)

    # -- for other services -------------------------------------------------
    @rpc(callers=("notifications",))
    def contact_details(self, caller, person_ref):
        """Name, phone and village of a current member, for notifications;
        None for an unknown or removed person."""
        with self.db.transaction() as uow:
            return personal_data.contact_details(uow, caller, person_ref, _rpc_audit())

    @rpc(callers=("distribution",))
    def nik_belongs_to(self, caller, nik, person_ref=None):
        """Whether a NIK shown at a delivery is this person's (proof of
        delivery); given a list of checks, a list of answers."""
        with self.db.transaction() as uow:
            return personal_data.nik_belongs_to(uow, caller, nik, person_ref, _rpc_audit())


def _audit(call):
    """The purpose (``headers=PURPOSE``: a purpose the access log cannot
    keep is a 422) and correlation id of a request that reads personal data."""
    return personal_data.Audit(call.headers["purpose"], call.correlation_id)


def _rpc_audit():
    return personal_data.Audit(correlation_id=context.current().correlation_id)
