"""The area of the § 6 VZÄ plan in the modeller (frontend/modeller-area.js): the pool shows its process's area, taking
it away is a live lint error, a task can name its own area, and saving keeps both in the draft's XML."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support import pb
from tests.support.browser import log_in

pytestmark = pytest.mark.browser

OPEN_PB = re.compile(r"^Im Modeller öffnen\W+PB – Antragsannahme")
AREA_ERROR = "Eigenschaft 'egsBereich' des Prozesses fehlt oder ist ungültig"
SELECT = "(id) => window.egsModeller.get('selection').select(window.egsModeller.get('elementRegistry').get(id))"


def test_a_process_owner_sets_the_area_of_the_process_and_of_one_task(page, live_engine) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "modeller")
    page.get_by_role("button", name=OPEN_PB).click()
    page.wait_for_selector("#modeller-canvas[data-geladen='ja']")
    summary = page.locator("#pruefung-zusammenfassung")
    expect(summary).to_have_text(re.compile(r"^0 Fehler"))

    page.evaluate(SELECT, "Participant_Jobcenter")  # the pool: the properties of its process
    area = page.get_by_label("Aufgabenbereich (§ 6)")
    assert area.input_value() == "neuantragsbearbeitung"
    area.select_option("")  # "– bitte wählen –": the lint says at once that the process needs one
    # bpmn-js-bpmnlint shows a finding on the process at its pool
    expect(page.locator('#pruefung-liste li[data-element="Participant_Jobcenter"]').first).to_contain_text(AREA_ERROR)
    expect(summary).to_have_text(re.compile(r"^1 Fehler"))
    area.select_option(label="Allgemeine Verwaltungstätigkeiten")
    expect(summary).to_have_text(re.compile(r"^0 Fehler"))

    page.evaluate(SELECT, "Task_Antragsannahme")  # a task: empty means "as the process"
    task_area = page.get_by_label("Aufgabenbereich (§ 6)")
    assert task_area.input_value() == ""
    task_area.select_option(label="Unterstützung IFK")
    page.get_by_role("button", name="Speichern", exact=True).click()
    expect(page.locator("#modeller-status")).to_have_text(re.compile(r"^Gespeichert um \d\d:\d\d Uhr\.$"))

    modeller = live_engine.actor("modeller")
    entry = next(e for e in live_engine.model_catalogue(modeller) if e.process_id == pb.PROCESS)
    xml = live_engine.model_draft(modeller, entry.drafts[0].id).xml
    assert xml.count('name="egsBereich"') == 2
    assert '<spiffworkflow:property name="egsBereich" value="allgemeine_verwaltung"' in xml
    assert '<spiffworkflow:property name="egsBereich" value="unterstuetzung_ifk"' in xml
    assert page.console_problems == []  # type: ignore[attr-defined]
