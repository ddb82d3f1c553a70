"""The modeller's live lint and the diff page in Chromium: a user task without role shows the lint error at once
and fixing it clears it; the diff page colours a changed element; axe finds nothing serious on the diff page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import violations
from tests.support import pb
from tests.support.browser import log_in

pytestmark = pytest.mark.browser

OPEN_PB = re.compile(r"^Im Modeller öffnen\W+PB – Antragsannahme")
ROLE_ERROR = "Die EGS-Rolle fehlt oder ist ungültig"

ADD_USER_TASK = """() => {
  const modeler = window.egsModeller;
  const registry = modeler.get('elementRegistry');
  const shape = modeler.get('modeling').createShape(
    { type: 'bpmn:UserTask' }, { x: 400, y: 700 }, registry.get('Participant_Jobcenter'));
  modeler.get('modeling').updateLabel(shape, 'Neue Rückfrage');
  return shape.id;
}"""


@pytest.fixture
def axe_page(browser, live_server: str):  # type: ignore[no-untyped-def]
    # axe is injected by the test, not served by the app: bypass the CSP for this context only.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="de-DE", base_url=live_server,
                                  bypass_csp=True)  # fmt: skip
    yield context.new_page()
    context.close()


def findings(page, element_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator(f'#pruefung-liste li[data-element="{element_id}"]').all_inner_texts()  # type: ignore[no-any-return]


def test_a_user_task_without_role_shows_the_lint_error_live_and_fixing_it_clears_it(page, live_engine) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "modeller")
    page.get_by_role("button", name=OPEN_PB).click()
    page.wait_for_selector("#modeller-canvas[data-geladen='ja']")
    summary = page.locator("#pruefung-zusammenfassung")
    expect(summary).to_have_text("0 Fehler, 1 Warnung.")  # the shipped model passes (one label warning)
    assert "Der Sequenzfluss hat eine überflüssige Beschriftung." in page.locator("#pruefung-liste").inner_text()

    task_id = page.evaluate(ADD_USER_TASK)
    expect(page.locator(f'#pruefung-liste li[data-element="{task_id}"]').first).to_be_visible()
    found = " | ".join(findings(page, task_id))
    assert ROLE_ERROR in found and "Die Benutzeraufgabe hat kein Formular" in found
    assert (
        page.locator(f'.djs-overlays[data-container-id="{task_id}"] .bjsl-overlay').count() == 1
    )  # marked on the canvas
    expect(page.locator(".bjsl-button")).to_contain_text("Fehler")

    page.locator(f"#pruefung-liste li[data-element='{task_id}'] button").first.click()  # "Element … zeigen"
    assert "selected" in (page.locator(f'g.djs-element[data-element-id="{task_id}"]').get_attribute("class") or "")
    page.get_by_label("EGS-Rolle").select_option("Durchführender")
    expect(page.locator(f'#pruefung-liste li[data-element="{task_id}"]', has_text=ROLE_ERROR)).to_have_count(0)
    assert any("kein Formular" in text for text in findings(page, task_id))
    page.get_by_label("Formular").select_option("pb_anmeldung.json")
    expect(page.locator(f'#pruefung-liste li[data-element="{task_id}"]', has_text="Formular")).to_have_count(0)
    assert all("Fehler: Die" not in text for text in findings(page, task_id) if "Rolle" in text)
    assert page.console_problems == []  # type: ignore[attr-defined]


def changed_draft(live_engine) -> int:  # type: ignore[no-untyped-def]
    modeller = live_engine.actor("modeller")
    draft = live_engine.create_model_draft(modeller, pb.PROCESS)
    xml = draft.xml.replace(
        '<spiffworkflow:property name="formJsonSchemaFilename" value="pb_antragsannahme.json" />'
        '<spiffworkflow:property name="egsRole" value="Durchführender" />',
        '<spiffworkflow:property name="formJsonSchemaFilename" value="pb_antragsannahme.json" />'
        '<spiffworkflow:property name="egsRole" value="Mitwirkender" />',
    )
    assert xml != draft.xml
    live_engine.save_model_draft(modeller, draft.id, draft.lock_version, xml=xml)
    return int(draft.id)


def test_the_diff_page_colours_a_changed_element_and_has_no_serious_violations(axe_page, live_engine) -> None:  # type: ignore[no-untyped-def]
    draft_id = changed_draft(live_engine)
    log_in(axe_page, "modeller")
    axe_page.get_by_role("link", name=re.compile(r"^Mit Version 1 vergleichen")).click()
    assert axe_page.url.endswith(f"/modelle/entwuerfe/{draft_id}/vergleich")
    axe_page.wait_for_selector("#diagramm[data-geladen='ja']")
    axe_page.wait_for_selector("#diagramm-alt[data-geladen='ja']")
    for diagram in ("#diagramm", "#diagramm-alt"):
        marked = axe_page.locator(f'{diagram} g.djs-element.vergleich-geaendert[data-element-id="Task_Antragsannahme"]')
        assert marked.count() == 1, diagram
    stroke = axe_page.locator(
        '#diagramm g.vergleich-geaendert[data-element-id="Task_Antragsannahme"] .djs-visual > :first-child'
    ).evaluate("node => getComputedStyle(node).stroke")
    assert stroke == "rgb(160, 77, 0)"
    assert axe_page.locator("#diagramm g.djs-element.vergleich-neu").count() == 0
    assert axe_page.locator("#vergleich-zusammenfassung").inner_text() == "Änderungen: 1 geändert"
    row = axe_page.locator('#vergleich-liste tr[data-element="Task_Antragsannahme"]')
    assert "EGS-Rolle: „Durchführender“ → „Mitwirkender“" in row.inner_text()
    assert violations(axe_page) == []
