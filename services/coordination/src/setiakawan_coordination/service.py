"""The coordination service's nameko entrypoints: thin translations from
the other services' events to the read model, and from HTTP to the
coordination figures."""
from datetime import datetime

from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Response

from setiakawan_kit.consumer import handles
from setiakawan_kit.diagnostics import DiagnosticsMixin
from setiakawan_kit.http import api
from setiakawan_kit.service import KitService

from . import coverage, read_model, schemas
from .console import CoordinationConsole
from .rules import periods

ANY = ("admin", "operator", "field_officer", "viewer")


class GapDecile(DependencyProvider):
    """``GAP_DECILE_MAX``: a verified household of this decile or lower is poor (4 by default)."""

    def setup(self):
        value = self.container.config.get("GAP_DECILE_MAX", 4)
        try:
            self.decile = int(value)
        except (TypeError, ValueError):
            self.decile = None
        if self.decile is None or not 1 <= self.decile <= 10:
            raise RuntimeError(f"GAP_DECILE_MAX {value!r} is not a decile (1 to 10)")

    def get_dependency(self, worker_ctx):
        return self.decile


def _handler(source, event_type):
    name = f"{source}_{event_type.replace('.', '_')}"

    @handles(source, event_type, name=name, batch=True)
    def handler(self, uow, events):
        read_model.apply(uow, source, events)

    handler.__name__ = f"on_{name}"
    return handler


class CoordinationService(CoordinationConsole, DiagnosticsMixin, KitService):
    """Who does what where (3W): the agencies, programmes and courses at
    work in each region, the households they reached, and the poor
    households nobody reached; kept only from the other services' events."""

    name = "coordination"
    description = __doc__
    gap_decile = GapDecile()

    @api("GET", "/coverage", query=schemas.CoverageQuery, response=schemas.CoverageOut, roles=ANY,
         tags=["coverage"], summary="Who does what where in a region and period, and the poor households "
                                    "nobody reached, with a line per region one level below")
    def get_coverage(self, call):
        return self._overview(call)

    @api("GET", "/coverage.csv", query=schemas.CoverageQuery, roles=ANY, content_type="text/csv",
         tags=["coverage"], summary="The region's line and those of the regions below it, as CSV")
    def coverage_csv(self, call):
        report = self._overview(call)
        return Response(coverage.areas_csv(report), content_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="coverage-{report["region"]["code"]}-'
                                   f'{report["period"]["label"]}.csv"'})

    @api("GET", "/coverage.xlsx", query=schemas.CoverageQuery, roles=ANY, content_type=coverage.XLSX,
         tags=["coverage"], summary="The whole report as an Excel workbook (regions, agencies, benefits, "
                                    "courses, overlaps)")
    def coverage_xlsx(self, call):
        report = self._overview(call)
        return Response(coverage.workbook(report), content_type=coverage.XLSX, headers={
            "Content-Disposition": f'attachment; filename="coverage-{report["region"]["code"]}-'
                                   f'{report["period"]["label"]}.xlsx"'})

    @api("POST", "/read-model/rebuild", response=schemas.RebuildOut, roles=("admin",), tags=["read model"],
         summary="Empty the read model and apply every logged event again, in the order they came")
    def rebuild(self, call):
        with self.db.transaction() as uow:
            return read_model.rebuild(uow, call.identity)

    def _overview(self, call):
        query = call.query
        period = periods.asked(query["period"], datetime.now(periods.INDONESIA).date())
        with self.db.transaction() as uow:
            return coverage.overview(uow, call.identity, query["region"], period,
                                     query["gap_decile"] or self.gap_decile)


# one idempotent consumer per event type the read model is kept from
for _source, _types in read_model.APPLY.items():
    for _type in _types:
        _method = _handler(_source, _type)
        setattr(CoordinationService, _method.__name__, _method)
