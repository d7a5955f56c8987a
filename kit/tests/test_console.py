"""The console's pure parts: sessions and CSRF tokens, the choice of
language and the words, numbers and dates per language, SVG charts, and
tables exported to CSV and Excel."""
import io
import xml.etree.ElementTree as ET
from datetime import date

import jinja2
import openpyxl
import pytest
from werkzeug.datastructures import LanguageAccept

from setiakawan_kit.console import i18n, session, tables
from setiakawan_kit.console.charts import Series, stacked_bars
from setiakawan_kit.console.pages import environment


def test_a_csrf_token_is_bound_to_the_browser_secret_and_to_the_session():
    secret, other = session.new_csrf_secret(), session.new_csrf_secret()
    token = session.csrf_token(secret, "session-a")
    assert session.csrf_ok(token, secret, "session-a")
    assert not session.csrf_ok(token, secret, "session-b")
    assert not session.csrf_ok(token, other, "session-a")
    assert not session.csrf_ok("", secret, "session-a") and not session.csrf_ok(token, None, "session-a")
    assert session.csrf_ok(session.csrf_token(secret, None), secret, None)  # the sign-in form, before a session


@pytest.mark.parametrize("origin, host, same", [
    (None, "127.0.0.1:8005", True), ("http://127.0.0.1:8005", "127.0.0.1:8005", True),
    ("https://evil.example", "127.0.0.1:8005", False), ("null", "127.0.0.1:8005", False),
    ("http://127.0.0.1:8006", "127.0.0.1:8005", False)])
def test_a_form_from_another_origin_is_told_apart(origin, host, same):
    assert session.same_origin(origin, host) is same


@pytest.mark.parametrize("asked, target", [
    ("/console/coverage?region=62", "/console/coverage?region=62"), ("//evil.example/", "/console/"),
    ("https://evil.example/", "/console/"), ("/\\evil.example", "/console/"), (None, "/console/"), ("", "/console/")])
def test_after_signing_in_only_a_path_of_this_site_is_followed(asked, target):
    assert session.safe_next(asked, "/console/") == target


def test_a_session_lasts_until_its_token_expires_and_never_past_twelve_hours():
    assert session.session_seconds(1_000 + 600, 1_000) == 600
    assert session.session_seconds(1_000 + 86_400, 1_000) == 12 * 3600
    assert session.session_seconds(900, 1_000) == 0
    assert session.session_seconds(None, 1_000) == 12 * 3600


@pytest.mark.parametrize("asked, remembered, accept, chosen", [
    ("en", "id", "id", "en"), (None, "en", "id", "en"), ("xx", None, "en-US,en;q=0.8", "en"),
    (None, None, "fr", "id"), (None, None, None, "id")])
def test_the_language_is_asked_then_remembered_then_the_browsers_then_indonesian(asked, remembered, accept, chosen):
    header = LanguageAccept([(tag.split(";")[0], 1) for tag in accept.split(",")]) if accept else None
    assert i18n.choose(asked, remembered, header) == chosen


def test_figures_and_dates_read_as_each_language_writes_them():
    assert i18n.number(48_000_000, "id") == "48.000.000" and i18n.number(48_000_000, "en") == "48,000,000"
    assert i18n.rupiah(48_000_000) == "Rp48.000.000"
    assert i18n.day("2026-12-03", "id") == "3 Desember 2026" and i18n.day(date(2026, 12, 3), "en") == "3 December 2026"
    assert i18n.percent(0.5, "id") == "50%" and i18n.number(None, "id") == "–"


def test_every_word_has_both_languages_or_the_catalog_is_refused():
    with pytest.raises(ValueError, match="coverage.title"):
        i18n.Catalog({"coverage.title": {"id": "Koordinasi"}})
    catalog = i18n.Catalog({"greeting": {"id": "Halo {name}", "en": "Hello {name}"}})
    assert catalog.text("greeting", "en", name="Ani") == "Hello Ani"
    with pytest.raises(KeyError):
        catalog.text("missing", "id")


def test_a_stacked_bar_chart_is_valid_svg_scaled_to_the_longest_line_and_escaped():
    svg = stacked_bars("Dijangkau <dan> belum", [("Dusun Timur", [3, 0]), ("Banua <Lima>", [0, 6])],
                       [Series("Dijangkau", "#0b6e4f"), Series("Belum", "#b42318")],
                       number=lambda v: i18n.number(v, "id"))
    root = ET.fromstring(str(svg))
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert root.get("role") == "img" and root.find("s:title", ns).text == "Dijangkau <dan> belum"
    assert "Banua <Lima>: Dijangkau 0, Belum 6" in root.find("s:desc", ns).text
    bars = [r for r in root.findall("s:rect", ns) if r.find("s:title", ns) is not None]
    widths = {r.find("s:title", ns).text: float(r.get("width")) for r in bars}
    assert widths["Banua <Lima>: Belum 6"] == pytest.approx(2 * widths["Dusun Timur: Dijangkau 3"])
    assert len(bars) == 2  # a zero draws no segment
    assert ET.fromstring(str(stacked_bars("kosong", [], [Series("a", "#000")]))) is not None


def test_a_table_exports_to_csv_for_excel_and_to_a_workbook():
    table = tables.Table("areas", "Wilayah: Barito/Timur", [("code", "Kode"), ("name", "Wilayah"), ("gaps", "Celah")],
                         [{"code": "62.13", "name": "Barito Timur", "gaps": 3}, {"code": "62.13.01", "name": None,
                                                                                  "gaps": 0}])
    text = tables.as_csv(table).decode("utf-8")
    assert text.startswith("\ufeffKode,Wilayah,Celah\r\n62.13,Barito Timur,3\r\n62.13.01,,0")
    sheet = openpyxl.load_workbook(io.BytesIO(tables.as_xlsx(table))).active
    assert sheet.title == "Wilayah  Barito Timur"
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["Kode", "Wilayah", "Celah"], ["62.13", "Barito Timur", 3], ["62.13.01", None, 0]]


def test_the_kit_pages_render_in_both_languages_with_every_word_known():
    env = environment(jinja2.PackageLoader("setiakawan_kit.console", "templates"))
    catalog = i18n.Catalog.of_packages("setiakawan_kit.console")
    for language in i18n.LANGUAGES:
        common = {"language": language, "t": lambda key, **v: catalog.text(key, language, **v), "identity": None,
                  "csrf_field": "csrf", "csrf": "x", "tables": {}, "path": "/console/sign-in", "query_string": "",
                  "nav": ()}
        signin = env.get_template("console/sign_in.html").render(next="", error="expired", **common)
        assert f'<html lang="{language}">' in signin and 'name="csrf" value="x"' in signin
        error = env.get_template("console/error.html").render(status=403, title="Forbidden", detail="No.",
                                                              fields={"region": ["Bad."]}, **common)
        assert "(403)" in error and "region" in error
