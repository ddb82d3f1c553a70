"""A process owner changes PB Antragsannahme in the browser modeller and deploys it; the next case runs it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support import pb
from tests.support.browser import log_in
from tests.support.cases import CaseDriver
from tests.support.records import case_row

pytestmark = pytest.mark.browser

TASK = "Task_Antragsannahme"
OPEN_PB = re.compile(r"^Im Modeller öffnen\W+PB – Antragsannahme")


def test_a_process_owner_changes_the_egs_role_saves_and_deploys(page, live_engine) -> None:  # type: ignore[no-untyped-def]
    older = CaseDriver(live_engine, pb.PROCESS)
    log_in(page, "modeller")
    assert page.url.endswith("/modelle"), "process owners start on Modelle"
    page.get_by_role("button", name=OPEN_PB).click()
    page.wait_for_selector("#modeller-canvas[data-geladen='ja']")
    assert page.locator("#modeller-status").inner_text() == "Alle Änderungen sind gespeichert."

    page.locator(f'g.djs-element[data-element-id="{TASK}"]').click()
    assert page.locator(".bio-properties-panel-header-label").inner_text() == "Antrag annehmen und Identität prüfen"
    role = page.get_by_label("EGS-Rolle")  # the EGS group is open on every task
    assert role.input_value() == "Durchführender"
    assert page.get_by_label("Formular").input_value() == "pb_antragsannahme.json"
    role.select_option("Mitwirkender")
    page.get_by_role("button", name="Speichern", exact=True).click()
    expect(page.locator("#modeller-status")).to_have_text(re.compile(r"^Gespeichert um \d\d:\d\d Uhr\.$"))

    page.get_by_role("button", name="Weiter: Änderungen prüfen").click()
    assert page.locator("#kommentar-fehler").inner_text() == "Bitte beschreiben Sie kurz, was sich ändert."
    page.get_by_label("Kommentar zur neuen Version").fill("EGS wirkt bei der Antragsannahme nur noch mit")
    page.get_by_role("button", name="Weiter: Änderungen prüfen").click()
    confirm = page.locator("#bereitstellen-bestaetigung")  # the diff summary first
    expect(confirm).to_be_visible()
    assert "Gegenüber der Live-Version 1: 1 geändert." in confirm.inner_text()
    assert "EGS-Rolle: „Durchführender“ → „Mitwirkender“" in confirm.inner_text()
    page.get_by_role("button", name="Jetzt bereitstellen").click()
    page.wait_for_url(re.compile(r"/modelle$"))
    assert "Version 2 ist jetzt live" in page.locator(".meldungen").inner_text()
    assert "„EGS wirkt bei der Antragsannahme nur noch mit“" in page.content()

    modeller = live_engine.actor("modeller")
    entry = next(e for e in live_engine.model_catalogue(modeller) if e.process_id == pb.PROCESS)
    assert (entry.live.version, [v.version for v in entry.older], entry.drafts) == (2, [1], ())
    before = live_engine.version_diagram(modeller, pb.PROCESS, 1).xml
    xml = live_engine.version_diagram(modeller, pb.PROCESS, 2).xml
    assert 'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"' in xml
    for kept in ('name="egsRole"', "<spiffworkflow:", "<spiffworkflow:instructionsForEndUser>"):
        assert xml.count(kept) == before.count(kept), f"saving in the browser lost {kept}"
    newer = CaseDriver(live_engine, pb.PROCESS)
    assert case_row(live_engine, newer.instance_id).version_id == entry.live.version_id
    assert case_row(live_engine, older.instance_id).version_id != entry.live.version_id
    with live_engine.db.reading() as session:
        task = live_engine.specs.get(session, entry.live.version_id).model.tasks[TASK]
    assert (task.egs_role, task.form_key) == ("Mitwirkender", "pb_antragsannahme.json")
    assert page.console_problems == []  # type: ignore[attr-defined]


def test_a_deploy_error_selects_and_marks_the_element(page, live_engine) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "modeller")
    page.get_by_role("button", name=OPEN_PB).click()
    page.wait_for_selector("#modeller-canvas[data-geladen='ja']")
    page.locator(f'g.djs-element[data-element-id="{TASK}"]').click()
    page.get_by_label("EGS-Rolle").select_option("")
    page.get_by_label("Kommentar zur neuen Version").fill("Rolle vergessen")
    # deselect on the canvas (not on the bell): the error must select it again
    page.locator("#modeller-canvas svg").first.click(position={"x": 5, "y": 5})
    page.get_by_role("button", name="Weiter: Änderungen prüfen").click()
    page.get_by_role("button", name="Jetzt bereitstellen").click()
    errors = page.locator("#modeller-fehler")
    errors.wait_for(state="visible")
    assert (
        "egsRole" in errors.inner_text()
        and "Element „Antrag annehmen und Identität prüfen“ zeigen" in errors.inner_text()
    )
    marked = page.locator(f'g.djs-element.egs-fehler[data-element-id="{TASK}"]')
    assert marked.count() == 1 and "selected" in (marked.get_attribute("class") or "")
    assert page.url.endswith(tuple(f"/entwuerfe/{n}" for n in range(1, 10)))
    assert page.console_problems == []  # type: ignore[attr-defined]


@pytest.fixture
def second_page(browser, live_server: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="de-DE", base_url=live_server)
    yield context.new_page()
    context.close()


def choose_role(page, value: str) -> None:  # type: ignore[no-untyped-def]
    page.locator(f'g.djs-element[data-element-id="{TASK}"]').click()
    page.get_by_label("EGS-Rolle").select_option(value)


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10))
    + ']>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol9;</bpmn:definitions>'
)


def test_autosave_never_overwrites_a_newer_save_and_a_hostile_upload_is_refused(page, second_page, live_engine) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "modeller")
    page.get_by_role("button", name=OPEN_PB).click()
    page.wait_for_selector("#modeller-canvas[data-geladen='ja']")
    log_in(second_page, "modeller")
    second_page.goto(page.url)
    second_page.wait_for_selector("#modeller-canvas[data-geladen='ja']")
    draft_id = int(page.url.rsplit("/", 1)[1])
    modeller = live_engine.actor("modeller")

    choose_role(page, "Mitwirkender")  # autosaved after a pause, no button pressed
    expect(page.locator("#modeller-status")).to_have_text(re.compile(r"^Gespeichert um"))
    choose_role(second_page, "informatorisch Beteiligter")
    expect(second_page.locator("#modeller-status")).to_contain_text(
        "Nicht gespeichert: Der Entwurf wurde zwischenzeitlich"
    )
    draft = live_engine.model_draft(modeller, draft_id)
    assert draft.lock_version == 2 and 'value="Mitwirkender"' in draft.xml
    assert "informatorisch Beteiligter" not in draft.xml.split(f'id="{TASK}"')[1].split("</bpmn:userTask>")[0]

    page.locator("#modeller-datei").set_input_files(
        files=[{"name": "boese.bpmn", "mimeType": "application/xml", "buffer": BILLION_LAUGHS.encode()}]
    )
    errors = page.locator("#modeller-fehler")
    errors.wait_for(state="visible")
    assert "Die Datei wurde nicht übernommen" in errors.inner_text() and "DOCTYPE" in errors.inner_text()
    assert live_engine.model_draft(modeller, draft_id).lock_version == 2
    assert page.console_problems == []  # type: ignore[attr-defined]


def test_the_modeller_bundle_loads_only_on_the_modeller_page(page, live_engine) -> None:  # type: ignore[no-untyped-def]
    """bpmn-js Modeler, the properties panel, bpmnlint and the token simulation (about 1.9 MB) are fetched only
    where a draft is edited; the inbox and the case page (a read-only viewer) never load them."""
    case = CaseDriver(live_engine, pb.PROCESS)
    scripts: list[str] = []
    page.on("request", lambda request: scripts.append(request.url) if request.resource_type in ("script", "stylesheet")
            else None)  # fmt: skip

    def loaded() -> set[str]:
        names = {url.rsplit("/", 1)[1].split("?")[0] for url in scripts}
        scripts.clear()
        return names

    log_in(page, "egs")
    loaded()
    page.goto("/")
    page.wait_for_load_state("networkidle")
    assert "modeller.js" not in loaded()
    page.goto(f"/vorgaenge/{case.instance_id}")
    page.wait_for_selector("#diagramm[data-geladen='ja']")
    on_case_page = loaded()
    assert "diagram.js" in on_case_page and not {"modeller.js", "modeller.css"} & on_case_page
    probe = "() => [typeof window.egsModeller, document.querySelectorAll('.bio-properties-panel').length]"
    assert page.evaluate(probe) == ["undefined", 0]

    page.context.clear_cookies()
    log_in(page, "modeller")
    loaded()
    page.get_by_role("button", name=OPEN_PB).click()
    page.wait_for_selector("#modeller-canvas[data-geladen='ja']")
    assert {"modeller.js", "modeller.css"} <= loaded()
    assert page.locator("#modeller-panel .bio-properties-panel").count() == 1
    assert page.console_problems == []  # type: ignore[attr-defined]
