"""The distribution service's nameko entrypoints: thin translations from
HTTP and other services' events to the use cases."""
from werkzeug.wrappers import Response

from setiakawan_kit import context
from setiakawan_kit.consumer import handles
from setiakawan_kit.diagnostics import DiagnosticsMixin
from setiakawan_kit.http import api
from setiakawan_kit.rpc import RpcClient
from setiakawan_kit.service import KitService

from . import deliveries, entitlements, programmes, readmodel, reports, schemas, stock
from .rules import eligibility
from .rules.access import MANAGE_ROLES as MANAGE, WRITE_ROLES as WRITE

ANY = ("admin", "operator", "field_officer", "viewer")
NIK_CHECKS_PER_CALL = 100
STATE = "The programme's state does not allow this (its status is in programme_status)"
RULE = "A rule refuses it (the errors say which)"
HOUSEHOLD_EVENTS = ("household.registered", "household.updated", "household.verified", "household.rejected",
                    "household.status_changed", "member.added", "member.removed", "household.merged")
RULE_EXAMPLES = ["household.decile <= 4 && household.verified",
                 'within(household.village_code, "62.13") && household.decile <= 3',
                 "household.children > 0 || household.elderly > 0 || household.disabled > 0",
                 '"kube" in household.group_kinds', '"sewing" in household.completed_skills']


def _household_handler(event_type):
    @handles("registry", event_type, name=event_type.replace(".", "_"), batch=True)
    def handler(self, uow, events):
        readmodel.apply_households(uow, events)

    handler.__name__ = f"on_{event_type.replace('.', '_')}"
    return handler


def _csv(text, filename):
    return Response(text, content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


class DistributionService(DiagnosticsMixin, KitService):
    """Aid programmes of every agency, eligibility rules as data, one
    cross-agency benefit ledger, stock at distribution points and proof of
    delivery."""

    name = "distribution"
    description = __doc__

    # proof of delivery: the NIK shown is the recipient's; also what its broker account may call
    # the NIK checks of the deliveries in flight go to the registry together, in one call
    registry = RpcClient("registry", methods=("nik_belongs_to",), coalesce={"nik_belongs_to": NIK_CHECKS_PER_CALL})

    # -- programmes ----------------------------------------------------------
    @api("POST", "/programmes", body=schemas.ProgrammeIn, response=schemas.ProgrammeOut, roles=MANAGE, status=201,
         problems={422: RULE}, tags=["programmes"], summary="Create a programme (a draft) with its eligibility rule")
    def create_programme(self, call):
        with self.db.transaction() as uow:
            return 201, programmes.create(uow, call.identity, call.body)

    @api("GET", "/programmes", query=schemas.ProgrammeQuery, response=schemas.ProgrammePage, roles=ANY,
         tags=["programmes"], summary="Programmes the caller may see, newest first")
    def list_programmes(self, call):
        with self.db.transaction() as uow:
            return programmes.search(uow, call.identity, call.query)

    @api("GET", "/programmes/<uuid:programme_id>", response=schemas.ProgrammeOut, roles=ANY, tags=["programmes"])
    def get_programme(self, call, programme_id):
        with self.db.transaction() as uow:
            return programmes.read(uow, call.identity, programme_id)

    @api("PUT", "/programmes/<uuid:programme_id>", body=schemas.ProgrammeIn, response=schemas.ProgrammeOut,
         roles=MANAGE, problems={409: STATE, 422: RULE}, tags=["programmes"], summary="Replace a draft programme")
    def edit_programme(self, call, programme_id):
        with self.db.transaction() as uow:
            return programmes.edit(uow, call.identity, programme_id, call.body)

    @api("POST", "/programmes/<uuid:programme_id>/preview", response=schemas.PreviewOut, roles=ANY,
         tags=["programmes"], summary="How many beneficiaries, per village, the rule reaches now")
    def preview_programme(self, call, programme_id):
        with self.db.transaction() as uow:
            return programmes.preview(uow, call.identity, programme_id)

    @api("POST", "/programmes/<uuid:programme_id>/activate", response=schemas.ProgrammeOut, roles=MANAGE,
         problems={409: STATE}, tags=["programmes"],
         summary="Activate a draft: every eligible beneficiary's entitlement issued (or blocked) at once")
    def activate_programme(self, call, programme_id):
        with self.db.transaction() as uow:
            return programmes.activate(uow, call.identity, programme_id)

    @api("POST", "/programmes/<uuid:programme_id>/close", response=schemas.ProgrammeOut, roles=MANAGE,
         problems={409: STATE}, tags=["programmes"], summary="Close a programme: what is undelivered is revoked")
    def close_programme(self, call, programme_id):
        with self.db.transaction() as uow:
            return programmes.close(uow, call.identity, programme_id)

    @api("GET", "/rules", response=schemas.RuleHelpOut, roles=ANY, tags=["programmes"],
         summary="What an eligibility rule may read and call, with examples")
    def rule_help(self, call):
        return {"fields_": {name: f"{kind}: {about}" for name, (kind, about) in eligibility.FIELDS.items()},
                "functions": eligibility.FUNCTIONS, "examples": RULE_EXAMPLES}

    # -- entitlements and delivery -------------------------------------------
    @api("GET", "/programmes/<uuid:programme_id>/entitlements", query=schemas.EntitlementQuery,
         response=schemas.EntitlementPage, roles=ANY, tags=["entitlements"],
         summary="A programme's entitlements the caller may see, by village")
    def list_entitlements(self, call, programme_id):
        with self.db.transaction() as uow:
            return entitlements.in_programme(uow, call.identity, programme_id, call.query)

    @api("GET", "/entitlements/<uuid:entitlement_id>", response=schemas.EntitlementOut, roles=ANY,
         tags=["entitlements"])
    def get_entitlement(self, call, entitlement_id):
        with self.db.transaction() as uow:
            return entitlements.read(uow, call.identity, entitlement_id)

    @api("POST", "/entitlements/<uuid:entitlement_id>/delivery", body=schemas.DeliveryIn,
         response=schemas.DeliveryOut, roles=WRITE, status=201, answers={200: "The same delivery, retried"},
         problems={409: "Delivered already, revoked or blocked; or the point lacks the stock", 422: RULE},
         tags=["entitlements"], summary="Record the handover, the recipient's NIK checked with the registry")
    def deliver(self, call, entitlement_id):
        with self.db.transaction() as uow:
            delivery, entitlement, created = deliveries.deliver(uow, call.identity, entitlement_id, call.body,
                                                                self._nik_belongs_to)
        return (201 if created else 200), dict(delivery, entitlement=entitlement)

    def _nik_belongs_to(self, nik, person_ref):
        return self.registry.coalesced("nik_belongs_to", {"nik": nik, "person_ref": person_ref,
                                                          "correlation_id": context.current().correlation_id})

    # -- distribution points and stock ---------------------------------------
    @api("POST", "/points", body=schemas.PointIn, response=schemas.PointOut, roles=MANAGE, status=201,
         tags=["stock"], summary="Set up a distribution point (a warehouse or village hall)")
    def create_point(self, call):
        with self.db.transaction() as uow:
            return 201, dict(stock.create_point(uow, call.identity, call.body), stock=[])

    @api("GET", "/points", response=[schemas.PointOut], roles=ANY, tags=["stock"],
         summary="The caller's points and those in its regions")
    def list_points(self, call):
        with self.db.transaction() as uow:
            return [dict(p, stock=[]) for p in stock.points(uow, call.identity)]

    @api("GET", "/points/<uuid:point_id>", response=schemas.PointOut, roles=ANY, tags=["stock"],
         summary="A point with its stock per item")
    def get_point(self, call, point_id):
        with self.db.transaction() as uow:
            return stock.read_point(uow, call.identity, point_id)

    @api("POST", "/points/<uuid:point_id>/moves", body=schemas.MoveIn, response=schemas.PointOut, roles=WRITE,
         problems={409: "The point does not hold that much", 422: RULE}, tags=["stock"],
         summary="Record stock received, allocated or returned")
    def move_stock(self, call, point_id):
        with self.db.transaction() as uow:
            return stock.record_move(uow, call.identity, point_id, call.body)

    # -- reports ---------------------------------------------------------------
    @api("GET", "/reports/programmes/<uuid:programme_id>", response=schemas.ProgrammeReportOut, roles=ANY,
         tags=["reports"], summary="Per village: planned, delivered, blocked, Rupiah and items; the point's stock")
    def programme_report(self, call, programme_id):
        with self.db.transaction() as uow:
            return reports.programme(uow, call.identity, programme_id)

    @api("GET", "/reports/programmes/<uuid:programme_id>.csv", roles=ANY, content_type="text/csv",
         tags=["reports"], summary="The programme report as CSV")
    def programme_report_csv(self, call, programme_id):
        with self.db.transaction() as uow:
            report = reports.programme(uow, call.identity, programme_id)
        return _csv(reports.programme_csv(report), f"programme-{programme_id}.csv")

    @api("GET", "/reports/households/<uuid:household_id>", response=schemas.HouseholdBenefitsOut, roles=ANY,
         tags=["reports"], summary="Every benefit a household holds or held, from every agency")
    def household_report(self, call, household_id):
        with self.db.transaction() as uow:
            return reports.household(uow, call.identity, household_id)

    @api("GET", "/reports/households/<uuid:household_id>.csv", roles=ANY, content_type="text/csv",
         tags=["reports"], summary="The household's benefits as CSV")
    def household_report_csv(self, call, household_id):
        with self.db.transaction() as uow:
            report = reports.household(uow, call.identity, household_id)
        return _csv(reports.household_csv(report), f"household-{household_id}.csv")

    # -- other services' events (the read models) --------------------------------
    on_household_registered = _household_handler("household.registered")
    on_household_updated = _household_handler("household.updated")
    on_household_verified = _household_handler("household.verified")
    on_household_rejected = _household_handler("household.rejected")
    on_household_status_changed = _household_handler("household.status_changed")
    on_member_added = _household_handler("member.added")
    on_member_removed = _household_handler("member.removed")
    on_household_merged = _household_handler("household.merged")

    @handles("registry", "group.registered", name="group_registered")
    def on_group_registered(self, uow, event):
        readmodel.apply_group(uow, event)

    @handles("registry", "group.updated", name="group_updated")
    def on_group_updated(self, uow, event):
        readmodel.apply_group(uow, event)

    @handles("training", "participant.completed", name="participant_completed")
    def on_participant_completed(self, uow, event):
        readmodel.apply_completion(uow, event)
