"""The FDL runs the what-if simulation in the browser on her site's staff, by keyboard, and the page has no serious axe
violations."""

from __future__ import annotations

import pytest

from tests.browser.test_accessibility import violations
from tests.support.browser import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def axe_page(browser, live_server: str):  # type: ignore[no-untyped-def]
    # axe is injected by the test, not served by the app: bypass the CSP for this context only.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE", base_url=live_server,
                                  bypass_csp=True)  # fmt: skip
    yield context.new_page()
    context.close()


def test_fdl_compares_the_scenarios_and_reads_the_vzae_needed(axe_page, live_engine) -> None:  # type: ignore[no-untyped-def]
    from engine.demo import create_demo_staff

    create_demo_staff(live_engine)  # the staff of 56.4: the simulation counts it per working day
    log_in(axe_page, "fdl")
    axe_page.get_by_role("link", name="Simulation").click()
    assert axe_page.get_by_role("heading", level=1).inner_text().startswith("Was wäre wenn")
    assert violations(axe_page) == []
    field = axe_page.get_by_label("PB – Antragsannahme (Erstantrag und sonstige Anträge)")
    field.fill("12,5")
    assert axe_page.get_by_label("Personal rechnen").input_value() == "bestand"
    axe_page.get_by_label("Läufe je Szenario (1 bis 10)").fill("1")
    axe_page.get_by_label("Läufe je Szenario (1 bis 10)").press("Enter")
    axe_page.wait_for_selector("#ergebnis", timeout=60_000)
    answer = axe_page.locator(".antwort").inner_text()
    assert "braucht der Standort" in answer and "VZÄ" in answer
    table = axe_page.get_by_role("table", name="Wie jetzt und mit einer umgesetzten LSB-Kraft (Mittel über 1 Läufe)")
    assert table.get_by_role("columnheader", name="Plus eine umgesetzte LSB-Kraft").count() == 1
    assert axe_page.get_by_role("img", name="Rückstand je Arbeitstag").count() == 1
    assert axe_page.locator("svg.simulationsdiagramm polyline").count() == 2
    staff = axe_page.get_by_role("table", name="Personal, mit dem gerechnet wurde")
    assert staff.get_by_role("rowheader", name="Erika Empfang").count() == 1
    assert violations(axe_page) == []


def test_a_clerk_has_no_simulation_link(axe_page, live_engine) -> None:  # type: ignore[no-untyped-def]
    log_in(axe_page, "egs")
    assert axe_page.get_by_role("link", name="Simulation").count() == 0
    response = axe_page.goto("/simulation")
    assert response is not None and response.status == 403
