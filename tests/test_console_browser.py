"""The agencies' web console in a real browser: Debian's headless Chromium
driven by Playwright, against the platform as an operator runs it (the five
services as processes of their own). Barito Timur's office has registered
and verified poor households in two sub-districts, and its December food
package reaches only Dusun Timur's: Banua Lima's poor households are the gap.

A district operator signs in with its token, drills from Kalimantan Tengah
down to Kandris, a village of Banua Lima, sees the gap highlighted and a chart drawn,
opens the programme; a viewer of another regency sees none of it; a form
posted without its CSRF field is refused; every page passes axe-core with
no serious or critical violation. A screenshot of each page is saved in
.cache/artefacts/console/ (SETIAKAWAN_ARTEFACTS)."""
import os
import re
import shutil
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest

from demo.households import Households
from demo.platform import Agency, Platform, eventually
from demo.scenario import BARITO_TIMUR, Story
from setiakawan_kit import auth, keys
from tests.support.supervised import SERVICES, SupervisedPlatform

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("SETIAKAWAN_CHROMIUM") or shutil.which("chromium")
AXE = Path(os.environ.get("SETIAKAWAN_AXE_JS") or next(iter(sorted((ROOT / ".cache/axe-core").glob("*/axe.min.js"))),
                                                        ROOT / ".cache/axe-core/axe.min.js"))
ARTEFACTS = Path(os.environ.get("SETIAKAWAN_ARTEFACTS") or ROOT / ".cache/artefacts/console")
DUSUN_TIMUR, BANUA_LIMA = "62.13.01", "62.13.02"
PULAU_PATAI, KANDRIS = "62.13.01.2003", "62.13.02.2002"
KAPUAS = Agency("Dinas Sosial Kabupaten Kapuas", "district", ("62.03",))


def _browser():
    """Playwright and this machine's Chromium, or why not (a skip; CI requires them: README, Tests)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    missing = [what for what, ok in (("playwright (pip)", sync_playwright), ("chromium (scripts/browser-deps)", CHROMIUM),
                                     (f"axe-core at {AXE} (scripts/browser-deps)", AXE.is_file())) if not ok]
    if missing:
        if os.environ.get("SETIAKAWAN_BROWSER_TESTS") == "required":
            pytest.fail(f"the browser tests need {', '.join(missing)}")
        pytest.skip(f"no {', '.join(missing)}")
    return sync_playwright


@pytest.fixture
def barito_timur(tmp_path, amqp_uri, infrastructure, broker_accounts, token_keys):
    sync_playwright = _browser()
    prefix = broker_accounts.prefix + "console-"
    running = SupervisedPlatform(tmp_path, amqp_uri, infrastructure.database_url, prefix, token_keys.jwks)
    try:
        running.start()
        signing_key = keys.load_signing_key(token_keys.signing_key)
        api = Platform({k: v for k, v in running.urls.items() if k != "sandbox"}, signing_key)
        story = Story(api, Households(seed=uuid.uuid4().int % 10**6, today=date.today()), say=lambda *_: None)
        reached = story.register(BARITO_TIMUR, [PULAU_PATAI] * 3)
        story.register(BARITO_TIMUR, [KANDRIS] * 3)
        district = api.caller(BARITO_TIMUR, "operator")
        today = date.today()
        sembako = district.post("distribution", "/programmes", {
            "name": "Sembako Kabupaten Barito Timur untuk Dusun Timur", "funding_source": "apbd_district",
            "kind": "in_kind", "category": "food", "items": [{"item": "beras", "quantity": "10", "unit": "kg"}],
            "period": {"starts_on": today.replace(day=1).isoformat(),
                       "ends_on": (today.replace(day=28) + timedelta(days=4)).replace(day=1).isoformat()},
            "region_codes": [DUSUN_TIMUR], "rule": "household.verified"})
        story.reached(district, sembako, len(reached))
        district.post("distribution", f"/programmes/{sembako['id']}/activate")
        viewer = api.caller(BARITO_TIMUR, "viewer")
        eventually(lambda: viewer.get("coordination", "/coverage", region="62.13")["totals"]["households_reached"]
                   == len(reached), what="the coordination service to see the programme's households")

        def token(agency, role):
            return auth.issue_token(signing_key, agency.name, agency.kind, role, list(agency.regions),
                                    ttl=timedelta(hours=1))

        running.token = token
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            running.browser = browser
            yield running
            browser.close()
    finally:
        running.stop()
        infrastructure.broker.admin.delete_users([prefix + name for name in SERVICES])


class Visitor:
    """One person's browser window (its own cookies), each page checked by axe and photographed."""

    def __init__(self, platform, name):
        # bypass_csp: only so that the test can inject axe-core; the pages' own policy forbids inline scripts
        self.context = platform.browser.new_context(base_url=platform.urls["coordination"], bypass_csp=True,
                                                    viewport={"width": 412, "height": 915}, locale="id-ID")
        self.page = self.context.new_page()
        self.name, self.shots = name, 0
        ARTEFACTS.mkdir(parents=True, exist_ok=True)

    def sign_in(self, token):
        self.page.goto("/console/")
        assert "/console/sign-in" in self.page.url
        self.checked("sign-in")
        self.page.fill("#token", token)
        self.page.click("form.stack button[type=submit]")
        self.page.wait_for_load_state()

    def checked(self, what):
        """axe-core on the page as it is: no serious or critical violation; then a screenshot."""
        self.page.add_script_tag(path=str(AXE))
        violations = self.page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']}))
            .violations.filter(v => ['serious', 'critical'].includes(v.impact))
            .map(v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)""")
        assert violations == [], (what, self.page.url, violations)
        self.shots += 1
        self.page.screenshot(path=str(ARTEFACTS / f"{self.name}-{self.shots:02d}-{what}.png"), full_page=True)

    def click_region(self, code):
        """Its line's link, swapped in by htmx: the address follows."""
        with self.page.expect_response(lambda r: f"region={code}" in r.url):
            self.page.click(f'a[href^="/console/coverage?region={code}&"]')
        self.page.wait_for_url(re.compile(rf"region={re.escape(code)}"))
        self.page.wait_for_selector(f"h1:has-text('({code},')")


def test_a_district_operator_drills_down_to_the_gap_and_others_see_none_of_it(barito_timur):
    operator = Visitor(barito_timur, "district-operator")
    operator.sign_in(barito_timur.token(BARITO_TIMUR, "operator"))
    page = operator.page
    assert page.url.endswith("/console/coverage") and "Kabupaten Barito Timur" in page.inner_text("h1")

    page.click("nav.crumbs a:has-text('Kalimantan Tengah')")
    page.wait_for_selector("h1:has-text('Kalimantan Tengah')")
    assert page.locator("#areas tbody tr").count() == 1  # only its own regency, above its token's region
    operator.checked("province")

    operator.click_region("62.13")
    paju_epat = page.locator(f'#areas tr[data-code="{BANUA_LIMA}"]')
    assert paju_epat.get_attribute("class") == "gap-high"
    assert paju_epat.locator("td.gaps").inner_text().startswith("3")
    assert page.locator(f'#areas tr[data-code="{DUSUN_TIMUR}"]').get_attribute("class") == "gap-none"
    chart = page.locator("svg.chart").first
    assert chart.is_visible() and chart.locator("rect").count() >= 3
    operator.checked("regency")

    operator.click_region(BANUA_LIMA)
    operator.checked("sub-district")
    operator.click_region(KANDRIS)
    gaps = page.locator("#gaps-total")
    assert gaps.inner_text() == "3"
    assert page.locator(".card.gap").evaluate("e => getComputedStyle(e.querySelector('.figure')).color") \
        == "rgb(180, 35, 24)"  # the gap in red
    assert page.locator("svg.chart rect").count() >= 1
    operator.checked("village")

    page.goto("/console/coverage?region=62.13")
    page.click("#programmes a")
    page.wait_for_selector("h1:has-text('Sembako Kabupaten Barito Timur')")
    assert page.locator(".card .figure").first.inner_text() == "3"  # planned
    operator.checked("programme")

    page.goto("/console/coverage?region=62.13&lang=en")
    assert page.locator("html").get_attribute("lang") == "en" and "Poor households nobody reached" in page.content()
    operator.checked("regency-en")

    # a form posted without its CSRF field (built here, as another site's page would) is refused
    page.goto("/console/coverage")
    page.evaluate("""() => { const f = document.createElement('form'); f.method = 'post';
        f.action = '/console/sign-out'; document.body.appendChild(f); f.submit(); }""")
    page.wait_for_selector("h1:has-text('(403)')")
    assert "did not come from this page" in page.content()
    operator.checked("csrf-refused")
    page.goto("/console/coverage")
    assert "Kabupaten Barito Timur" in page.inner_text("h1")  # still signed in: nothing changed

    viewer = Visitor(barito_timur, "viewer-of-kapuas")
    viewer.sign_in(barito_timur.token(KAPUAS, "viewer"))
    assert "Kabupaten Kapuas" in viewer.page.inner_text("h1")
    assert viewer.page.locator("#gaps-total").inner_text() == "0"
    viewer.checked("own-regency")
    viewer.page.goto("/console/coverage?region=62")
    codes = viewer.page.locator("#areas tbody tr").evaluate_all("rows => rows.map(r => r.dataset.code)")
    assert codes == ["62.03"]
    response = viewer.page.goto("/console/coverage?region=62.13")
    assert response.status == 403 and "Barito Timur" not in viewer.page.inner_text("main")
    viewer.checked("other-regency-refused")
    assert viewer.page.goto(f"/console/coverage?region={KANDRIS}").status == 403
