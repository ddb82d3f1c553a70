"""The semantic diff of two BPMN texts (engine/model_diff.py): what the diff page, the deploy confirmation and the
deploy audit event show."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import ModelError
from engine.model_diff import diff_xml

ROOT = Path(__file__).resolve().parents[1]
LIVE = (ROOT / "processes" / "pb_antragsannahme.bpmn").read_text(encoding="utf-8")
MAX = 5_000_000


def changed(new: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {c.element_id: (c.kind, c.details) for c in diff_xml(LIVE, new, MAX).changes}


def test_same_text_has_no_changes() -> None:
    diff = diff_xml(LIVE, LIVE, MAX)
    assert diff.empty
    assert diff.summary_text() == "keine Änderungen"


def test_renamed_task_is_changed_with_old_and_new_name() -> None:
    new = LIVE.replace('name="Papierakte anlegen bzw. ergänzen"', 'name="Papierakte führen"')
    assert changed(new) == {
        "Task_Papierakte": ("changed", ("Name: „Papierakte anlegen bzw. ergänzen“ → „Papierakte führen“",))
    }


def test_removed_task_with_its_flows_and_added_task() -> None:
    new = LIVE.replace('id="Task_Papierakte"', 'id="Task_Akte_Neu"').replace(
        ">Task_Papierakte<", ">Task_Akte_Neu<").replace('"Task_Papierakte"', '"Task_Akte_Neu"')  # fmt: skip
    diff = diff_xml(LIVE, new, MAX)
    kinds = {c.element_id: c.kind for c in diff.changes}
    assert kinds["Task_Papierakte"] == "removed"
    assert kinds["Task_Akte_Neu"] == "added"
    assert kinds["Flow_Akte_Papier"] == "changed"  # its target changed
    assert diff.counts() == {"added": 1, "removed": 1, "changed": 2, "layout": 0}
    assert diff.summary_text() == "1 hinzugefügt, 1 entfernt, 2 geändert"
    target = next(c for c in diff.changes if c.element_id == "Flow_Akte_Papier")
    assert target.details == ("Ziel: „Task_Papierakte“ → „Task_Akte_Neu“",)


def test_changed_role_and_form() -> None:
    new = LIVE.replace(
        '<spiffworkflow:property name="formJsonSchemaFilename" value="pb_papierakte.json" />'
        '<spiffworkflow:property name="egsRole" value="Mitwirkender" />',
        '<spiffworkflow:property name="formJsonSchemaFilename" value="pb_eakte.json" />'
        '<spiffworkflow:property name="egsRole" value="Durchführender" />',
    )
    assert changed(new) == {
        "Task_Papierakte": (
            "changed",
            ("EGS-Rolle: „Mitwirkender“ → „Durchführender“", "Formular: „pb_papierakte.json“ → „pb_eakte.json“"),
        )
    }


def test_changed_condition() -> None:
    new = LIVE.replace('anliegen == "erstantrag"</bpmn', 'anliegen in ("erstantrag", "weiterbewilligung")</bpmn', 1)
    ((element_id, (kind, details)),) = changed(new).items()
    assert element_id == "Flow_Anliegen_Erstantrag"
    assert kind == "changed"
    assert details == ('Bedingung: „anliegen == "erstantrag"“ → „anliegen in ("erstantrag", "weiterbewilligung")“',)


def test_changed_script_and_pre_script() -> None:
    new = LIVE.replace('vorname = besuch.get("vorname")', 'vorname = besuch.get("vorname", "")').replace(
        "stichtag = heute().isoformat()", "stichtag = heute().isoformat()  # Stichtag", 1)  # fmt: skip
    found = changed(new)
    assert found["Task_Besuch_Uebernehmen"][0] == "changed"
    assert found["Task_Besuch_Uebernehmen"][1][0].startswith("Skript: „vorname = besuch.get(")
    assert found["Task_Umstellung_Akte"] == (
        "changed",
        ("Skript davor: „stichtag = heute().isoformat()“ → „stichtag = heute().isoformat() # Stichtag“",),
    )


def test_geometry_only_is_layout() -> None:
    new = LIVE.replace(
        'bpmnElement="Task_Anmeldung"><dc:Bounds x="470"', 'bpmnElement="Task_Anmeldung"><dc:Bounds x="480"'
    )
    diff = diff_xml(LIVE, new, MAX)
    assert [(c.element_id, c.kind, c.details) for c in diff.changes] == [
        ("Task_Anmeldung", "layout", ("Lage im Diagramm",))
    ]
    assert diff.summary_text() == "1 nur verschoben"


def test_whitespace_in_texts_is_not_a_change() -> None:
    new = LIVE.replace('name="Papierakte anlegen bzw. ergänzen"', 'name="Papierakte  anlegen\nbzw. ergänzen"')
    assert diff_xml(LIVE, new, MAX).empty


def test_moved_to_another_lane() -> None:
    new = LIVE.replace("<bpmn:flowNodeRef>Task_Papierakte</bpmn:flowNodeRef>", "")
    assert changed(new)["Task_Papierakte"][1][0].startswith("Lane: ")


def test_audit_summary_names_fields_not_texts() -> None:
    new = LIVE.replace('vorname = besuch.get("vorname")', 'vorname = "geheim"')
    summary = diff_xml(LIVE, new, MAX).audit_summary()
    assert summary["changed"] == 1
    assert summary["elemente"] == [{"id": "Task_Besuch_Uebernehmen", "art": "changed", "felder": ["Skript"]}]
    assert "geheim" not in str(summary)


@pytest.mark.parametrize("hostile", ["<bpmn:definitions", "<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>", ""])
def test_broken_or_hostile_text_is_a_model_error(hostile: str) -> None:
    with pytest.raises(ModelError):
        diff_xml(LIVE, hostile, MAX)


def test_a_default_written_out_by_another_tool_is_no_change() -> None:
    assert 'cancelActivity="true"' in LIVE
    assert diff_xml(LIVE, LIVE.replace(' cancelActivity="true"', ""), MAX).empty


def test_changed_service_parameter() -> None:
    live = (ROOT / "processes" / "handvorschuss.bpmn").read_text(encoding="utf-8")
    operator = live.split("<spiffworkflow:serviceTaskOperator", 1)[1].split("</spiffworkflow:serviceTaskOperator>")[0]
    value = operator.split('value="', 1)[1].split('"', 1)[0]
    new = live.replace(operator, operator.replace(f'value="{value}"', 'value="anders"', 1))
    (change,) = diff_xml(live, new, MAX).changes
    assert change.kind == "changed" and change.details[0].startswith("Service-Operation: „…")  # from the difference on
    assert "value=anders" in change.details[0]
