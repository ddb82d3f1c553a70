"""Model drafts of process owners: stored on the server, checked like uploads, locked, audited, deployed."""

from __future__ import annotations

import pytest

from engine.api import Engine
from engine.errors import ConflictError, FormValidationError, ModelError, PermissionDeniedError
from engine.model_lint import ModelLintError
from tests.support import pb
from tests.support.cases import CaseDriver
from tests.support.records import audit_events, case_row

PB = pb.PROCESS
OLD_NAME = 'name="Antrag annehmen und Identität prüfen"'
NEW_NAME = 'name="Antrag annehmen und Identität sorgfältig prüfen"'

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10))
    + ']>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol9;</bpmn:definitions>'
)
XXE = (
    '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/hostname">]>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&e;</bpmn:definitions>'
)


def hostile(label: str, live_xml: str) -> str:
    if label == "zu groß":
        return live_xml.replace("</bpmn:definitions>", "<!--" + "x" * 6_000_000 + "--></bpmn:definitions>")
    if label == "anderer Prozess":
        return live_xml.replace(f'<bpmn:process id="{PB}"', '<bpmn:process id="pb_fremd"')
    return {"Billion Laughs": BILLION_LAUGHS, "XXE": XXE, "kein XML": "<bpmn:definitions", "leer": "  "}[label]


def test_a_draft_starts_as_the_live_version_and_saves_with_a_new_lock_version(deployed: Engine) -> None:
    modeller = deployed.actor("modeller")
    draft = deployed.create_model_draft(modeller, PB)
    assert (draft.process_id, draft.base_version, draft.lock_version, draft.filename) == (PB, 1, 1, f"{PB}.bpmn")
    assert OLD_NAME in draft.xml
    saved = deployed.save_model_draft(modeller, draft.id, 1, xml=draft.xml.replace(OLD_NAME, NEW_NAME))
    assert saved.lock_version == 2
    again = deployed.model_draft(modeller, draft.id)
    assert NEW_NAME in again.xml and again.updated_by == "modeller"
    unchanged = deployed.save_model_draft(modeller, draft.id, 2, xml=again.xml)
    assert unchanged.lock_version == 2, "saving the same text again is no change"
    events = audit_events(deployed, actor="modeller")
    assert [(e.action, e.process_id, e.details["draft"]) for e in events] == [
        ("model_draft_created", PB, draft.id),
        ("model_draft_saved", PB, draft.id),
    ]
    entry = next(e for e in deployed.model_catalogue(modeller) if e.process_id == PB)
    assert [d.id for d in entry.drafts] == [draft.id]


def test_a_stale_save_is_refused_and_keeps_the_newer_text(deployed: Engine) -> None:
    modeller = deployed.actor("modeller")
    draft = deployed.create_model_draft(modeller, PB)
    deployed.save_model_draft(modeller, draft.id, 1, xml=draft.xml.replace(OLD_NAME, NEW_NAME))
    with pytest.raises(ConflictError) as caught:
        deployed.save_model_draft(modeller, draft.id, 1, xml=draft.xml)
    assert (caught.value.expected, caught.value.actual) == (1, 2)
    assert NEW_NAME in deployed.model_draft(modeller, draft.id).xml
    assert [e.details["operation"] for e in audit_events(deployed, "conflict")] == ["save_model_draft"]
    with pytest.raises(ConflictError):
        deployed.delete_model_draft(modeller, draft.id, 1)


@pytest.mark.parametrize("label", ["Billion Laughs", "XXE", "zu groß", "kein XML", "leer", "anderer Prozess"])
def test_hostile_or_broken_xml_is_refused_and_nothing_is_stored(deployed: Engine, label: str) -> None:
    modeller = deployed.actor("modeller")
    draft = deployed.create_model_draft(modeller, PB)
    with pytest.raises(ModelError):
        deployed.save_model_draft(modeller, draft.id, 1, xml=hostile(label, draft.xml))
    after = deployed.model_draft(modeller, draft.id)
    assert (after.xml, after.lock_version) == (draft.xml, 1)
    assert audit_events(deployed, "model_draft_saved") == []


def test_bad_forms_and_names_of_a_draft_are_refused(deployed: Engine) -> None:
    modeller = deployed.actor("modeller")
    draft = deployed.create_model_draft(modeller, PB)
    with pytest.raises(ModelError, match="Ungültiger Formularname"):
        deployed.save_model_draft(modeller, draft.id, 1, forms={"../passwd.json": {"type": "object"}})
    with pytest.raises(ModelError):
        deployed.save_model_draft(modeller, draft.id, 1, forms={"neu.json": ["kein", "Objekt"]})
    with pytest.raises(FormValidationError):
        deployed.save_model_draft(modeller, draft.id, 1, name="  ")
    assert deployed.model_draft(modeller, draft.id).lock_version == 1


@pytest.mark.parametrize("username", ["egs", "tl", "audit"])
def test_only_process_owners_may_read_change_or_deploy_drafts(deployed: Engine, username: str) -> None:
    modeller = deployed.actor("modeller")
    draft = deployed.create_model_draft(modeller, PB)
    other = deployed.actor(username)
    refused = [
        lambda: deployed.model_catalogue(other),
        lambda: deployed.create_model_draft(other, PB),
        lambda: deployed.model_draft(other, draft.id),
        lambda: deployed.save_model_draft(other, draft.id, 1, xml=draft.xml.replace(OLD_NAME, NEW_NAME)),
        lambda: deployed.delete_model_draft(other, draft.id, 1),
        lambda: deployed.deploy_model_draft(other, draft.id, 1, "Versuch"),
        lambda: deployed.version_diagram(other, PB, 1),
        lambda: deployed.form_names(other),
    ]
    for attempt in refused:
        with pytest.raises(PermissionDeniedError):
            attempt()
    assert deployed.model_draft(modeller, draft.id).lock_version == 1
    operations = [e.details["operation"] for e in audit_events(deployed, "access_denied", actor=username)]
    assert "save_model_draft" in operations and "deploy_model_draft" in operations


def test_deploying_a_draft_makes_a_new_live_version_for_the_next_case(deployed: Engine) -> None:
    modeller = deployed.actor("modeller")
    older = CaseDriver(deployed, PB)
    draft = deployed.create_model_draft(modeller, PB)
    saved = deployed.save_model_draft(modeller, draft.id, 1, xml=draft.xml.replace(OLD_NAME, NEW_NAME))
    with pytest.raises(FormValidationError):
        deployed.deploy_model_draft(modeller, draft.id, saved.lock_version, "  ")
    result = deployed.deploy_model_draft(modeller, draft.id, saved.lock_version, "Prüfschritt genauer benannt")
    assert (result.process_id, result.version, result.created) == (PB, 2, True)
    entry = next(e for e in deployed.model_catalogue(modeller) if e.process_id == PB)
    assert (entry.live.version, entry.live.comment, entry.live.deployed_by) == (
        2,
        "Prüfschritt genauer benannt",
        "modeller",
    )
    assert [(v.version, v.open_cases) for v in entry.older] == [(1, 1)]
    assert entry.drafts == (), "a deployed draft is the new version now"
    newer = CaseDriver(deployed, PB)
    assert case_row(deployed, newer.instance_id).version_id == result.version_id
    assert case_row(deployed, older.instance_id).version_id != result.version_id
    assert "Identität sorgfältig prüfen" in deployed.version_diagram(modeller, PB, 2).xml
    actions = [e.action for e in audit_events(deployed, actor="modeller")]
    assert actions[-2:] == ["deploy", "model_draft_deployed"]
    assert audit_events(deployed, "deploy", actor="modeller")[0].details["comment"] == "Prüfschritt genauer benannt"


def test_a_draft_that_breaks_a_rule_is_not_deployed_and_names_the_element(deployed: Engine) -> None:
    modeller = deployed.actor("modeller")
    draft = deployed.create_model_draft(modeller, PB)
    broken = draft.xml.replace(
        '<spiffworkflow:property name="formJsonSchemaFilename" value="pb_antragsannahme.json" />'
        '<spiffworkflow:property name="egsRole" value="Durchführender" />',
        '<spiffworkflow:property name="formJsonSchemaFilename" value="pb_antragsannahme.json" />',
    )
    assert broken != draft.xml
    saved = deployed.save_model_draft(modeller, draft.id, 1, xml=broken)
    with pytest.raises(ModelLintError) as caught:
        deployed.deploy_model_draft(modeller, draft.id, saved.lock_version, "Rolle vergessen")
    assert [p.element_id for p in caught.value.problems] == ["Task_Antragsannahme"]
    assert "egsRole" in caught.value.problems[0].detail
    entry = next(e for e in deployed.model_catalogue(modeller) if e.process_id == PB)
    assert entry.live.version == 1 and [d.id for d in entry.drafts] == [draft.id]


def test_a_draft_equal_to_the_live_version_creates_no_version_and_stays(deployed: Engine) -> None:
    modeller = deployed.actor("modeller")
    draft = deployed.create_model_draft(modeller, PB)
    result = deployed.deploy_model_draft(modeller, draft.id, 1, "nichts geändert")
    assert (result.version, result.created) == (1, False)
    assert deployed.model_draft(modeller, draft.id).lock_version == 1
    deployed.delete_model_draft(modeller, draft.id, 1)
    assert [e.action for e in audit_events(deployed, actor="modeller")][-1] == "model_draft_deleted"


def test_a_draft_of_an_older_live_version_is_not_deployed_over_a_newer_one(deployed: Engine) -> None:
    modeller = deployed.actor("modeller")
    first = deployed.create_model_draft(modeller, PB)
    second = deployed.create_model_draft(modeller, PB)
    saved = deployed.save_model_draft(modeller, first.id, 1, xml=first.xml.replace(OLD_NAME, NEW_NAME))
    assert deployed.deploy_model_draft(modeller, first.id, saved.lock_version, "erste Änderung").version == 2
    other = deployed.save_model_draft(modeller, second.id, 1, name="Zweiter Entwurf", xml=second.xml + "\n")
    with pytest.raises(ConflictError, match="live ist inzwischen Version 2"):
        deployed.deploy_model_draft(modeller, second.id, other.lock_version, "zweite Änderung")
    entry = next(e for e in deployed.model_catalogue(modeller) if e.process_id == PB)
    assert entry.live.version == 2 and [d.name for d in entry.drafts] == ["Zweiter Entwurf"]


def test_a_form_of_the_draft_replaces_the_form_file_in_the_new_version(deployed: Engine) -> None:
    import json

    from tests.support.engines import FORMS

    modeller = deployed.actor("modeller")
    schema = json.loads((FORMS / "pb_antragsannahme.json").read_text(encoding="utf-8"))
    schema["title"] = "Antrag annehmen (überarbeitet)"
    draft = deployed.create_model_draft(modeller, PB)
    saved = deployed.save_model_draft(modeller, draft.id, 1, forms={"pb_antragsannahme.json": schema})
    assert saved.form_names == ("pb_antragsannahme.json",)
    result = deployed.deploy_model_draft(modeller, draft.id, saved.lock_version, "Formulartitel")
    with deployed.db.reading() as session:
        version = deployed.specs.get(session, result.version_id)
    assert version.forms["pb_antragsannahme.json"]["title"] == "Antrag annehmen (überarbeitet)"
    assert version.forms["pb_anmeldung.json"] == json.loads((FORMS / "pb_anmeldung.json").read_text("utf-8"))


AKTE_CALL = "<spiffworkflow:calledDecisionId>umstellung_akte</spiffworkflow:calledDecisionId>"
AKTE_PRE = "<spiffworkflow:preScript>stichtag = heute().isoformat()</spiffworkflow:preScript>"


def calling(xml: str, decision: str) -> str:
    """PB with "Aktenführung bestimmen" calling ``decision`` (its old output set by the pre-script instead)."""
    call = f"<spiffworkflow:calledDecisionId>{decision}</spiffworkflow:calledDecisionId>"
    pre = '<spiffworkflow:preScript>stichtag = heute().isoformat()\naktenfuehrung = "papier"</spiffworkflow:preScript>'
    assert AKTE_CALL + AKTE_PRE in xml
    return xml.replace(AKTE_CALL + AKTE_PRE, call + pre)


def test_a_draft_may_call_a_decision_deployed_with_another_process(deployed: Engine) -> None:
    """The modeller offers every deployed decision; the file comes along from the process that brought it."""
    modeller = deployed.actor("modeller")
    offered = {d["id"]: d["file"] for d in deployed.modeller_choices(modeller)["decisions"]}
    assert offered["umstellung_ifk_neu"] == "umstellung_ifk_neu.dmn"  # deployed with the IFK processes
    assert offered["umstellung_phase"] == "umstellung_phase.dmn", "a table no process uses is deployed as a table"
    with deployed.db.reading() as session:
        assert "umstellung_ifk_neu.dmn" not in deployed.specs.latest(session, PB).resources
    draft = deployed.create_model_draft(modeller, PB)
    saved = deployed.save_model_draft(modeller, draft.id, 1, xml=calling(draft.xml, "umstellung_ifk_neu"))
    assert deployed.start_trial(modeller, draft.id, "56.4").id, "a Probelauf of the draft finds the table, too"
    result = deployed.deploy_model_draft(modeller, draft.id, saved.lock_version, "Andere Entscheidungstabelle")
    with deployed.db.reading() as session:
        resources = deployed.specs.get(session, result.version_id).resources
    assert "umstellung_ifk_neu.dmn" in resources and "umstellung_akte.dmn" not in resources


def test_a_draft_calling_an_unknown_decision_is_not_deployed(deployed: Engine) -> None:
    modeller = deployed.actor("modeller")
    draft = deployed.create_model_draft(modeller, PB)
    saved = deployed.save_model_draft(modeller, draft.id, 1, xml=calling(draft.xml, "gibt_es_nicht"))
    with pytest.raises(ModelError):
        deployed.deploy_model_draft(modeller, draft.id, saved.lock_version, "Tippfehler")
    entry = next(e for e in deployed.model_catalogue(modeller) if e.process_id == PB)
    assert entry.live.version == 1


@pytest.mark.parametrize("username", ["egs", "tl", "audit"])
def test_only_process_owners_get_the_choices_of_the_modeller(deployed: Engine, username: str) -> None:
    with pytest.raises(PermissionDeniedError):
        deployed.modeller_choices(deployed.actor(username))
