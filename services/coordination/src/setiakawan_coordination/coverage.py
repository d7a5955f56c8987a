"""Use cases of the coordination figures: who does what where in a region
and period, and the poor households nobody reached (rules/coverage.py
defines each figure), for the agencies whose token covers the region."""
import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from setiakawan_kit.auth import require_region

from .rules import coverage as rules, regions
from .storage import coverage as storage


def _params(region, period, gap_decile, child_length):
    return {"region": region, "region_like": region + ".%", "starts_on": period.starts_on,
            "ends_on": period.ends_on, "gap_decile": gap_decile, "child_length": child_length}


def overview(uow, identity, region, period, gap_decile):
    """The region's figures in ``period``, with a line per region one level
    below (none below a village). Counted once for each state of the read
    model: asked again before another event is applied, the same figures
    come from the figures kept (a province's count takes seconds)."""
    require_region(identity, region)
    key = f"{region}|{period.label}|{gap_decile}"
    changes = storage.changes(uow)
    report = storage.kept_figures(uow, key, changes)
    if report is None:
        report = _count(uow, region, period, gap_decile)
        storage.keep_figures(uow, key, changes, report)
    return report


def _count(uow, region, period, gap_decile):
    child_length = regions.child_length(region)
    params = _params(region, period, gap_decile, len(region))
    agencies = rules.agencies(storage.agency_lines(uow, params))
    if child_length:
        # each household, person and group lies in one area below: the region's counts are their sums
        areas = _lines(uow, _params(region, period, gap_decile, child_length))
        totals = {key: sum(int(counts.get(key) or 0) for counts in areas.values()) for key in rules.AREA_COUNTS}
        totals["agencies"] = sum(1 for line in agencies if line["households_reached"])
    else:
        areas, totals = {}, _lines(uow, params).get(region, {})
    return {
        "region": {"code": region, "name": regions.name(region), "level": regions.level(region),
                   "parents": [{"code": c, "name": regions.name(c)} for c in regions.ancestors(region)[:-1]]},
        "period": period.as_dict(),
        "gap_decile": gap_decile,
        "totals": rules.area_line(region, regions.name(region), totals),
        "areas": sorted((rules.area_line(code, regions.name(code), counts) for code, counts in areas.items()),
                        key=lambda line: (-line["gaps"], line["code"])),
        "agencies": agencies,
        "programmes_by_category": [dict(r) for r in storage.programme_categories(uow, params)],
        "courses_by_skill_area": [dict(r) for r in storage.course_skill_areas(uow, params)],
        "overlaps_prevented": rules.overlaps(storage.blocked_pairs(uow, params)),
        "programmes": [dict(r) for r in storage.programme_lines(uow, params)],
        "courses": [dict(r) for r in storage.course_lines(uow, params)],
    }


def _lines(uow, params):
    counts = {}
    for source in (storage.household_counts(uow, params), storage.reach_counts(uow, params)):
        for code, row in source.items():
            counts.setdefault(code, {}).update({k: v for k, v in row.items() if k != "code"})
    return counts


AREA_COLUMNS = ("code", "name", *rules.AREA_COUNTS, "gap_share", "agencies")


def areas_csv(report):
    """The region's line and its areas' as CSV (what agencies pass around)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(AREA_COLUMNS)
    for line in [report["totals"], *report["areas"]]:
        writer.writerow(["" if line[c] is None else line[c] for c in AREA_COLUMNS])
    return "\ufeff" + out.getvalue()  # the mark that makes Excel read UTF-8


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_HIGH = PatternFill("solid", fgColor="F4CCCC")


def workbook(report):
    """The report as an Excel workbook: a sheet of regions (gaps marked in
    red where high), one of agencies, one of categories and skill areas,
    one of overlaps prevented."""
    book = Workbook()
    regions_sheet = book.active
    regions_sheet.title = "Wilayah"
    title = (f"{report['region']['name']} ({report['region']['code']}), {report['period']['label']}; "
             f"miskin: terverifikasi, desil ≤ {report['gap_decile']}")
    regions_sheet.append([title])
    regions_sheet["A1"].font = Font(bold=True)
    regions_sheet.append(list(AREA_COLUMNS))
    for line in [report["totals"], *report["areas"]]:
        regions_sheet.append([line[c] for c in AREA_COLUMNS])
        if line["gap_level"] == "high":
            for cell in regions_sheet[regions_sheet.max_row]:
                cell.fill = _HIGH
    _sheet(book, "Lembaga", ("agency", "kind", "programmes", "courses", "households_reached"), report["agencies"])
    _sheet(book, "Bantuan", ("category", "programmes", "planned", "delivered", "blocked"),
           report["programmes_by_category"])
    _sheet(book, "Pelatihan", ("skill_area", "courses", "enrolled", "completed"), report["courses_by_skill_area"])
    _sheet(book, "Tumpang tindih", ("agencies", "categories", "households"), [
        {**o, "agencies": " / ".join(o["agencies"]), "categories": ", ".join(o["categories"])}
        for o in report["overlaps_prevented"]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet(book, title, columns, lines):
    sheet = book.create_sheet(title)
    sheet.append(list(columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for line in lines:
        sheet.append([line[c] for c in columns])


def covered_areas(uow, identity, region, period, gap_decile):
    """Above the agency's own regions (a district office looking at its
    province): only the regions one level below that lead to its own,
    with figures where its token covers the whole of one, so that it can
    drill down to them and sees nothing of the regions it does not cover."""
    child_length = regions.child_length(region)
    under = [r for r in identity.regions if r.startswith(region + ".")]
    if not under or child_length is None:
        require_region(identity, region)  # neither covered nor above a covered region: refused
    lines = []
    for code in sorted({r[:child_length] for r in under}):
        if identity.covers(code):
            lines.append(_lines_of(uow, code, period, gap_decile))
        else:
            lines.append({"code": code, "name": regions.name(code), "covered": False})
    return {"region": {"code": region, "name": regions.name(region), "level": regions.level(region),
                       "parents": [{"code": c, "name": regions.name(c)} for c in regions.ancestors(region)[:-1]]},
            "period": period.as_dict(), "gap_decile": gap_decile, "areas": lines}


def _lines_of(uow, code, period, gap_decile):
    counts = _lines(uow, _params(code, period, gap_decile, len(code)))
    return dict(rules.area_line(code, regions.name(code), counts.get(code, {})), covered=True)
