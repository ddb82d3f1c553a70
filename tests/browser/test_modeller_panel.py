"""The EGS group of the modeller's properties panel beyond the task's role and form: sites and start groups of the
process (written to the pool's process), the condition of a gateway's flow with the names it may read, the script
of a script task, scripts before/after a step, the decision of a business rule task and a service operation with
its parameters. Each change is one step of undo, and the saved draft passes the server's checks."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from engine.errors import RuleViolationError
from tests.support import pb
from tests.support.browser import log_in

pytestmark = pytest.mark.browser

OPEN_PB = re.compile(r"^Im Modeller öffnen\W+PB – Antragsannahme")
TASK = "Task_Antragsannahme"

SELECT = "id => { const m = window.egsModeller; m.get('selection').select(m.get('elementRegistry').get(id)); }"
XML = "async () => (await window.egsModeller.saveXML({ format: false })).xml"
UNDO_STEPS = "() => window.egsModeller.get('commandStack')._stackIdx"
UNDO = "() => window.egsModeller.get('commandStack').undo()"
ADD_SERVICE_TASK = """() => {
  const modeler = window.egsModeller;
  const registry = modeler.get('elementRegistry');
  const shape = modeler.get('modeling').createShape(
    { type: 'bpmn:ServiceTask' }, { x: 400, y: 700 }, registry.get('Participant_Jobcenter'));
  modeler.get('selection').select(shape);
  return shape.id;
}"""


def open_pb(page) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "modeller")
    page.get_by_role("button", name=OPEN_PB).click()
    page.wait_for_selector("#modeller-canvas[data-geladen='ja']")
    expect(page.locator("#pruefung-zusammenfassung")).to_have_text(re.compile(r"^0 Fehler"))


def process_part(xml: str) -> str:
    """The bpmn:process element's own extension elements (before its lane set)."""
    start = xml.index(f'<bpmn:process id="{pb.PROCESS}"')
    return xml[start : xml.index("<bpmn:laneSet", start)]


def test_sites_and_start_groups_are_written_to_the_pools_process_each_as_one_undo_step(page, live_engine) -> None:  # type: ignore[no-untyped-def]
    open_pb(page)
    page.evaluate(SELECT, "Participant_Jobcenter")
    sites = page.locator("[data-entry-id='egs-standorte']")
    expect(sites).to_contain_text("Angeboten an den Standorten")
    assert "egsSites" not in process_part(page.evaluate(XML))
    before = page.evaluate(UNDO_STEPS)
    sites.get_by_label("Fachdienst 56.6").check()
    sites.get_by_label("Fachdienst 56.4").check()
    page.locator("[data-entry-id='egs-startgruppen']").get_by_label("EGS – Eingangsservice").check()
    assert page.evaluate(UNDO_STEPS) == before + 3, "one command per change"
    part = process_part(page.evaluate(XML))
    assert '<spiffworkflow:property name="egsSites" value="56.4,56.6" />' in part  # in the platform's order
    assert '<spiffworkflow:property name="egsStartLanes" value="EGS" />' in part
    assert "egsSites" not in page.evaluate(XML).split("<bpmn:collaboration")[1].split("</bpmn:collaboration>")[0]

    page.evaluate(UNDO)
    expect(page.locator("[data-entry-id='egs-startgruppen']").get_by_label("EGS – Eingangsservice")).not_to_be_checked()
    sites.get_by_label("Fachdienst 56.4").uncheck()
    sites.get_by_label("Fachdienst 56.6").uncheck()
    assert "egsSites" not in page.evaluate(XML), "nothing chosen: the property goes (offered everywhere)"
    sites.get_by_label("Fachdienst 56.8").check()

    page.get_by_role("button", name="Speichern", exact=True).click()
    expect(page.locator("#modeller-status")).to_have_text(re.compile(r"^Gespeichert um"))
    modeller = live_engine.actor("modeller")
    draft_id = int(page.url.rsplit("/", 1)[1])
    trial = live_engine.start_trial(modeller, draft_id, "56.8")  # checked like a deploy, then run
    assert trial.id
    with pytest.raises(RuleViolationError, match="nur 56.8"):
        live_engine.start_trial(modeller, draft_id, "56.4")
    assert page.console_problems == []  # type: ignore[attr-defined]


def test_a_flow_condition_shows_the_known_names_and_the_code_of_tasks_is_editable(page, live_engine) -> None:  # type: ignore[no-untyped-def]
    open_pb(page)
    page.evaluate(SELECT, "Flow_Anliegen_Erstantrag")
    condition = page.get_by_label("Bedingung")
    expect(condition).to_have_value('anliegen == "erstantrag"')
    hint = page.locator("[data-entry-id='egs-bedingung'] .bio-properties-panel-description").inner_text()
    known = hint.split("Bekannte Namen: ")[1].split(".")[0].split(", ")
    assert {"anliegen", "vorname", "aktenfuehrung", "frist_tage"} <= set(known)  # form field, script, DMN, script
    assert "Startwerte: bezugsvorgang, gestartet_am, standort, vorgangsnummer" in hint and "heute" in hint
    condition.fill('anliegen == "erstantrag" and vorname != ""')
    expect(page.locator("#modeller-status")).to_have_text("Ungespeicherte Änderungen")
    page.evaluate(SELECT, "Flow_Zusammenfuehrung_Anmeldung")  # a flow without condition gets a new one …
    before = page.evaluate(UNDO_STEPS)
    page.get_by_label("Bedingung").fill("True")
    page.wait_for_function(f"() => window.egsModeller.get('commandStack')._stackIdx === {before + 1}")
    flow = page.evaluate(XML).split('id="Flow_Zusammenfuehrung_Anmeldung"')[1].split("</bpmn:sequenceFlow>")[0]
    assert '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">True</bpmn:conditionExpression>' in flow
    page.get_by_label("Bedingung").fill("")  # … and an emptied one goes
    page.wait_for_function(f"() => window.egsModeller.get('commandStack')._stackIdx === {before + 2}")
    flow = page.evaluate(XML).split('id="Flow_Zusammenfuehrung_Anmeldung"')[1].split("/>")[0]
    assert "conditionExpression" not in flow
    page.evaluate(SELECT, "Flow_Anliegen_Sonstiger")  # the default flow needs no condition
    expect(page.locator("[data-entry-id='egs-bedingung']")).to_contain_text("Standardfluss")
    page.evaluate(SELECT, "Flow_Anmeldung_Antragsannahme")  # not out of a gateway: no condition entry
    expect(page.locator("[data-entry-id='egs-bedingung']")).to_have_count(0)

    page.locator('g.djs-element[data-element-id="Task_Besuch_Uebernehmen"]').click()
    expect(page.get_by_label("Skript", exact=True)).to_have_value(re.compile(r'^vorname = besuch\.get\("vorname"\)'))
    page.locator('g.djs-element[data-element-id="Task_Umstellung_Akte"]').click()
    decision = page.get_by_label("Entscheidungstabelle")
    expect(decision).to_have_value("umstellung_akte")
    offered = decision.locator("option").all_inner_texts()
    assert any("(umstellung_ifk_neu)" in text for text in offered), "decisions deployed with other processes, too"
    expect(page.get_by_label("Skript davor")).to_have_value("stichtag = heute().isoformat()")

    page.locator(f'g.djs-element[data-element-id="{TASK}"]').click()
    before = page.evaluate(UNDO_STEPS)
    page.get_by_label("Skript danach").fill("geprueft_am = heute().isoformat()")
    expect(page.locator("#modeller-status")).to_have_text("Ungespeicherte Änderungen")
    page.wait_for_function(f"() => window.egsModeller.get('commandStack')._stackIdx === {before + 1}")
    xml = page.evaluate(XML)
    task = xml.split(f'id="{TASK}"')[1].split("</bpmn:userTask>")[0]
    assert "<spiffworkflow:postScript>geprueft_am = heute().isoformat()</spiffworkflow:postScript>" in task
    assert 'anliegen == "erstantrag" and vorname != ""</bpmn:conditionExpression>' in xml

    page.get_by_role("button", name="Speichern", exact=True).click()
    expect(page.locator("#modeller-status")).to_have_text(re.compile(r"^Gespeichert um"))
    modeller = live_engine.actor("modeller")
    draft_id = int(page.url.rsplit("/", 1)[1])
    lock = live_engine.model_draft(modeller, draft_id).lock_version
    result = live_engine.deploy_model_draft(modeller, draft_id, lock, "Bedingung und Skript im Panel geändert")
    assert (result.version, result.created) == (2, True), "the server's lint accepts what the panel wrote"
    assert page.console_problems == []  # type: ignore[attr-defined]


def test_a_service_operation_brings_its_parameters_in_one_undo_step(page, live_engine) -> None:  # type: ignore[no-untyped-def]
    open_pb(page)
    task_id = page.evaluate(ADD_SERVICE_TASK)
    operation = page.get_by_label("Service-Operation")
    assert "handvorschuss.buchen" in operation.locator("option").all_inner_texts()
    before = page.evaluate(UNDO_STEPS)
    operation.select_option("handvorschuss.buchen")
    described = page.locator("[data-entry-id='egs-operation']")
    expect(described).to_contain_text("Erwartet die Parameter art, betrag, zweck.")
    assert page.evaluate(UNDO_STEPS) == before + 1
    page.get_by_label("Parameter „betrag“").fill("betrag")
    page.get_by_label("Typ von „betrag“").select_option("float")
    page.get_by_label("Ergebnis speichern als").fill("kassenbuchung")
    page.wait_for_function(f"() => window.egsModeller.get('commandStack')._stackIdx === {before + 4}")
    task = page.evaluate(XML).split(f'id="{task_id}"')[1].split("</bpmn:serviceTask>")[0]
    assert '<spiffworkflow:serviceTaskOperator id="handvorschuss.buchen" resultVariable="kassenbuchung">' in task
    for param in ('id="art" type="any" value=""', 'id="betrag" type="float" value="betrag"', 'id="zweck"'):
        assert f"<spiffworkflow:parameter {param}" in task, param

    operation.select_option("handvorschuss.verantwortliche_setzen")  # another operation: its own parameters
    task = page.evaluate(XML).split(f'id="{task_id}"')[1].split("</bpmn:serviceTask>")[0]
    assert re.findall(r'<spiffworkflow:parameter id="(\w+)"', task) == ["verwalter", "vertretung"]
    for _ in range(5):
        page.evaluate(UNDO)
    assert "serviceTaskOperator" not in page.evaluate(XML).split(f'id="{task_id}"')[1].split("</bpmn:serviceTask>")[0]
    assert page.console_problems == []  # type: ignore[attr-defined]
