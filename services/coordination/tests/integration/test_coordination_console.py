"""The agencies' web console on the real broker and database: signing in
with an agency token into a secure cookie session, CSRF on every form,
the coordination overview of Barito Timur with its gaps, chart, drill-down
and exports, in Bahasa Indonesia and English, scoped by the token's
regions; bad input gets a 4xx page; a page whose service is down says so."""
import csv
import io
import re

import kombu
import openpyxl

from coordination_samples import BARITO_TIMUR, DISTRICT, DUSUN_TIMUR, KANDRIS, PULAU_PATAI
from setiakawan_kit import operate, topology
from setiakawan_kit.testing import ConsoleBrowser, wait_for


def signed_in(coordination, token, role="operator", regions=(BARITO_TIMUR,)):
    browser = ConsoleBrowser(coordination.url)
    answer = browser.sign_in(token(role=role, regions=regions, agency=DISTRICT, kind="district"))
    assert answer.status_code == 303, answer.text
    return browser


def test_signing_in_keeps_the_token_in_a_secure_session_and_signing_out_ends_it(coordination, token):
    browser = ConsoleBrowser(coordination.url)
    first = browser.get("/console/coverage?region=62.13")
    assert first.status_code == 303
    assert first.headers["Location"] == "/console/sign-in?next=/console/coverage?region=62.13"
    csrf_cookie = browser.set_cookies["setiakawan_csrf"]["header"]
    assert all(flag in csrf_cookie for flag in ("httponly", "secure", "samesite=strict", "path=/console"))

    form = browser.page("/console/sign-in")
    assert "<textarea" in form and 'name="csrf"' in form

    refused = browser.post("/console/sign-in", {"token": "not-a-token", "next": "/console/coverage"})
    assert refused.status_code == 401 and "Token ditolak" in refused.text
    assert "setiakawan_session" not in browser.cookies

    answer = browser.sign_in(token(regions=(BARITO_TIMUR,), agency=DISTRICT, kind="district"),
                             next_path="/console/coverage?region=62.13")
    assert answer.status_code == 303 and answer.headers["Location"] == "/console/coverage?region=62.13"
    session = browser.set_cookies["setiakawan_session"]["header"]
    assert all(flag in session for flag in ("httponly", "secure", "samesite=strict", "path=/console"))
    max_age = int(re.search(r"max-age=(\d+)", session)[1])
    assert 0 < max_age <= 12 * 3600
    assert "Kabupaten Barito Timur" in browser.page("/console/coverage?region=62.13")

    out = browser.post("/console/sign-out", {})
    assert out.status_code == 303 and out.headers["Location"] == "/console/sign-in"
    assert "setiakawan_session" not in browser.cookies
    assert browser.get("/console/coverage").status_code == 303


def test_a_form_without_its_csrf_field_or_from_another_site_is_refused(coordination, token):
    browser = signed_in(coordination, token)
    browser.page("/console/coverage")
    for answer in (browser.post("/console/sign-out", {}, csrf=False),
                   browser.post("/console/sign-out", {}, csrf="0" * 64),
                   browser.post("/console/sign-out", {}, headers={"Origin": "https://evil.example"})):
        assert answer.status_code == 403, answer.text
        assert "setiakawan_session" in browser.cookies  # still signed in: the form changed nothing
    # a token signed in elsewhere does not make another browser's CSRF field valid
    other = signed_in(coordination, token)
    other.page("/console/coverage")
    assert browser.post("/console/sign-out", {}, csrf=other.csrf).status_code == 403
    # nor does a next address of another site lead there after signing in
    answer = ConsoleBrowser(coordination.url).sign_in(token(), next_path="//evil.example/")
    assert answer.headers["Location"] == "/console/coverage"


def test_the_overview_shows_who_does_what_where_and_the_gaps_in_both_languages(barito_timur, coordination, token):
    browser = signed_in(coordination, token)
    html = browser.page(f"/console/coverage?region={BARITO_TIMUR}&period=2026-12")
    assert '<html lang="id">' in html
    assert 'id="gaps-total">2<' in html and "Miskin yang belum dijangkau siapa pun" in html
    # each sub-district a line, linked one level down (htmx swaps it in; a plain link without script)
    dusun = re.search(rf'<tr class="gap-(\w+)" data-code="{re.escape(DUSUN_TIMUR)}">', html)
    assert dusun and dusun[1] in ("some", "high")
    assert f'href="/console/coverage?region={DUSUN_TIMUR}&amp;period=2026-12"' in html
    assert 'hx-get="/console/coverage?region=' in html
    # a chart drawn on the server, described for screen readers
    assert html.count("<svg") == 2 and "<title>Dijangkau dan belum dijangkau di Kabupaten Barito Timur</title>" in html
    assert "Bantuan sembako Kabupaten Barito Timur" in html and "/console/programmes/" in html
    assert "/console/courses/" in html
    assert "Content-Security-Policy" not in html

    english = browser.page(f"/console/coverage?region={BARITO_TIMUR}&period=2026-12&lang=en")
    assert '<html lang="en">' in english and "Poor households nobody reached" in english
    assert browser.cookies["setiakawan_lang"] == "en"  # remembered for the next page
    assert "Who does what where" in browser.page(f"/console/coverage?region={KANDRIS}&period=2026-12")

    village = browser.page(f"/console/coverage?region={KANDRIS}&period=2026-12")
    assert "A village has no regions below it." in village


def test_every_table_exports_to_csv_and_excel(barito_timur, coordination, token):
    browser = signed_in(coordination, token)
    page = browser.page(f"/console/coverage?region={BARITO_TIMUR}&period=2026-12")
    names = set(re.findall(r"export=csv&amp;table=(\w+)", page))
    assert names == {"areas", "agencies", "programmes", "categories", "courses", "skill_areas", "overlaps"}
    answer = browser.get(f"/console/coverage?region={BARITO_TIMUR}&period=2026-12&export=csv&table=areas")
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/csv")
    assert 'filename="areas.csv"' in answer.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Kode", "Wilayah", "Rumah tangga"]
    assert [r[0] for r in rows[1:]][0] == BARITO_TIMUR and DUSUN_TIMUR in [r[0] for r in rows[1:]]
    for name in names:
        answer = browser.get(f"/console/coverage?region={BARITO_TIMUR}&period=2026-12&export=xlsx&table={name}")
        assert answer.status_code == 200, (name, answer.text[:500])
        sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
        assert sheet.max_row >= 1 and sheet["A1"].value
    assert browser.get(f"/console/coverage?region={BARITO_TIMUR}&export=pdf&table=areas").status_code == 400
    assert browser.get(f"/console/coverage?region={BARITO_TIMUR}&export=csv&table=nope").status_code == 400


def test_pages_are_scoped_by_the_token_and_bad_input_gets_a_4xx_page(coordination, token):
    browser = signed_in(coordination, token)
    for path, status in ((f"/console/coverage?region={PULAU_PATAI[:5]}9", 400),
                         ("/console/coverage?region=63", 403),
                         ("/console/coverage?region=62.13&period=2026-13", 400),
                         ("/console/coverage?region=62.13&gap_decile=0", 400),
                         ("/console/coverage?region=62.13%00", 400),
                         ("/console/programmes/not-a-uuid", 404),
                         ("/console/operations", 403)):
        answer = browser.get(path)
        assert answer.status_code == status, (path, answer.status_code, answer.text[:500])
        assert answer.headers["Content-Type"].startswith("text/html") and "<h1>" in answer.text
    viewer = signed_in(coordination, token, role="viewer")
    assert viewer.get("/console/households").status_code == 403
    assert "Cari rumah tangga" not in viewer.page("/console/coverage")  # no menu entry for what it may not open
    big = browser.post("/console/sign-out", {"filler": "x" * (128 * 1024)})
    assert big.status_code == 413 and "setiakawan_session" in browser.cookies


def test_a_page_whose_service_is_not_reachable_says_so(coordination, token):
    """The test runs the coordination service alone: the registry and the
    distribution service the lookup and the programme page call are down."""
    browser = signed_in(coordination, token, role="field_officer")
    found = browser.get("/console/households?nik=6213011201850001&purpose=kunjungan+lapangan")
    assert found.status_code == 503 and "registry service is not reachable" in found.text
    without_purpose = browser.get("/console/households?nik=6213011201850001")
    assert without_purpose.status_code == 400 and "purpose" in without_purpose.text
    assert browser.get("/console/programmes/00000000-0000-4000-8000-000000000000").status_code == 503


def test_the_operations_page_shows_each_service_and_replays_dead_letters_for_admins(coordination, token, amqp_uri):
    # an unreadable message on the registry's exchange: the coordination service dead-letters it at once
    with kombu.Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        conn.Producer().publish(b"{not json", exchange=topology.event_exchange("registry"),
                                routing_key="household.registered", content_type="application/json",
                                headers={"ce-id": "bad-1", "ce-source": "/setiakawan/registry",
                                         "ce-type": "household.registered", "ce-specversion": "1.0"},
                                declare=[topology.event_exchange("registry")])
    dead_queue = topology.handler_queue_name("registry", "household.registered", "coordination",
                                             "registry_household_registered") + ".dead"
    wait_for(lambda: operate.peek_count(amqp_uri, dead_queue) == 1, what="the unreadable message dead-lettered",
             services=[coordination])
    admin = signed_in(coordination, token, role="admin", regions=("62",))
    html = admin.page("/console/operations")
    services = dict(re.findall(r'<th scope="row">(\w+)</th><td class="(?:ok|error)">([^<]+)</td>', html))
    assert services["coordination"] == "ok"
    assert services["registry"] == "unreachable"
    assert dead_queue in html, html[html.find("<main"):][:3000]
    assert "bad-1" in html and "envelope does not match" in html
    replayed = admin.post("/console/operations/replay", {"queue": dead_queue, "event_id": "bad-1"})
    assert replayed.status_code == 303 and replayed.headers["Location"] == "/console/operations?replayed=1"
    assert "1 message(s) sent back" in admin.page("/console/operations?replayed=1&lang=en")
    # still unreadable: dead again, and a queue that is not a dead-letter queue is refused
    wait_for(lambda: operate.peek_count(amqp_uri, dead_queue) == 1, what="the replayed message dead again",
             services=[coordination])
    refused = admin.post("/console/operations/replay", {"queue": dead_queue.removesuffix(".dead")})
    assert refused.status_code == 422 and "is not a dead-letter queue" in refused.text
    operator = signed_in(coordination, token, role="operator", regions=("62",))
    operator.page("/console/coverage")
    assert operator.post("/console/operations/replay", {"queue": dead_queue}).status_code == 403


def test_above_its_own_regions_an_agency_sees_only_the_way_down_to_them(barito_timur, coordination, token):
    district = signed_in(coordination, token, regions=(BARITO_TIMUR,))
    html = district.page("/console/coverage?region=62&period=2026-12")
    assert re.findall(r'data-code="([\d.]+)"', html) == [BARITO_TIMUR]
    assert "Kabupaten Barito Timur" in html and "Miskin yang belum dijangkau siapa pun" not in html
    village = signed_in(coordination, token, regions=(PULAU_PATAI,))
    html = village.page("/console/coverage?region=62.13&period=2026-12")
    assert re.findall(r'data-code="([\d.]+)"', html) == [PULAU_PATAI[:8]]  # its sub-district, without figures
    assert "buka untuk melihatnya" in html
    assert village.get("/console/coverage?region=62.13.02").status_code == 403
