"""The form editor in the modeller: load a task form, change it with a live preview (the task page's inputs),
see a broken schema refused in German, store it in the draft; axe on the editor with its preview."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import violations
from tests.browser.test_trial_browser import axe_page  # noqa: F401 (fixture)
from tests.support import pb
from tests.support.browser import log_in

pytestmark = pytest.mark.browser

OPEN_PB = re.compile(r"^Im Modeller öffnen\W+PB – Antragsannahme")
FORM = "pb_anmeldung.json"


def open_editor(page) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "modeller")
    page.get_by_role("button", name=OPEN_PB).click()
    page.wait_for_selector("#modeller-canvas[data-geladen='ja']")
    page.get_by_label("Schema-Datei").select_option(FORM)
    page.get_by_role("button", name="Formular laden").click()
    expect(page.locator("#formular-vorschau #feld-nachname")).to_be_visible()


def test_a_process_owner_edits_a_form_with_a_live_preview(page, live_engine) -> None:  # type: ignore[no-untyped-def]
    open_editor(page)
    editor = page.get_by_label("JSON Schema")
    schema = json.loads(editor.input_value())
    schema["properties"]["nachname"]["title"] = "Familienname"
    editor.fill(json.dumps(schema, ensure_ascii=False, indent=2))
    expect(page.locator("#formular-vorschau label[for='feld-nachname']")).to_contain_text("Familienname")

    editor.fill('{"type": "object", "properties": {"x": {"type": "zahl"}}}')
    expect(page.locator("#formular-fehler")).to_contain_text("Kein gültiges JSON Schema")
    editor.fill("{kaputt")
    expect(page.locator("#formular-fehler")).to_contain_text("Kein gültiges JSON")

    editor.fill(json.dumps(schema, ensure_ascii=False, indent=2))
    expect(page.locator("#formular-fehler")).to_be_hidden()
    page.get_by_role("button", name="Formular im Entwurf speichern").click()
    expect(page.locator("#formular-status")).to_contain_text("im Entwurf gespeichert")
    modeller = live_engine.actor("modeller")
    draft_id = int(page.url.rsplit("/", 1)[1])
    assert live_engine.model_draft(modeller, draft_id).forms[FORM]["properties"]["nachname"]["title"] == "Familienname"
    page.get_by_role("button", name="Speichern", exact=True).click()  # the BPMN save still holds the newer lock
    expect(page.locator("#modeller-status")).not_to_contain_text("Nicht gespeichert")
    assert page.console_problems == []  # type: ignore[attr-defined]
    assert pb.PROCESS in page.content()


def test_the_form_editor_has_no_serious_violations(axe_page, live_engine) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    open_editor(axe_page)
    axe_page.get_by_label("JSON Schema").fill("{kaputt")
    expect(axe_page.locator("#formular-fehler")).to_be_visible()
    assert violations(axe_page) == []
