"""Reading a case or a task for its page: header, data, history, path, deadlines, linked cases.

Who may open what is decided by ``engine.permissions``; fields marked ``x-sichtbarFuer`` are left out of
data and history for everybody else. Each view is itself recorded in the audit trail.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import audit, permissions, tasks
from .audit import Action
from .auth import Actor
from .case_path import case_path
from .errors import NotFoundError, PermissionDeniedError
from .forms import FieldSpec, form_fields
from .inbox import TaskSummary, tasks_of_case
from .models import ProcessInstance, TaskDraft
from .read_models import (
    CaseView,
    Deadline,
    HistoryEntry,
    RelatedCase,
    TaskView,
    header_of,
    history_details,
    labels_of,
    without,
)
from .runtime import CaseRuntime
from .stepping import case_data, ready_task
from .timers import timer_deadlines
from .versions import LoadedVersion, SpecCache
from .vocabulary import DELETED

NOT_IN_HISTORY = (Action.CASE_VIEWED, Action.TASK_VIEWED)


def may_view(actor: Actor, version: LoadedVersion, site: str) -> bool:
    """Whether the actor may open a case of this version at ``site``."""
    return permissions.may_view_case(actor, version.lanes, site)


def _hidden(labels: Mapping[str, FieldSpec], actor: Actor, site: str) -> set[str]:
    return permissions.hidden_fields({name: spec.schema for name, spec in labels.items()}, actor, site)


def case_view(session: Session, runtime: CaseRuntime, actor: Actor, instance_id: int) -> CaseView:
    """A case as the actor may see it; the view is audited.

    :raises NotFoundError: :raises PermissionDeniedError:
    """
    row = session.get(ProcessInstance, instance_id)
    if row is None:
        raise NotFoundError("Den Vorgang gibt es nicht.")
    deleted = row.status == DELETED  # personal data removed after retention: header and trail remain
    version, workflow = (runtime.specs.get(session, row.version_id), None) if deleted else runtime.load(session, row)
    if not may_view(actor, version, row.site):
        raise PermissionDeniedError("Für diesen Vorgang fehlt die Berechtigung (Gruppe/Standort).")
    audit.record(session, Action.CASE_VIEWED, actor.username, instance_id=row.id, process_id=row.process_id)
    labels = labels_of(version.forms)
    hidden = _hidden(labels, actor, row.site)
    history = [
        HistoryEntry(e.occurred_at, e.actor, e.action, e.details.get("task"), history_details(e.details, hidden))
        for e in audit.events_for_instance(session, row.id)
        if e.action not in NOT_IN_HISTORY
    ]
    return CaseView(
        header=header_of(row, version),
        open_tasks=tasks_of_case(session, row.id, actor, version.lanes),
        history=history,
        data=without(case_data(workflow), hidden) if workflow else {},
        labels=labels,
        path=case_path(workflow, version.model) if workflow else None,
        deadlines=[Deadline(name, due) for name, due in timer_deadlines(workflow)] if workflow else [],
        related=related_cases(session, runtime.specs, actor, row),
    )


def related_cases(session: Session, specs: SpecCache, actor: Actor, row: ProcessInstance) -> list[RelatedCase]:
    """Cases linked by message starts, limited to those the actor may see."""
    conditions = [ProcessInstance.related_key == row.business_key]
    if row.related_key:
        conditions.append(ProcessInstance.business_key == row.related_key)
    found: list[RelatedCase] = []
    for other in session.scalars(sa.select(ProcessInstance).where(sa.or_(*conditions)).order_by(ProcessInstance.id)):
        if other.id == row.id:
            continue
        version = specs.get(session, other.version_id)
        if not may_view(actor, version, other.site):
            continue
        relation = "Ausgangsvorgang" if other.business_key == row.related_key else "daraus gestartet"
        found.append(RelatedCase(other.id, other.business_key, version.name, other.status, relation))
    return found


def open_tasks(session: Session, actor: Actor, instance_id: int) -> list[TaskSummary]:
    """The open tasks of one case that the actor may work (e.g. to go on right after starting it)."""
    return [task for task in tasks_of_case(session, instance_id, actor) if task.may_work]


def task_view(session: Session, runtime: CaseRuntime, actor: Actor, task_uuid: str) -> TaskView:
    """A task with its form, the case data so far and the actor's draft; the view is audited.

    :raises NotFoundError: :raises ConflictError: task no longer open. :raises PermissionDeniedError:
    """
    task_row = tasks.workable(session, actor, task_uuid)
    row = session.get(ProcessInstance, task_row.instance_id)
    if row is None:
        raise NotFoundError("Den Vorgang gibt es nicht.")
    version, workflow = runtime.load(session, row)
    task = ready_task(workflow, task_uuid)
    info = version.model.tasks.get(task_row.task_spec_id)
    form = version.forms.get(task_row.form_key or "", {})
    assignee = None
    if task_row.assignee_id is not None:
        assignee = next((t.assignee for t in tasks_of_case(session, row.id) if t.task_uuid == task_uuid), None)
    audit.record(
        session, Action.TASK_VIEWED, actor.username, instance_id=row.id, task_uuid=task_uuid,
        process_id=row.process_id, details={"task": task_row.name},
    )  # fmt: skip
    draft = session.scalar(
        sa.select(TaskDraft).where(TaskDraft.task_uuid == task_uuid, TaskDraft.user_id == actor.user_id)
    )
    labels = labels_of(version.forms)
    return TaskView(
        draft=dict(draft.values) if draft else None,
        draft_saved_at=draft.saved_at if draft else None,
        task_uuid=task_uuid,
        name=task_row.name,
        label=task_row.label,
        lane=task_row.lane,
        egs_role=task_row.egs_role,
        instructions=info.instructions if info else "",
        form_key=task_row.form_key,
        form_title=str(form.get("title", task_row.name)),
        fields=form_fields(form) if form else [],
        assignee=assignee,
        due_at=task_row.due_at,
        header=header_of(row, version),
        data=without(task.data, _hidden(labels, actor, row.site)),
        labels=labels,
    )
