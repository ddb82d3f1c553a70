"""A process owner changes a § 1 cut-over date in a decision table in the browser (dmn-js) and deploys it;
the next case decides by the new date, a case started before keeps the old table."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from engine import clock
from tests.support.browser import log_in
from tests.support.cases import CaseDriver

pytestmark = pytest.mark.browser

PROCESS = "akten_zuarbeit"
OPEN_AKTE = re.compile(r"^Im DMN-Editor öffnen\W+Aktenführung Papier oder e-Akte Doxis")
RECORD = {"akte_vorgangsnummer": "07402//0094744", "akte": "leistungsakte", "schriftstueck": "Mietvertrag",
          "eingang_am": "2025-06-02"}  # fmt: skip
XXE = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]><definitions>&e;</definitions>'
PAPER, SCAN = "In die Papierakte einheften", "Scannen und in die E-Akte übernehmen"


def recorded(engine) -> CaseDriver:  # type: ignore[no-untyped-def]
    case = CaseDriver(engine, PROCESS)
    case.complete("Schriftstück erfassen", RECORD)
    return case


def test_a_process_owner_sets_the_doxis_start_in_the_table_and_the_next_case_decides_by_it(page, live_engine) -> None:  # type: ignore[no-untyped-def]
    older = CaseDriver(live_engine, PROCESS)  # started before the change: keeps its table
    log_in(page, "modeller")
    page.get_by_role("button", name=OPEN_AKTE).click()
    page.wait_for_selector("#dmn-editor[data-geladen='ja']")
    assert page.locator("#dmn-status").inner_text() == "Alle Änderungen sind gespeichert."
    assert page.locator("#dmn-editor .bjs-powered-by").is_visible(), "the bpmn.io logo stays visible"

    page.locator("#dmn-datei").set_input_files(
        files=[{"name": "boese.dmn", "mimeType": "application/xml", "buffer": XXE}]
    )
    errors = page.locator("#dmn-fehler")
    errors.wait_for(state="visible")
    assert "Die Datei wurde nicht übernommen" in errors.inner_text() and "DOCTYPE" in errors.inner_text()
    draft_id = int(page.url.rsplit("/", 1)[1])
    assert live_engine.decision_draft(live_engine.actor("modeller"), draft_id).lock_version == 1, "nothing is lost"

    start = (clock.now().date() - timedelta(days=1)).isoformat()  # Doxis started yesterday
    page.locator("#dmn-editor th.input-cell").first.dblclick()
    expression = page.locator(".ref-input-editor .ref-text")
    expression.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(f'stichtag >= "{start}"')
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Speichern", exact=True).click()
    expect(page.locator("#dmn-status")).to_have_text(re.compile(r"^Gespeichert um \d\d:\d\d Uhr\.$"))

    page.get_by_role("button", name="Jetzt bereitstellen").click()
    assert page.locator("#kommentar-fehler").inner_text() == "Bitte beschreiben Sie kurz, was sich ändert."
    page.get_by_label("Kommentar zur neuen Version").fill(f"Doxis-Start {start}")
    page.get_by_role("button", name="Jetzt bereitstellen").click()
    page.wait_for_url(re.compile(r"/modelle$"))
    message = page.locator(".meldungen").inner_text()
    assert "umstellung_akte.dmn: Version 2 ist jetzt live" in message
    assert "Zuarbeit bei der Führung der Leistungs- und IFK-Akten (Version 2)" in message

    assert recorded(live_engine).open_task_names() == [SCAN], "the next case decides by the new date"
    older.complete("Schriftstück erfassen", RECORD)
    assert older.open_task_names() == [PAPER], "a running case keeps the table of its version"
    assert page.console_problems == []  # type: ignore[attr-defined]
