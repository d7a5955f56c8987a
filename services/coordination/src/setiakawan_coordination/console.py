"""The agencies' web console, served by the coordination service (thin
page entrypoints; the figures come from the use cases, the other
services' pages from their APIs with the signed-in agency's own token)."""
from datetime import datetime

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from nameko.extensions import DependencyProvider

from setiakawan_kit.console import ConsoleMixin, Page, Redirect, page, remote
from setiakawan_kit.regions import region as region_code

from . import coverage, operations, views
from .rules import periods
from .schemas import _period

ANY = ("admin", "operator", "field_officer", "viewer")
LOOKUP_ROLES = ("admin", "operator", "field_officer")


class ConsoleSettings(DependencyProvider):
    """Where the other services' APIs are (``CONSOLE_SERVICES``), and the
    operator's broker account of the operations page, if given."""

    def setup(self):
        config = self.container.config
        self.services = {name: str(url) for name, url in (config.get("CONSOLE_SERVICES") or {}).items() if url}
        self.operator = operations.Broker(config.get("CONSOLE_OPERATOR_AMQP_URI"),
                                          config.get("CONSOLE_RABBITMQ_MANAGEMENT_URL"))

    def get_dependency(self, worker_ctx):
        return self

    def url(self, service):
        return self.services.get(service) or f"http://unconfigured-{service}"


class OverviewQuery(Schema):
    region = fields.String(load_default=None, validate=region_code)
    period = fields.String(load_default=None, validate=_period)
    gap_decile = fields.Integer(load_default=None, validate=validate.Range(1, 10))


class LookupQuery(Schema):
    nik = fields.String(load_default=None, validate=validate.Regexp(r"^\d{16}$", error="A NIK has exactly 16 digits."))
    name = fields.String(load_default=None, validate=validate.Length(2, 200))
    region = fields.String(load_default=None, validate=region_code)
    purpose = fields.String(load_default=None, validate=validate.Length(max=200))

    @validates_schema
    def one_way(self, data, **kwargs):
        if data.get("nik") and data.get("name"):
            raise ValidationError("Search by a NIK or by a name, not both.")


class PurposeQuery(Schema):
    purpose = fields.String(required=True, validate=validate.Length(3, 200))


class ReplayForm(Schema):
    queue = fields.String(required=True, validate=validate.Length(1, 255))
    event_id = fields.String(load_default=None, validate=validate.Length(1, 200))


class CoordinationConsole(ConsoleMixin):
    console_home = "/console/coverage"
    console_nav = (("nav.coverage", "/console/coverage", None),
                   ("nav.households", "/console/households", LOOKUP_ROLES),
                   ("nav.operations", "/console/operations", ("admin",)))
    console = ConsoleSettings()

    @page("GET", "/console/", roles=ANY)
    def console_home_page(self, visit):
        return Redirect(self.console_home)

    @page("GET", "/console/coverage", query=OverviewQuery, roles=ANY)
    def console_coverage(self, visit):
        query = visit.query
        region = query["region"] or visit.identity.regions[0]
        period = periods.asked(query["period"], datetime.now(periods.INDONESIA).date())
        decile = query["gap_decile"] or self.gap_decile
        if not visit.identity.covers(region):
            with self.db.transaction() as uow:
                report = coverage.covered_areas(uow, visit.identity, region, period, decile)
            return Page("coverage_above.html", {
                "report": report, "periods": periods.recent(datetime.now(periods.INDONESIA).date())},
                tables=[views.covered_areas_table(report, visit.t)])
        with self.db.transaction() as uow:
            report = coverage.overview(uow, visit.identity, region, period, decile)
        return Page("coverage.html", {
            "report": report, "charts": views.coverage_charts(report, visit.t, visit.language),
            "periods": periods.recent(datetime.now(periods.INDONESIA).date()),
        }, tables=views.coverage_tables(report, visit.t))

    @page("GET", "/console/programmes/<uuid:programme_id>", roles=ANY)
    def console_programme(self, visit, programme_id):
        url = self.console.url("distribution")
        report = remote.get(url, f"/reports/programmes/{programme_id}", visit.token, service="distribution")
        programme = remote.get(url, f"/programmes/{programme_id}", visit.token, service="distribution")
        point = None
        if programme.get("point_id"):
            try:
                point = remote.get(url, f"/points/{programme['point_id']}", visit.token, service="distribution")
            except remote.Problem:
                point = None  # another agency's point: the programme's figures still stand
        return Page("programme.html", {"report": report, "programme": programme, "point": point},
                    tables=views.programme_tables(report, visit.t))

    @page("GET", "/console/courses/<uuid:course_id>", roles=ANY)
    def console_course(self, visit, course_id):
        url = self.console.url("training")
        course = remote.get(url, f"/courses/{course_id}", visit.token, service="training")
        report = remote.get(url, "/reports/participation", visit.token, service="training",
                            params={"by": "course", "course_id": str(course_id)})
        line = report["lines"][0] if report["lines"] else {}
        return Page("course.html", {"course": course, "line": line}, tables=views.course_tables(line, visit.t))

    @page("GET", "/console/households", query=LookupQuery, roles=LOOKUP_ROLES)
    def console_households(self, visit):
        query, found = visit.query, None
        if query["nik"] or query["name"]:
            if not query["purpose"]:
                raise ValidationError({"purpose": ["Say why you look this person up: it is kept in the "
                                                   "registry's access log."]})
            found = remote.get(self.console.url("registry"), "/households", visit.token, service="registry",
                               params={"nik": query["nik"], "name": query["name"], "region": query["region"]},
                               headers={"X-Purpose": query["purpose"]})
        return Page("households.html", {"query": query, "found": found})

    @page("GET", "/console/households/<uuid:household_id>", query=PurposeQuery, roles=LOOKUP_ROLES)
    def console_household(self, visit, household_id):
        purpose = visit.query["purpose"]
        household = remote.get(self.console.url("registry"), f"/households/{household_id}", visit.token,
                               service="registry", headers={"X-Purpose": purpose})
        try:
            benefits = remote.get(self.console.url("distribution"), f"/reports/households/{household_id}",
                                  visit.token, service="distribution")
        except remote.Problem:
            benefits = None
        return Page("household.html", {"household": household, "benefits": benefits, "purpose": purpose})

    @page("GET", "/console/operations", roles=("admin",))
    def console_operations(self, visit):
        status = operations.platform(visit.identity, self.console.services, self.console.operator)
        return Page("operations.html", {"status": status, "replayed": visit.request.args.get("replayed")})

    @page("POST", "/console/operations/replay", form=ReplayForm, roles=("admin",))
    def console_replay(self, visit):
        count = operations.replay(visit.identity, self.console.operator, visit.form["queue"], visit.form["event_id"])
        return Redirect(f"/console/operations?replayed={count}")
