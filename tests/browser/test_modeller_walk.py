"""Issue 11 as one story in Chromium: a process owner adds a step to PB Antragsannahme in the browser modeller,
sees the live lint ask for its role, fixes it, saves the draft, looks at the diff, tries it in a Probelauf, deploys
it; the next case runs the new step, and an older case moves to the new version after a dry run."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support import pb
from tests.support.browser import log_in
from tests.support.cases import CaseDriver
from tests.support.records import alle_faelle, case_row

pytestmark = pytest.mark.browser

OPEN_PB = re.compile(r"^Im Modeller öffnen\W+PB – Antragsannahme")
NEW_STEP = "Rückfrage zum Antrag klären"
ROLE_ERROR = "Die EGS-Rolle fehlt oder ist ungültig"

# As a process owner drops a task from the palette onto the flow between "Anmeldung" and "Antrag annehmen":
# bpmn-js splits the flow and puts the task into the lane under it.
INSERT_USER_TASK = """name => {
  const modeler = window.egsModeller;
  const registry = modeler.get('elementRegistry');
  const task = modeler.get('elementFactory').createShape({ type: 'bpmn:UserTask' });
  modeler.get('modeling').createShape(task, { x: 595, y: 170 }, registry.get('Flow_Anmeldung_Antragsannahme'));
  modeler.get('modeling').updateLabel(task, name);
  return task.id;
}"""


def fill_anmeldung(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Vorname").fill("Jana")
    page.get_by_label("Nachname").fill("Probelaufzeugin")
    page.get_by_label(re.compile(r"^Geburtsdatum")).fill("12.04.1988")
    page.get_by_label(re.compile(r"^Erstantrag")).check()
    page.get_by_label(re.compile(r"^Tag der Antragstellung")).fill("01.12.2026")
    page.get_by_role("button", name="Abschließen").click()


def test_a_process_owner_changes_pb_in_the_browser_and_brings_an_older_case_along(page, live_engine) -> None:  # type: ignore[no-untyped-def]
    older = CaseDriver(live_engine, pb.PROCESS)  # waits at "Antrag annehmen" on version 1
    older.complete(pb.ANMELDEN, pb.anmeldung())
    real_cases = alle_faelle(live_engine)

    # Modeller: add a user task; the live lint asks for its role (and form) at once.
    log_in(page, "modeller")
    page.get_by_role("button", name=OPEN_PB).click()
    page.wait_for_selector("#modeller-canvas[data-geladen='ja']")
    expect(page.locator("#pruefung-zusammenfassung")).to_have_text(re.compile(r"^0 Fehler"))
    task_id = page.evaluate(INSERT_USER_TASK, NEW_STEP)
    found = page.locator(f'#pruefung-liste li.pruefung-fehler[data-element="{task_id}"]')
    expect(found.filter(has_text=ROLE_ERROR)).to_have_count(1)
    expect(page.locator("#pruefung-zusammenfassung")).not_to_have_text(re.compile(r"^0 Fehler"))

    # Fix it in the EGS group of the panel.
    found.filter(has_text=ROLE_ERROR).get_by_role("button").click()  # "Element … zeigen" selects it
    expect(page.locator(".bio-properties-panel-header-label")).to_have_text(NEW_STEP)
    page.get_by_label("EGS-Rolle").select_option("Durchführender")
    page.get_by_label("Formular").select_option("pb_vorpruefung.json")
    page.get_by_label("Hinweise für die Sachbearbeitung").fill("Offene Fragen zum Antrag mit der Person klären.")
    expect(found).to_have_count(0)
    expect(page.locator("#pruefung-zusammenfassung")).to_have_text(re.compile(r"^0 Fehler"))

    # Save the draft, look at the diff.
    page.get_by_role("button", name="Speichern", exact=True).click()
    expect(page.locator("#modeller-status")).to_have_text(re.compile(r"^Gespeichert um \d\d:\d\d Uhr\.$"))
    modeller_url = page.url
    page.get_by_role("link", name="Mit Live-Version vergleichen").click()
    page.wait_for_selector("#diagramm[data-geladen='ja']")
    expect(page.locator(f'#diagramm g.djs-element.vergleich-neu[data-element-id="{task_id}"]')).to_have_count(1)
    expect(page.locator(f'#vergleich-liste tr[data-element="{task_id}"]')).to_contain_text(NEW_STEP)

    # Probelauf: the trial reaches the new step; no real case is started.
    page.goto(modeller_url)
    page.wait_for_selector("#modeller-canvas[data-geladen='ja']")
    page.get_by_label("Standort des Testvorgangs").select_option("56.4")
    page.get_by_role("button", name="Probelauf starten").click()
    page.wait_for_url(re.compile(r"/modelle/probelaeufe/\d+$"))
    page.get_by_role("link", name=pb.ANMELDEN).click()
    fill_anmeldung(page)
    page.wait_for_url(re.compile(r"/modelle/probelaeufe/\d+$"))
    expect(page.get_by_role("link", name=NEW_STEP)).to_be_visible()
    assert alle_faelle(live_engine) == real_cases
    page.get_by_role("button", name="Probelauf verwerfen").click()
    page.wait_for_url(modeller_url)
    page.wait_for_selector("#modeller-canvas[data-geladen='ja']")

    # Deploy with a comment, after the diff summary.
    page.get_by_label("Kommentar zur neuen Version").fill("Rückfrage vor der Antragsannahme")
    page.get_by_role("button", name="Weiter: Änderungen prüfen").click()
    confirm = page.locator("#bereitstellen-bestaetigung")
    expect(confirm).to_contain_text("Gegenüber der Live-Version 1: 2 hinzugefügt, 1 geändert.")
    expect(confirm).to_contain_text(f"{NEW_STEP} ({task_id}): hinzugefügt")
    page.get_by_role("button", name="Jetzt bereitstellen").click()
    page.wait_for_url(re.compile(r"/modelle$"))
    expect(page.locator(".meldungen")).to_contain_text("Version 2 ist jetzt live")

    # The next case runs the new step.
    newer = CaseDriver(live_engine, pb.PROCESS)
    newer.complete(pb.ANMELDEN, pb.anmeldung())
    assert newer.open_task_names() == [NEW_STEP]

    # The older case: dry run, then it moves to version 2 and stays at its open task.
    page.get_by_role("link", name=re.compile(r"^Vorgänge umziehen\W+PB – Antragsannahme")).click()
    expect(page.get_by_label("Von Version")).to_have_value("1")
    expect(page.get_by_label("Auf Version")).to_have_value("2")
    page.get_by_role("button", name="Probelauf starten").click()
    row = page.get_by_role("row", name=re.compile(older.header.business_key or ""))
    expect(row).to_contain_text("kann umziehen")
    expect(page.get_by_label(f"{older.header.business_key} umziehen")).to_be_checked()
    page.get_by_role("button", name="Ausgewählte Vorgänge umziehen").click()
    expect(page.get_by_role("status").last).to_contain_text("1 von 1 Vorgängen umgezogen")
    assert case_row(live_engine, older.instance_id).version_id == case_row(live_engine, newer.instance_id).version_id
    assert older.open_task_names() == [pb.ANNEHMEN]
    assert page.console_problems == []  # type: ignore[attr-defined]
