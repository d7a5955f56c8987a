"""What the console's pages show, built from the use cases' answers: the
tables (each exportable) and the charts, in the page's language. Pure:
no request, no database."""
from setiakawan_kit.console import Table
from setiakawan_kit.console.charts import Series, stacked_bars
from setiakawan_kit.console.i18n import number

from .rules import regions

REACHED = "#0b6e4f"
GAPS = "#b42318"
DELIVERED = "#0b6e4f"
WAITING = "#7fb8a4"
BLOCKED = "#b54708"


def coverage_tables(report, t):
    return [
        Table("areas", t("coverage.areas"), [
            ("code", t("col.code")), ("name", t("col.region")), ("households", t("col.households")),
            ("poor_households", t("col.poor")), ("households_reached", t("col.reached")),
            ("households_delivered", t("col.delivered")), ("gaps", t("col.gaps")),
            ("gap_share", t("col.gap_share")), ("persons_trained", t("col.trained")),
            ("persons_completed", t("col.completed")), ("agencies", t("col.agencies"))],
            [report["totals"], *report["areas"]]),
        Table("agencies", t("coverage.agencies"), [
            ("agency", t("col.agency")), ("kind", t("col.kind")), ("programmes", t("col.programmes")),
            ("courses", t("col.courses")), ("households_reached", t("col.reached"))], report["agencies"]),
        Table("programmes", t("coverage.programmes"), [
            ("name", t("col.programme")), ("agency", t("col.agency")), ("category", t("col.category")),
            ("kind", t("col.benefit_kind")), ("planned", t("col.planned")), ("delivered", t("col.delivered")),
            ("blocked", t("col.blocked")), ("amount_planned", t("col.amount_planned"))], report["programmes"]),
        Table("categories", t("coverage.categories"), [
            ("category", t("col.category")), ("programmes", t("col.programmes")), ("planned", t("col.planned")),
            ("delivered", t("col.delivered")), ("blocked", t("col.blocked"))], report["programmes_by_category"]),
        Table("courses", t("coverage.courses"), [
            ("title", t("col.course")), ("provider_agency", t("col.agency")), ("skill_area", t("col.skill_area")),
            ("status", t("col.status")), ("enrolled", t("col.enrolled")), ("waitlisted", t("col.waitlisted")),
            ("completed", t("col.completed"))], report["courses"]),
        Table("skill_areas", t("coverage.skill_areas"), [
            ("skill_area", t("col.skill_area")), ("courses", t("col.courses")), ("enrolled", t("col.enrolled")),
            ("completed", t("col.completed"))], report["courses_by_skill_area"]),
        Table("overlaps", t("coverage.overlaps"), [
            ("agencies", t("col.agencies_pair")), ("categories", t("col.category")),
            ("households", t("col.households"))], report["overlaps_prevented"]),
    ]


def covered_areas_table(report, t):
    return Table("areas", t("coverage.areas"), [
        ("code", t("col.code")), ("name", t("col.region")), ("households", t("col.households")),
        ("poor_households", t("col.poor")), ("households_reached", t("col.reached")), ("gaps", t("col.gaps"))],
        [a for a in report["areas"] if a["covered"]])


def coverage_charts(report, t, language):
    """Reached versus gaps per region below (or the region itself at a
    village), and per benefit category delivered, still to deliver and blocked."""
    fmt = lambda value: number(value, language)  # noqa: E731
    areas = report["areas"] or [report["totals"]]
    reach = stacked_bars(
        t("chart.reach_title", region=report["region"]["name"]),
        [(a["name"], [a["households_reached"], a["gaps"]]) for a in areas],
        [Series(t("col.reached"), REACHED), Series(t("col.gaps"), GAPS)], number=fmt)
    categories = report["programmes_by_category"]
    benefit = stacked_bars(
        t("chart.category_title", region=report["region"]["name"]),
        [(c["category"], [c["delivered"], c["planned"] - c["delivered"], c["blocked"]]) for c in categories],
        [Series(t("col.delivered"), DELIVERED), Series(t("chart.waiting"), WAITING),
         Series(t("col.blocked"), BLOCKED)], number=fmt) if categories else None
    return {"reach": reach, "benefit": benefit}


def programme_tables(report, t):
    return [
        Table("villages", t("programme.villages"), [
            ("village_code", t("col.code")), ("village_name", t("col.region")), ("planned", t("col.planned")),
            ("delivered", t("col.delivered")), ("blocked", t("col.blocked")), ("revoked", t("col.revoked")),
            ("amount_planned", t("col.amount_planned")), ("amount_delivered", t("col.amount_delivered"))],
            [dict(line, village_name=regions.name(line["village_code"])) for line in report["by_village"]]),
        Table("stock", t("programme.stock"), [
            ("item", t("col.item")), ("unit", t("col.unit")), ("on_hand", t("col.on_hand")),
            ("allocated", t("col.allocated")), ("still_to_deliver", t("col.still_to_deliver"))], report["stock"]),
    ]


def course_tables(line, t):
    def rows(counts):
        return [{"key": key, "persons": value} for key, value in sorted((counts or {}).items())]

    return [
        Table("by_sex", t("course.by_sex"), [("key", t("col.sex")), ("persons", t("col.persons"))],
              rows(line.get("by_sex"))),
        Table("by_age_band", t("course.by_age_band"), [("key", t("col.age_band")), ("persons", t("col.persons"))],
              rows(line.get("by_age_band"))),
        Table("by_village", t("course.by_village"), [("key", t("col.code")), ("name", t("col.region")),
                                                      ("persons", t("col.persons"))],
              [dict(r, name=regions.name(r["key"])) for r in rows(line.get("by_village"))]),
    ]
