"""Uploading a Camunda export on "Modelle" in the browser: the documentation view with the German reasons and the
named elements marked in the diagram; axe on "Modelle" with the upload and on the documentation page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import violations
from tests.support.browser import log_in
from tests.support.foreign import CAMUNDA

pytestmark = pytest.mark.browser


@pytest.fixture
def axe_page(browser, live_server: str):  # type: ignore[no-untyped-def]
    # As in test_accessibility: axe is injected by the test, so this context alone bypasses the CSP.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="de-DE", base_url=live_server,
                                  bypass_csp=True)  # fmt: skip
    yield context.new_page()
    context.close()


def test_a_process_owner_uploads_a_camunda_export_and_reads_why_it_cannot_run(page, live_engine) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "modeller")
    page.get_by_label("BPMN-Datei", exact=True).set_input_files(str(CAMUNDA))
    page.get_by_role("button", name="Hochladen und prüfen").click()
    page.wait_for_url(re.compile(r"/modelle/dokumentation/\d+$"))
    expect(page.get_by_role("heading", name="Dokumentation: Urlaubsantrag")).to_be_visible()
    assert "als Dokumentation gespeichert" in page.locator(".meldungen").inner_text()
    reasons = page.locator(".doku-gruende").inner_text()
    for expected in (
        "Erweiterungen anderer Werkzeuge",
        "Camunda 7: camunda:assignee, camunda:dueDate, camunda:formKey",
        "Skript in der Sprache 'groovy'",
        "Die Aufgabe liegt in keiner Lane",
        "Antrag prüfen (Task_Pruefen)",
        "Urlaub im Kalender eintragen (Task_Eintragen)",
    ):
        assert expected in reasons
    page.wait_for_selector("#diagramm[data-geladen='ja']")
    expect(page.locator("[data-element-id='Task_Pruefen'].doku-befund")).to_have_count(1)
    page.get_by_role("link", name="Modelle").first.click()
    expect(page.get_by_role("link", name="Urlaubsantrag ansehen")).to_be_visible()
    assert page.console_problems == []  # type: ignore[attr-defined]


def test_the_upload_and_documentation_pages_have_no_serious_violations(axe_page, live_engine) -> None:  # type: ignore[no-untyped-def]
    uploaded = live_engine.upload_model(live_engine.actor("modeller"), CAMUNDA.name, CAMUNDA.read_bytes())
    log_in(axe_page, "modeller")
    found = {}
    axe_page.goto("/modelle")
    found["Modelle mit Hochladen und Dokumentationsmodellen"] = violations(axe_page)
    axe_page.get_by_label("BPMN-Datei", exact=True).set_input_files(
        files=[{"name": "leer.bpmn", "mimeType": "application/xml", "buffer": b" "}]
    )
    axe_page.get_by_role("button", name="Hochladen und prüfen").click()
    expect(axe_page.locator("#hochladen-fehler")).to_contain_text("Die Datei ist leer.")
    found["Modelle nach abgewiesenem Hochladen"] = violations(axe_page)
    axe_page.goto(f"/modelle/dokumentation/{uploaded.document_id}")
    axe_page.wait_for_selector("#diagramm[data-geladen='ja']")
    found["Dokumentationsmodell"] = violations(axe_page)
    assert found == {name: [] for name in found}
