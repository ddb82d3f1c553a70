"""axe-core (from npm) finds no serious or critical accessibility violations on the main pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import pb
from tests.support.browser import log_in
from tests.support.cases import CaseDriver

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def axe_page(browser, live_server: str):  # type: ignore[no-untyped-def]
    # axe is injected by the test, not served by the app: bypass the CSP for this context only.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="de-DE", base_url=live_server,
                                  bypass_csp=True)  # fmt: skip
    yield context.new_page()
    context.close()


def violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    if not AXE.exists():
        pytest.fail("node_modules/axe-core fehlt: 'make test' installiert es über npm")
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    return [f"{v['id']} ({v['impact']}): {json.dumps([n['target'] for n in v['nodes']])}" for v in serious]


@pytest.mark.parametrize("width", [1280, 800])
def test_inbox_task_and_case_pages_have_no_serious_violations(axe_page, live_engine, width: int) -> None:  # type: ignore[no-untyped-def]
    case = CaseDriver(live_engine, pb.PROCESS)
    case.complete("Besucher anmelden und Anliegen erfassen", pb.anmeldung())
    task = case.task("Antrag annehmen und Identität prüfen")
    axe_page.set_viewport_size({"width": width, "height": 1000})
    log_in(axe_page, "egs")
    pages = {
        "Anmeldung": "/anmelden",
        "Aufgaben": "/",
        "Aufgabe": f"/aufgaben/{task.task_uuid}",
        "Vorgang": f"/vorgaenge/{case.instance_id}",
        "Neuer Vorgang": "/vorgaenge/neu",
        "Sammellisten": "/sammellisten",
        "Mein Konto": "/konto",
    }
    found = {}
    for title, path in pages.items():
        axe_page.goto(path)
        if path.startswith("/vorgaenge/") and path != "/vorgaenge/neu":
            axe_page.wait_for_selector("#diagramm[data-geladen='ja']")
        found[title] = violations(axe_page)
    assert found == {title: [] for title in pages}


def test_form_with_errors_has_no_serious_violations(axe_page, live_engine) -> None:  # type: ignore[no-untyped-def]
    case = CaseDriver(live_engine, pb.PROCESS)
    task = case.task("Besucher anmelden und Anliegen erfassen")
    log_in(axe_page, "egs")
    axe_page.goto(f"/aufgaben/{task.task_uuid}")
    axe_page.get_by_role("button", name="Abschließen").click()
    assert axe_page.locator(".fehlerbox").count() == 1
    assert violations(axe_page) == []


def test_incidents_page_works_by_keyboard_and_has_no_serious_violations(axe_page, live_engine) -> None:  # type: ignore[no-untyped-def]
    """Process owners see a stopped case on "Störungen", reach it from the navigation and cancel it."""
    from datetime import timedelta

    from engine import clock
    from tests.support import hostile

    start = clock.parse_iso("2025-05-05T08:00:00+02:00")
    hostile.deploy(live_engine, "test_gift", hostile.timer_script_process("test_gift", "wert = range(3)"))
    with clock.frozen(start):
        case = live_engine.start_case(live_engine.actor("egs"), "test_gift")
    live_engine.fire_due_timers(start + timedelta(days=2))
    log_in(axe_page, "modeller")
    axe_page.get_by_role("link", name="Störungen 1 offen").click()
    assert axe_page.get_by_role("heading", name="Störungen").is_visible()
    assert violations(axe_page) == []
    axe_page.get_by_text("Vorgang abbrechen").first.click()
    axe_page.get_by_label("Grund des Abbruchs").fill("Testfall, Modell wird korrigiert")
    axe_page.get_by_role("button", name="Abbrechen bestätigen").click()
    assert "Der Vorgang wurde abgebrochen." in axe_page.locator(".meldungen").inner_text()
    assert "Keine offenen Störungen" in axe_page.content()
    assert violations(axe_page) == []
    assert live_engine.case_view(live_engine.actor("audit"), case.instance_id).header.status == "cancelled"


def test_modelle_and_modeller_pages_have_no_serious_violations(axe_page, live_engine) -> None:  # type: ignore[no-untyped-def]
    """The process owners' pages: "Modelle" with a draft listed, the modeller with a task, the pool, a gateway's flow,
    a business rule task and a script task selected (each with its EGS group), a diagram. (Diff, Probelauf, form
    editor and Umzug: in their own browser tests.)"""
    import re

    log_in(axe_page, "modeller")
    axe_page.get_by_role("button", name=re.compile(r"^Im Modeller öffnen\W+PB – Antragsannahme")).click()
    axe_page.wait_for_selector("#modeller-canvas[data-geladen='ja']")
    axe_page.locator('g.djs-element[data-element-id="Task_Antragsannahme"]').click()
    found = {"Modeller": violations(axe_page)}
    select = "id => { const m = window.egsModeller; m.get('selection').select(m.get('elementRegistry').get(id)); }"
    for title, element_id, entry in [
        ("Modeller: Prozess (Standorte, Startgruppen)", "Participant_Jobcenter", "egs-standorte"),
        ("Modeller: Fluss mit Bedingung", "Flow_Anliegen_Erstantrag", "egs-bedingung"),
        ("Modeller: Entscheidungstabelle", "Task_Umstellung_Akte", "egs-entscheidung"),
        ("Modeller: Skriptaufgabe", "Task_Besuch_Uebernehmen", "egs-skript"),
    ]:
        axe_page.evaluate(select, element_id)
        axe_page.wait_for_selector(f"[data-entry-id='{entry}']")
        found[title] = violations(axe_page)
    axe_page.goto("/modelle")
    found["Modelle"] = violations(axe_page)
    axe_page.goto(f"/modelle/{pb.PROCESS}/versionen/1")
    axe_page.wait_for_selector("#diagramm[data-geladen='ja']")
    found["Diagramm"] = violations(axe_page)
    assert found == {title: [] for title in found} and len(found) == 7


def test_dmn_editor_page_has_no_serious_violations(axe_page, live_engine) -> None:  # type: ignore[no-untyped-def]
    """The DMN editor with a decision table loaded, after a refused save (error list shown), and "Modelle" with the
    table's draft listed."""
    import re

    log_in(axe_page, "modeller")
    axe_page.get_by_role("button", name=re.compile(r"^Im DMN-Editor öffnen\W+Aktenführung")).click()
    axe_page.wait_for_selector("#dmn-editor[data-geladen='ja']")
    found = {"DMN-Editor": violations(axe_page)}
    axe_page.locator("#dmn-datei").set_input_files(
        files=[{"name": "kaputt.dmn", "mimeType": "application/xml", "buffer": b"<definitions"}]
    )
    axe_page.locator("#dmn-fehler").wait_for(state="visible")
    found["DMN-Editor mit Fehlern"] = violations(axe_page)
    axe_page.goto("/modelle")
    found["Modelle"] = violations(axe_page)
    assert found == {"DMN-Editor": [], "DMN-Editor mit Fehlern": [], "Modelle": []}
