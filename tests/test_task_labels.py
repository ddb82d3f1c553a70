"""Task labels from data: per-document tasks say which document they are about (model property egsLabel)."""

from __future__ import annotations

import pytest

from engine import task_labels
from engine.api import Engine
from engine.auth import system_actor
from engine.model_lint import ModelLintError
from engine.model_loader import ModelFile
from tests.support import pb
from tests.support.cases import CaseDriver
from tests.support.engines import DATA

FORMS = {
    "f.json": {
        "type": "object",
        "properties": {
            "unterlage": {
                "type": "string",
                "enum": ["mietvertrag", "kdu"],
                "x-enumNames": ["Mietvertrag", "Anlage KDU"],
            },
            "frist_bis": {"type": "string", "format": "date"},
            "stichwort": {"type": "string", "x-sichtbarFuer": ["FB50"]},
        },
    }
}


def test_render_uses_choice_titles_and_german_dates() -> None:
    template = "{unterlage} bis {frist_bis}"
    values = task_labels.label_values(template, {"unterlage": "mietvertrag", "frist_bis": "2025-04-18", "x": 1})
    assert values == {"unterlage": ["mietvertrag"], "frist_bis": ["2025-04-18"]}
    assert task_labels.render(template, values, FORMS) == "Mietvertrag bis 18.04.2025"
    both = task_labels.label_values("{unterlage}", {"unterlage": ["kdu", "mietvertrag"]})
    assert task_labels.render("{unterlage}", both, FORMS) == "Anlage KDU, Mietvertrag"


def test_no_label_without_values_and_never_from_restricted_fields() -> None:
    assert task_labels.render("{unterlage}", task_labels.label_values("{unterlage}", {}), FORMS) is None
    assert task_labels.render(None, {}, FORMS) is None
    assert task_labels.render("{stichwort}", {"stichwort": ["Grundsicherung"]}, FORMS) is None
    assert task_labels.render("Unbekannt: {frei}", {"frei": ["x" * 500]}, FORMS) == ("Unbekannt: " + "x" * 500)[:200]


def test_templates_are_never_evaluated() -> None:
    data = {"unterlage": "mietvertrag"}
    assert task_labels.fields_in("{unterlage.__class__} {0} {unterlage}") == ["unterlage"]
    assert task_labels.problems("{unterlage.__class__}") != []
    assert task_labels.problems("Unterlage {unterlage}") == []
    assert task_labels.render("{unterlage}", task_labels.label_values("{unterlage}", data), {}) == "mietvertrag"


def test_per_document_tasks_carry_the_document_in_inbox_and_case(deployed: Engine) -> None:
    egs = deployed.actor("egs")
    case = CaseDriver(deployed, pb.PROCESS)
    pb.walk_to_completeness_check(deployed, egs, case.instance_id)
    case.complete(
        pb.VOLLSTAENDIGKEIT_PRUEFEN,
        {**pb.UNVOLLSTAENDIG, "fehlende_unterlagen": ["kontoauszuege", "mietvertrag"]},
    )
    case.complete(pb.ANFORDERN, pb.anforderung())

    tasks = [t for t in deployed.inbox(egs) if t.instance_id == case.instance_id]
    assert sorted((t.name, t.label) for t in tasks) == [
        (pb.EINGANG_ERFASSEN, "Kontoauszüge der letzten drei Monate"),
        (pb.EINGANG_ERFASSEN, "Mietvertrag"),
    ]
    view = deployed.task_view(egs, tasks[0].task_uuid)
    assert view.label == tasks[0].label and view.name == pb.EINGANG_ERFASSEN
    assert {t.label for t in deployed.case_view(egs, case.instance_id).open_tasks} == {
        "Kontoauszüge der letzten drei Monate",
        "Mietvertrag",
    }


def test_a_label_with_stray_braces_is_refused_at_deployment(engine: Engine) -> None:
    text = (
        (DATA / "four_eyes.bpmn")
        .read_text()
        .replace(
            '<spiffworkflow:property name="egsFourEyes"',
            '<spiffworkflow:property name="egsLabel" value="{a.b}" /><spiffworkflow:property name="egsFourEyes"',
        )
    )
    with pytest.raises(ModelLintError) as caught:
        engine.deploy_files([ModelFile("labels.bpmn", text.encode())], system_actor("test"), DATA / "forms")
    assert any(p.detail.startswith("egsLabel: ") for p in caught.value.problems)
