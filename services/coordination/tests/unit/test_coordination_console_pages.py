"""Every console page of the coordination service rendered from sample
answers, in both languages: each word known in each, figures formatted as
the language writes them, the tables and charts there."""
import jinja2
import pytest

from setiakawan_coordination import views
from setiakawan_coordination.rules import regions
from setiakawan_kit.auth import ROLES, Identity
from setiakawan_kit.console import i18n
from setiakawan_kit.console.pages import environment

CATALOG = i18n.Catalog.of_packages("setiakawan_kit.console", "setiakawan_coordination")
ENV = environment(jinja2.ChoiceLoader([jinja2.PackageLoader("setiakawan_coordination", "templates"),
                                       jinja2.PackageLoader("setiakawan_kit.console", "templates")]))
IDENTITY = Identity("Dinas Sosial Kabupaten Barito Timur", "district", "admin", ("62.13",))
PROGRAMME_ID = "2e7dd94d-0b43-4297-adc2-1d8746bd2ae9"


def line(code, name, gaps=0, poor=3, level="none", covered=True):
    return {"code": code, "name": name, "households": 6, "poor_households": poor, "households_reached": 3,
            "households_delivered": 1, "gaps": gaps, "gap_share": gaps / poor if poor else None, "gap_level": level,
            "persons_trained": 1, "persons_completed": 1, "groups_reached": 0, "agencies": 2, "covered": covered}


REPORT = {
    "region": {"code": "62.13", "name": "Kabupaten Barito Timur", "level": "regency",
               "parents": [{"code": "62", "name": "Kalimantan Tengah"}]},
    "period": {"label": "2026-12", "starts_on": "2026-12-01", "ends_on": "2026-12-31"}, "gap_decile": 4,
    "totals": line("62.13", "Kabupaten Barito Timur", gaps=3, poor=6, level="high"),
    "areas": [line("62.13.02", "Banua Lima", gaps=3, level="high"), line("62.13.01", "Dusun Timur")],
    "agencies": [{"agency": "Dinas Sosial Provinsi Kalimantan Tengah", "kind": "province", "programmes": 1,
                  "courses": 0, "households_reached": 3}],
    "programmes_by_category": [{"category": "food", "programmes": 1, "planned": 3, "delivered": 1, "blocked": 1}],
    "courses_by_skill_area": [{"skill_area": "sewing", "courses": 1, "enrolled": 1, "completed": 1}],
    "overlaps_prevented": [{"agencies": ["A", "B"], "categories": ["food"], "households": 1}],
    "programmes": [{"programme_id": PROGRAMME_ID, "name": "Sembako Provinsi", "agency": "Dinas Sosial",
                    "kind": "in_kind", "category": "food", "status": "active", "starts_on": "2026-12-01",
                    "ends_on": "2026-12-31", "budget": None, "planned": 3, "delivered": 1, "blocked": 1,
                    "amount_planned": 48_000_000}],
    "courses": [{"course_id": PROGRAMME_ID, "title": "Pelatihan menjahit", "provider_agency": "Dinas Sosial",
                 "skill_area": "sewing", "status": "finished", "capacity": 12, "enrolled": 1, "waitlisted": 0,
                 "completed": 1}],
}


def render(template, language, **context):
    t = lambda key, **v: CATALOG.text(key, language, **v)  # noqa: E731
    return ENV.get_template(template).render(
        language=language, t=t, identity=IDENTITY, csrf_field="csrf", csrf="x", path="/console/coverage",
        query_string="region=62.13", nav=(("nav.coverage", "/console/coverage", None),
                                          ("nav.operations", "/console/operations", ("admin",))), **context)


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_the_overview_renders_with_its_gaps_charts_and_exports(language):
    t = lambda key, **v: CATALOG.text(key, language, **v)  # noqa: E731
    tables = {table.name: table for table in views.coverage_tables(REPORT, t)}
    html = render("coverage.html", language, report=REPORT, charts=views.coverage_charts(REPORT, t, language),
                  periods=["2026-12", "2026-11"], tables=tables)
    assert '<tr class="gap-high" data-code="62.13.02">' in html and html.count("<svg") == 2
    assert f"/console/programmes/{PROGRAMME_ID}" in html and "Rp48.000.000" in html
    for name in tables:
        assert f"export=xlsx&amp;table={name}" in html
    above = dict(REPORT, areas=[line("62.13", "Kabupaten Barito Timur"), {"code": "62.11", "name": "Kapuas",
                                                                          "covered": False}])
    html = render("coverage_above.html", language, report=above, periods=["2026-12"],
                  tables={"areas": views.covered_areas_table(above, t)})
    assert 'data-code="62.11"' in html and CATALOG.text("coverage.partly_yours", language) in html


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_the_programme_course_household_and_operations_pages_render(language):
    t = lambda key, **v: CATALOG.text(key, language, **v)  # noqa: E731
    report = {"programme_id": PROGRAMME_ID, "name": "Sembako", "agency": "Dinas Sosial", "status": "active",
              "budget": 100_000_000, "budget_used": 48_000_000,
              "totals": {"planned": 3, "delivered": 1, "blocked": 1},
              "by_village": [{"village_code": "62.13.01.2003", "planned": 3, "delivered": 1, "blocked": 1,
                              "revoked": 0, "amount_planned": 0, "amount_delivered": 0, "items": []}],
              "stock": [{"item": "beras", "unit": "kg", "on_hand": "300", "allocated": "30", "still_to_deliver": "20"}]}
    programme = {"partners": ["Dinas Sosial Kabupaten Barito Timur"], "category": "food", "funding_source": "apbd",
                 "period": {"starts_on": "2026-12-01", "ends_on": "2026-12-31"}}
    html = render("programme.html", language, report=report, programme=programme,
                  point={"name": "Gudang Tamiang Layang", "village_code": "62.13.01.1012"},
                  tables={t_.name: t_ for t_ in views.programme_tables(report, t)})
    assert "Rp100.000.000" in html and "Pulau Patai" in html and "Gudang Tamiang Layang" in html
    course = {"title": "Pelatihan menjahit", "provider_agency": "Dinas Sosial", "partners": [], "skill_area": "sewing",
              "status": "finished", "starts_at": "2026-12-23T01:00:00+00:00", "ends_at": "2026-12-24T07:00:00+00:00",
              "capacity": 12}
    course_line = {"enrolled": 2, "waitlisted": 0, "completed": 1, "attendance_share": 0.75,
                   "by_sex": {"F": 2}, "by_age_band": {"18-24": 2}, "by_village": {"62.13.01.2003": 2}}
    html = render("course.html", language, course=course, line=course_line,
                  tables={t_.name: t_ for t_ in views.course_tables(course_line, t)})
    assert "75" in html and "Pulau Patai" in html
    found = {"disclosure": "masked", "items": [{"nik": "6213********0001", "name": "S***", "sex": "F",
                                                "village_code": "62.13.01.2003", "status": "verified",
                                                "household_id": PROGRAMME_ID}]}
    html = render("households.html", language, query={"nik": None, "name": "Siti", "region": None,
                                                      "purpose": "kunjungan lapangan"}, found=found)
    assert "6213********0001" in html and "purpose=kunjungan%20lapangan" in html
    household = {"kk_number": "6213************", "village_code": "62.13.01.2003", "decile": 2, "status": "verified",
                 "disclosure": "masked", "members": [{"nik": "6213********0001", "name": "S***", "sex": "F",
                                                      "relationship": "head", "birth_date": None}]}
    html = render("household.html", language, household=household, benefits={"benefits": [
        {"programme_name": "Sembako", "agency": "Dinas Sosial", "category": "food", "status": "delivered",
         "amount": None, "items": [{"item": "beras"}]}]}, purpose="x")
    assert "beras" in html
    status = {"services": [{"service": "registry", "status": "ok", "database": "ok", "broker": "ok",
                            "outbox_backlog": 1200}],
              "queues": [{"service": "registry", "handlers": 2, "ready": 0, "unacked": 0, "consumers": 2,
                          "retrying": 0, "dead": 1}], "queues_problem": None,
              "dead": [{"queue": "evt-x--registry.on_x.dead", "service": "registry", "messages": 1,
                        "letters": [{"event_id": "e-1", "event_type": "household.verified", "dead_at": None,
                                     "error": "boom"}]}]}
    html = render("operations.html", language, status=status, replayed="1")
    assert "evt-x--registry.on_x.dead" in html and ("1.200" if language == "id" else "1,200") in html
    assert html.count('name="csrf" value="x"') == 3  # sign out, replay all, replay one


def test_every_value_a_page_names_a_word_by_has_its_word():
    for level, _ in regions.LEVELS:
        CATALOG.text(f"level.{level}", "en")
    for gap in ("some", "high"):
        CATALOG.text(f"gap.{gap}", "en")
    for role in ROLES:
        CATALOG.text(f"role.{role}", "en")
    for status in ("draft", "active", "closed"):
        CATALOG.text(f"programme.status.{status}", "en")
    for status in ("draft", "open", "running", "finished", "cancelled"):
        CATALOG.text(f"course.status.{status}", "en")
