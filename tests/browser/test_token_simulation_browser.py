"""Token simulation in the modeller: a page button switches it on (editing stops) and off; tokens run from a
start event without a single CSP violation; the simulation code is loaded on the modeller page only."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import log_in

pytestmark = pytest.mark.browser

OPEN_PB = re.compile(r"^Im Modeller öffnen\W+PB – Antragsannahme")
START = "Event_Start"


def test_token_simulation_runs_under_the_csp(page, live_engine) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "modeller")
    page.get_by_role("button", name=OPEN_PB).click()
    page.wait_for_selector("#modeller-canvas[data-geladen='ja']")
    toggle = page.get_by_role("button", name="Token-Simulation")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    assert page.locator(".bts-toggle-mode").is_hidden(), "the library's English mouse-only toggle is hidden"

    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#modeller-status")).to_contain_text("Token-Simulation läuft")
    assert "simulation" in (page.locator(".bjs-container").get_attribute("class") or "")
    page.evaluate(  # the simulation's buttons show from zoom 0.5 on, as in every bpmn-js overlay with minZoom
        "() => { const c = window.egsModeller.get('canvas'); c.zoom(1);"
        " c.scrollToElement(window.egsModeller.get('elementRegistry').get('Event_Start')); }"
    )
    page.locator(f'.djs-overlays[data-container-id="{START}"] button[title="Ereignis auslösen"]').click()
    page.wait_for_selector(".bts-token", timeout=10_000)  # a token runs
    scope = page.locator(".bts-scope").first  # the running instance, in its colour
    expect(scope).to_be_visible()
    assert scope.get_attribute("data-egs-style") is None
    assert scope.evaluate("e => e.style.background") != "", "scope colours are applied through the CSSOM"

    page.get_by_role("button", name="Token-Simulation beenden").click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    assert page.locator("#modeller-status").inner_text() in (
        "Token-Simulation beendet.",
        "Alle Änderungen sind gespeichert.",
    )
    assert page.console_problems == []  # type: ignore[attr-defined]


def test_the_simulation_is_in_the_modeller_bundle_only(page, live_server) -> None:  # type: ignore[no-untyped-def]
    modeller = page.request.get(f"{live_server}/static/dist/modeller.js").text()
    assert "tokenSimulation.toggleMode" in modeller
    for bundle in ("app.js", "diagram.js"):
        assert "tokenSimulation" not in page.request.get(f"{live_server}/static/dist/{bundle}").text(), bundle
