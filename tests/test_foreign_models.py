"""Models from other tools: the German reasons why they cannot run here, documentation models (stored, listed,
viewed, deleted, audited), runnable files of our own processes becoming drafts, and hostile files refused."""

from __future__ import annotations

import time

import pytest

from engine.api import Engine
from engine.errors import ModelError, NotFoundError, PermissionDeniedError
from engine.model_analysis import NOT_EXECUTABLE, RULES, STRUCTURE, UNSUPPORTED, VENDOR
from tests.support import pb
from tests.support.foreign import (
    CAMUNDA,
    COLLABORATION,
    DIAGRAM_ONLY,
    HOSTILE,
    SIGNAVIO,
    analysed,
    live_text,
    messages,
)
from tests.support.hostile import script_process
from tests.support.records import audit_events

PB = pb.PROCESS
NO_LANE = "Die Aufgabe liegt in keiner Lane (Lane = zuständige Gruppe)."
NO_ROLE = (
    "Eigenschaft 'egsRole' fehlt oder ist ungültig; erlaubt: Durchführender, Mitwirkender, informatorisch Beteiligter."
)
NO_OPERATOR = "Die Service-Aufgabe ruft keine Service-Operation der Plattform auf (spiffworkflow:serviceTaskOperator)."
NOT_EXECUTABLE_TEXT = 'Der Prozess ist als nicht ausführbar gekennzeichnet (isExecutable="false").'


def test_a_camunda_7_export_names_each_vendor_extension_script_language_and_missing_implementation() -> None:
    analysis = analysed(CAMUNDA.read_bytes(), CAMUNDA.name)
    found = messages(analysis)
    assert analysis.name == "Urlaubsantrag" and analysis.executable_ids == ("urlaubsantrag",)
    assert not analysis.runnable
    assert found[
        "Camunda 7: camunda:assignee, camunda:dueDate, camunda:formKey, camunda:inputOutput, camunda:taskListener"
    ] == ["Task_Pruefen"]
    assert found["Camunda 7: camunda:formKey, camunda:initiator"] == ["StartEvent_Antrag"]
    assert found["Camunda 7: camunda:expression"] == ["Task_Eintragen"]
    assert found["Camunda 7: camunda:executionListener"] == ["EndEvent_Eingetragen"]
    assert found[NO_OPERATOR] == ["Task_Eintragen"]
    assert found["Skript in der Sprache 'groovy': die Plattform führt nur Python in ihrer Sandbox aus."] == [
        "Task_Ablehnen"
    ]
    assert sorted(found[NO_LANE]) == ["Task_Ablehnen", "Task_Eintragen", "Task_Pruefen"]
    assert sorted(found[NO_ROLE]) == ["Task_Ablehnen", "Task_Eintragen", "Task_Pruefen"]
    assert found["Die Benutzeraufgabe hat kein Formular (Eigenschaft 'formJsonSchemaFilename')."] == ["Task_Pruefen"]
    assert found["Das Gateway hat keinen Standardfluss (default)."] == ["Gateway_Genehmigt"]
    juel = [text for text in found if "${genehmigt}" in text]
    assert juel and found[juel[0]] == ["Flow_Ja"], "a JUEL condition is no Python expression"
    pruefen = next(f for f in analysis.findings if f.elements and f.elements[0].id == "Task_Pruefen")
    assert pruefen.elements[0].label == "Antrag prüfen (Task_Pruefen)", "findings name the element by name and id"
    topics = [finding.topic for finding in analysis.findings]
    assert topics == sorted(topics, key=[RULES, UNSUPPORTED, VENDOR].index), "grouped by topic"


def test_a_signavio_export_is_not_executable_and_its_lanes_are_no_groups_of_ours() -> None:
    found = messages(analysed(SIGNAVIO.read_bytes(), SIGNAVIO.name))
    assert found[NOT_EXECUTABLE_TEXT] == ["sid-proc-reise"]
    assert "Die Datei enthält keinen ausführbaren Prozess." in found
    assert found["Lane 'Reisekostenstelle' ist keine bekannte Gruppe (EGS, LSB, IFK, TL, FDL, FB50)."] == [
        "sid-task-pruefen",
        "sid-task-auszahlen",
    ]
    assert "sid-task-einreichen" in found[NO_ROLE]
    assert found[NO_OPERATOR] == ["sid-task-auszahlen"]
    assert set(found["Signavio: signavio:signavioMetaData"]) >= {"sid-task-einreichen", "sid-lane-mitarbeiter"}
    assert found["Signavio: signavio:signavioDiagramMetaData"] == ["sid-c0ll-reise"]


def test_a_collaboration_of_two_pools_names_both_processes_and_what_the_engine_cannot_run() -> None:
    analysis = analysed(COLLABORATION.read_bytes(), COLLABORATION.name)
    found = messages(analysis)
    assert analysis.process_ids == ("Process_Amt", "Process_Lieferant") and analysis.executable_ids == ()
    assert found[NOT_EXECUTABLE_TEXT] == ["Process_Amt", "Process_Lieferant"]
    assert found["Elemente vom Typ <complexGateway> kann die Engine nicht ausführen."] == ["Gateway_Weiter"]
    assert found["Ereignisse vom Typ <linkEventDefinition> kann die Engine nicht ausführen."] == [
        "LinkEventDefinition_Inventur"
    ]
    assert found["Lane 'Sachbearbeitung' ist keine bekannte Gruppe (EGS, LSB, IFK, TL, FDL, FB50)."] == [
        "Task_Bestellen"
    ]
    assert not any(f.topic == VENDOR for f in analysis.findings), "bpmn.io writes plain BPMN"


def test_a_file_with_only_a_diagram_says_there_is_no_process() -> None:
    analysis = analysed(DIAGRAM_ONLY.read_bytes(), DIAGRAM_ONLY.name)
    assert [(f.topic, f.message) for f in analysis.findings] == [
        (STRUCTURE, "Die Datei enthält keinen <bpmn:process>.")
    ]
    assert analysis.name == "Prozesslandkarte Jobcenter"


@pytest.mark.parametrize("label", sorted(HOSTILE))
def test_a_hostile_or_unreadable_file_gives_one_german_error(label: str) -> None:
    content, expected = HOSTILE[label]
    started = time.perf_counter()
    with pytest.raises(ModelError) as refused:
        analysed(content, "fremd.bpmn")
    assert expected in refused.value.message
    assert refused.value.message.startswith("fremd.bpmn")
    assert time.perf_counter() - started < 5, "refused quickly"


def test_every_model_of_ours_analyses_clean_or_with_decision_table_names_only(deployed: Engine) -> None:
    """A single file of ours: what the lint finds without its decision tables, nothing else."""
    for process_id in ("pb_antragsannahme", "besuchersteuerung", "handvorschuss"):
        analysis = analysed(live_text(deployed, process_id).encode(), f"{process_id}.bpmn")
        assert all(f.topic == RULES for f in analysis.findings), analysis.findings


def test_an_uploaded_camunda_export_becomes_a_documentation_model(deployed: Engine) -> None:
    modeller = deployed.actor("modeller")
    uploaded = deployed.upload_model(modeller, "../../tmp/" + CAMUNDA.name, CAMUNDA.read_bytes())
    assert uploaded.draft_id is None and uploaded.document_id is not None
    [listed] = deployed.documentation_models(modeller)
    assert (listed.name, listed.filename, listed.uploaded_by) == ("Urlaubsantrag", CAMUNDA.name, "modeller")
    document = deployed.documentation_model(modeller, uploaded.document_id)
    assert document.finding_count == len(document.findings) >= 10
    assert 'id="Task_Pruefen"' in document.diagram and "BPMNShape" in document.diagram
    assert "Task_Pruefen" in document.element_ids and "camunda" not in document.diagram, "the viewer gets no extensions"
    assert [topic for topic, _ in document.by_topic] == [RULES, UNSUPPORTED, VENDOR]
    assert all(entry.process_id != "urlaubsantrag" for entry in deployed.model_catalogue(modeller)), "never deployed"
    [event] = audit_events(deployed, action="model_document_uploaded")
    assert event.actor == "modeller" and event.details["file"] == CAMUNDA.name
    assert event.details["findings"] == document.finding_count and event.details["processes"] == ["urlaubsantrag"]
    deployed.delete_documentation_model(modeller, uploaded.document_id)
    assert deployed.documentation_models(modeller) == []
    assert audit_events(deployed, action="model_document_deleted")[0].details["document"] == uploaded.document_id
    with pytest.raises(NotFoundError):
        deployed.documentation_model(modeller, uploaded.document_id)


@pytest.mark.parametrize("username", ["egs", "tl", "audit"])
def test_only_process_owners_upload_view_and_delete_models(deployed: Engine, username: str) -> None:
    document_id = deployed.upload_model(deployed.actor("modeller"), SIGNAVIO.name, SIGNAVIO.read_bytes()).document_id
    assert document_id is not None
    other = deployed.actor(username)
    with pytest.raises(PermissionDeniedError):
        deployed.upload_model(other, CAMUNDA.name, CAMUNDA.read_bytes())
    with pytest.raises(PermissionDeniedError):
        deployed.documentation_models(other)
    with pytest.raises(PermissionDeniedError):
        deployed.documentation_model(other, document_id)
    with pytest.raises(PermissionDeniedError):
        deployed.delete_documentation_model(other, document_id)
    assert len(deployed.documentation_models(deployed.actor("modeller"))) == 1
    assert len(audit_events(deployed, action="access_denied", actor=username)) == 4


def test_a_runnable_file_of_a_deployed_process_becomes_a_draft_of_it(deployed: Engine) -> None:
    modeller = deployed.actor("modeller")
    changed = live_text(deployed, PB).replace(
        'name="Antrag annehmen und Identität prüfen"', 'name="Antrag annehmen und Identität sorgfältig prüfen"'
    )
    uploaded = deployed.upload_model(modeller, "pb_aus_dem_modeler.bpmn", changed.encode())
    assert uploaded.document_id is None and uploaded.draft_id is not None
    draft = deployed.model_draft(modeller, uploaded.draft_id)
    assert (draft.process_id, draft.base_version, draft.filename) == (PB, 1, f"{PB}.bpmn")
    assert draft.xml == changed and draft.name == "Hochgeladen: pb_aus_dem_modeler.bpmn"
    [event] = audit_events(deployed, action="model_draft_uploaded")
    assert event.details == {"draft": draft.id, "lock_version": 1, "base_version": 1, "file": "pb_aus_dem_modeler.bpmn"}
    assert deployed.documentation_models(modeller) == []


def test_a_file_of_a_deployed_process_that_cannot_run_is_documentation_with_the_deploy_checks_findings(
    deployed: Engine,
) -> None:
    modeller = deployed.actor("modeller")
    text = live_text(deployed, PB)
    role = '<spiffworkflow:property name="egsRole" value="Durchführender" />'
    broken = text.replace(role, "", 1)
    assert broken != text
    uploaded = deployed.upload_model(modeller, "pb.bpmn", broken.encode())
    assert uploaded.document_id is not None
    document = deployed.documentation_model(modeller, uploaded.document_id)
    [missing] = [f for f in document.findings if f.message == NO_ROLE]
    assert missing.topic == RULES and len(missing.elements) == 1
    assert not any("konfig" in f.message or "Regel" in f.message for f in document.findings), (
        "checked with the live version's other files, not alone"
    )


def test_a_runnable_process_that_is_not_deployed_is_documentation_with_that_reason(deployed: Engine) -> None:
    modeller = deployed.actor("modeller")
    text = script_process("ganz_neu", "x = 1").replace("test_leer.json", "akte_erfassen.json")
    uploaded = deployed.upload_model(modeller, "neu.bpmn", text.encode())
    document = deployed.documentation_model(modeller, uploaded.document_id or 0)
    [finding] = document.findings
    assert finding.topic == NOT_EXECUTABLE and "nicht bereitgestellt" in finding.message
    assert [e.id for e in finding.elements] == ["ganz_neu"]


@pytest.mark.parametrize("label", ["Billion Laughs", "10 MB", "DMN statt BPMN", "leer"])
def test_a_hostile_upload_stores_nothing(deployed: Engine, label: str) -> None:
    modeller = deployed.actor("modeller")
    with pytest.raises(ModelError):
        deployed.upload_model(modeller, "boese.bpmn", HOSTILE[label][0])
    assert deployed.documentation_models(modeller) == []
    assert audit_events(deployed, action="model_document_uploaded") == []


def test_the_fixtures_are_analysed_well_within_the_time_bound() -> None:
    for path in (CAMUNDA, SIGNAVIO, COLLABORATION, DIAGRAM_ONLY):
        started = time.perf_counter()
        analysed(path.read_bytes(), path.name)
        assert time.perf_counter() - started < 5, path.name
