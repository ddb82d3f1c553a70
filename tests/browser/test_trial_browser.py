"""Probelauf in the browser: a process owner starts a trial from the modeller, works its first task as EGS on
the task page's form, sees the next one and throws the trial away; axe on the new pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import violations
from tests.support import pb
from tests.support.browser import log_in
from tests.support.records import alle_faelle

pytestmark = pytest.mark.browser

OPEN_PB = re.compile(r"^Im Modeller öffnen\W+PB – Antragsannahme")


@pytest.fixture
def axe_page(browser, live_server: str):  # type: ignore[no-untyped-def]
    # As in test_accessibility: axe is injected by the test, so this context alone bypasses the CSP.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="de-DE", base_url=live_server,
                                  bypass_csp=True)  # fmt: skip
    yield context.new_page()
    context.close()


def test_a_process_owner_runs_and_discards_a_trial(page, live_engine) -> None:  # type: ignore[no-untyped-def]
    cases = alle_faelle(live_engine)
    log_in(page, "modeller")
    page.get_by_role("button", name=OPEN_PB).click()
    page.wait_for_selector("#modeller-canvas[data-geladen='ja']")
    page.get_by_label("Standort des Testvorgangs").select_option("56.5")
    page.get_by_role("button", name="Probelauf starten").click()
    page.wait_for_url(re.compile(r"/modelle/probelaeufe/\d+$"))
    assert "Testvorgang – kein echter Vorgang" in page.locator(".probelauf-hinweis").inner_text()

    page.get_by_role("link", name=pb.ANMELDEN).click()
    page.get_by_role("button", name="Abschließen").click()
    expect(page.locator(".fehlerbox")).to_be_visible()
    page.get_by_label("Vorname").fill("Jana")
    page.get_by_label("Nachname").fill("Probelaufzeugin")
    page.get_by_label(re.compile(r"^Geburtsdatum")).fill("12.04.1988")
    page.get_by_label(re.compile(r"^Erstantrag")).check()
    page.get_by_label(re.compile(r"^Tag der Antragstellung")).fill("01.12.2026")
    page.get_by_role("button", name="Abschließen").click()
    page.wait_for_url(re.compile(r"/modelle/probelaeufe/\d+$"))
    expect(page.get_by_role("link", name=pb.ANNEHMEN)).to_be_visible()
    assert (
        "Besucher anmelden und Anliegen erfassen“ erledigt (als EGS)" in page.locator(".probelauf-verlauf").inner_text()
    )
    assert alle_faelle(live_engine) == cases, "no real case was started"

    page.get_by_role("button", name="Probelauf verwerfen").click()
    page.wait_for_url(re.compile(r"/modelle/entwuerfe/\d+$"))
    assert "Der Probelauf wurde verworfen." in page.locator(".meldungen").inner_text()
    page.wait_for_selector("#modeller-canvas[data-geladen='ja']")
    assert page.console_problems == []  # type: ignore[attr-defined]


def test_the_probelauf_pages_have_no_serious_violations(axe_page, live_engine) -> None:  # type: ignore[no-untyped-def]
    modeller = live_engine.actor("modeller")
    draft = live_engine.create_model_draft(modeller, pb.PROCESS)
    trial = live_engine.start_trial(modeller, draft.id, "56.4")
    log_in(axe_page, "modeller")
    found = {}
    axe_page.goto(f"/modelle/entwuerfe/{draft.id}")
    axe_page.wait_for_selector("#modeller-canvas[data-geladen='ja']")
    found["Modeller mit Probeläufen"] = violations(axe_page)
    axe_page.get_by_role("button", name="Token-Simulation").click()
    expect(axe_page.get_by_role("button", name="Token-Simulation beenden")).to_be_visible()
    found["Modeller mit laufender Token-Simulation"] = violations(axe_page)
    axe_page.goto(f"/modelle/probelaeufe/{trial.id}")
    found["Probelauf"] = violations(axe_page)
    axe_page.get_by_role("link", name=pb.ANMELDEN).click()
    found["Aufgabe im Probelauf"] = violations(axe_page)
    axe_page.get_by_role("button", name="Abschließen").click()
    expect(axe_page.locator(".fehlerbox")).to_be_visible()
    found["Aufgabe im Probelauf mit Fehlern"] = violations(axe_page)
    assert found == {name: [] for name in found}
