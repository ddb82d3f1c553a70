"""Delegation, priorities and due dates set by leads, and drafts that survive until completion."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from engine import clock
from engine.api import Engine
from engine.errors import ConflictError, FormValidationError, NotFoundError, PermissionDeniedError, RuleViolationError
from engine.models import AuditEvent, TaskDraft
from tests.support import pb


def first_task(engine: Engine) -> tuple[int, str]:
    egs = engine.actor("egs")
    case = engine.start_case(egs, pb.PROCESS)
    [task] = engine.open_tasks(egs, case.instance_id)
    return case.instance_id, task.task_uuid


def events(engine: Engine, action: str) -> list[AuditEvent]:
    with engine.db.reading() as session:
        return list(session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def test_delegate_to_a_named_colleague_with_reason(deployed: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    colleague = make_user("egs2", ("EGS", "56.4"))
    egs = deployed.actor("egs")
    instance_id, task_uuid = first_task(deployed)
    deployed.claim(egs, task_uuid)
    with pytest.raises(FormValidationError):
        deployed.delegate(egs, task_uuid, "egs2", "   ")
    with pytest.raises(NotFoundError):
        deployed.delegate(egs, task_uuid, "niemand", "Urlaub")
    with pytest.raises(RuleViolationError, match="gehört nicht zur Gruppe EGS am Standort 56.4"):
        deployed.delegate(egs, task_uuid, "lsb", "Urlaub")
    deployed.delegate(egs, task_uuid, "egs2", "Urlaub ab morgen")
    [task] = deployed.open_tasks(colleague, instance_id)
    assert task.assignee == "egs2"
    [event] = events(deployed, "delegate")
    assert (event.actor, event.details["to"], event.details["reason"]) == ("egs", "egs2", "Urlaub ab morgen")
    with pytest.raises(ConflictError):
        deployed.delegate(egs, task_uuid, "egs", "zurück")  # egs no longer holds it
    deployed.delegate(deployed.actor("tl"), task_uuid, "egs", "Vertretung beendet")  # the lead may
    assert deployed.open_tasks(egs, instance_id)[0].assignee == "egs"


def test_leads_set_priority_and_due_date(deployed: Engine) -> None:
    instance_id, task_uuid = first_task(deployed)
    egs, tl = deployed.actor("egs"), deployed.actor("tl")
    with pytest.raises(PermissionDeniedError):
        deployed.set_priority(egs, task_uuid, 3)
    with pytest.raises(FormValidationError):
        deployed.set_priority(tl, task_uuid, 7)
    deployed.set_priority(tl, task_uuid, 3)
    due = clock.now() + timedelta(days=2)
    deployed.set_due(deployed.actor("fdl"), task_uuid, due)
    [task] = deployed.open_tasks(egs, instance_id)
    assert task.priority == 3 and task.due_at == due.replace(microsecond=due.microsecond)
    assert [e.details["changes"]["prioritaet"] for e in events(deployed, "priority")] == [[0, 3]]
    assert len(events(deployed, "due")) == 1


def test_draft_survives_until_completion(deployed: Engine) -> None:
    instance_id, task_uuid = first_task(deployed)
    egs = deployed.actor("egs")
    deployed.save_draft(egs, task_uuid, {"vorname": ["Jana"], "nachname": [""]})
    view = deployed.task_view(deployed.actor("egs"), task_uuid)  # e.g. after logging in again
    assert view.draft == {"vorname": ["Jana"], "nachname": [""]} and view.draft_saved_at is not None
    deployed.save_draft(egs, task_uuid, {"vorname": ["Jana"], "nachname": ["Probstfeld"]})
    assert deployed.task_view(egs, task_uuid).draft == {"vorname": ["Jana"], "nachname": ["Probstfeld"]}
    with pytest.raises(PermissionDeniedError):
        deployed.save_draft(deployed.actor("lsb"), task_uuid, {"vorname": ["X"]})
    deployed.complete_task(egs, task_uuid, pb.anmeldung())
    with deployed.db.reading() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(TaskDraft)) == 0
    assert [e.details["fields"] for e in events(deployed, "draft_saved")] == [["nachname", "vorname"]] * 2
    assert instance_id
