"""Working a task: claim, give back, delegate, steer (reassign, priority, due date), keep a draft, complete.

Every function runs inside the caller's transaction, asks ``engine.permissions`` and records what it did
in the audit trail. Claims are single atomic UPDATEs, so of two clerks claiming at once exactly one wins;
completing checks the case's ``lock_version`` and saves through the runtime.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NoReturn

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import audit, case_rows, clock, notices, permissions, redeployment
from .audit import Action
from .auth import Actor, load_actor
from .casework import Casework
from .errors import (
    STALE_CASE,
    AuthenticationError,
    ConflictError,
    FormValidationError,
    FourEyesError,
    NotFoundError,
    PermissionDeniedError,
    RuleViolationError,
    TaskClosedError,
)
from .forms import Submission
from .models import NO_DUE_DATE, AuditEvent, Grant, HumanTask, ProcessInstance, TaskDraft, User
from .read_models import Completion, NextTask, header_of
from .versions import LoadedVersion, SpecCache
from .vocabulary import PRIORITIES, RUNNING

TASK_GONE = "Die Aufgabe ist nicht mehr offen – sie wurde bereits erledigt oder abgebrochen."
HELD_BY_OTHER = "Die Aufgabe ist von einer anderen Person übernommen."
EMPTY_FORM: dict[str, Any] = {"type": "object", "properties": {}}


def find(session: Session, task_uuid: str) -> HumanTask | None:
    """The inbox row of an open task, with its case row locked for the rest of the transaction.

    The same statement reads the case's version (for the four-eyes rule) and the head of its audit chain,
    which the session then holds: what the caller records about the task costs one INSERT.
    """
    row = session.execute(_FIND, {"b_task": task_uuid}).first()
    if row is None:
        return None
    task, version_id, head = row
    session.info.setdefault(_VERSIONS, {})[task.instance_id] = version_id
    audit.hold_head(session, task.instance_id, head)
    return task


_VERSIONS = "egs_case_versions"
_FIND = (
    sa.select(HumanTask, ProcessInstance.version_id, ProcessInstance.audit_head)
    .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
    .where(HumanTask.task_uuid == sa.bindparam("b_task"))
    .with_for_update(of=ProcessInstance)
)


def instance_of(session: Session, task_uuid: str) -> int | None:
    """The case a task belongs (or belonged) to."""
    found = session.scalar(sa.select(HumanTask.instance_id).where(HumanTask.task_uuid == task_uuid))
    if found is None:
        found = session.scalar(sa.select(AuditEvent.instance_id).where(AuditEvent.task_uuid == task_uuid).limit(1))
    return found


def workable(session: Session, actor: Actor, task_uuid: str) -> HumanTask:
    """The open task, if the actor may work it.

    :raises NotFoundError: no such task. :raises ConflictError: it was open once and is done now.
    :raises PermissionDeniedError: another group's or site's task.
    """
    task = find(session, task_uuid)
    if task is None:
        _refuse_missing(session, task_uuid)
    _check_may_work(actor, task)
    return task


def _refuse_missing(session: Session, task_uuid: str) -> NoReturn:
    """:raises TaskClosedError: the task was open once and is done now. :raises NotFoundError: it never was."""
    known = session.execute(
        sa.select(AuditEvent.id, AuditEvent.instance_id).where(AuditEvent.task_uuid == task_uuid).limit(1)
    ).first()
    if known is not None:
        raise TaskClosedError(TASK_GONE, instance_id=known.instance_id)
    raise NotFoundError("Die Aufgabe gibt es nicht.")


def _check_may_work(actor: Actor, task: HumanTask) -> None:
    if not permissions.may_work(actor, task.lane, task.site):
        raise PermissionDeniedError(
            f"Diese Aufgabe gehört der Gruppe {task.lane} am Standort {task.site}; dafür fehlt die Berechtigung."
        )


def _steerable(session: Session, specs: SpecCache, actor: Actor, task_uuid: str) -> HumanTask:
    task = find(session, task_uuid)
    if task is None:
        raise NotFoundError("Die Aufgabe gibt es nicht (mehr).")
    if not _may_steer(session, specs, actor, task):
        raise PermissionDeniedError(f"Nur Teamleitung oder Fachdienstleitung am Standort {task.site} dürfen das.")
    return task


def _may_steer(session: Session, specs: SpecCache, actor: Actor, task: HumanTask) -> bool:
    lanes = _version_of(session, specs, task.instance_id).lanes
    return permissions.may_steer_task(actor, task.site, lanes)


def _reason(reason: str) -> str:
    """The reason of a hand-over, one line. :raises FormValidationError: none given."""
    reason = " ".join(reason.split())[:500]
    if not reason:
        raise FormValidationError({"grund": ["Bitte einen Grund für die Weitergabe angeben."]})
    return reason


def _not_held_by_other(task: HumanTask, actor: Actor) -> None:
    if task.assignee_id not in (None, actor.user_id):
        raise ConflictError(HELD_BY_OTHER)


def _version_of(session: Session, specs: SpecCache, instance_id: int) -> LoadedVersion:
    version_id = session.info.get(_VERSIONS, {}).get(instance_id)
    if version_id is None:
        version_id = session.scalar(sa.select(ProcessInstance.version_id).where(ProcessInstance.id == instance_id))
    return specs.get(session, version_id or 0)


def _record(session: Session, action: Action, actor: Actor, task: HumanTask, **details: Any) -> None:
    audit.record(
        session, action, actor.username, instance_id=task.instance_id, task_uuid=task.task_uuid,
        process_id=task.process_id, details={"task": task.name, **details},
    )  # fmt: skip


def check_four_eyes(session: Session, actor: Actor, instance_id: int, version: LoadedVersion, task_id: str) -> None:
    """Refuse a step whose property ``egsFourEyes`` names a step this actor completed in the case.

    :raises FourEyesError:
    """
    info = version.model.tasks.get(task_id)
    checked = info.properties.get("egsFourEyes") if info else None
    if not checked:
        return
    done_by = {
        event.actor
        for event in audit.events_for_instance(session, instance_id)
        if event.action == Action.COMPLETE and event.details.get("task_id") == checked
    }
    if not permissions.four_eyes_allows(actor, done_by):
        other = version.model.tasks.get(checked)
        raise FourEyesError(
            f"Vier-Augen-Prinzip: Wer „{other.name if other else checked}“ erledigt hat, "
            f"darf „{info.name if info else task_id}“ nicht selbst erledigen."
        )


def claim(session: Session, specs: SpecCache, actor: Actor, task_uuid: str) -> None:
    """Take a task. :raises ConflictError: someone else holds it."""
    task = workable(session, actor, task_uuid)
    check_four_eyes(session, actor, task.instance_id, _version_of(session, specs, task.instance_id), task.task_spec_id)
    result = session.execute(
        sa.update(HumanTask)
        .where(
            HumanTask.task_uuid == task_uuid,
            sa.or_(HumanTask.assignee_id.is_(None), HumanTask.assignee_id == actor.user_id),
        )
        .values(assignee_id=actor.user_id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError("Die Aufgabe wurde bereits von einer Kollegin oder einem Kollegen übernommen.")
    _record(session, Action.CLAIM, actor, task)


def unclaim(session: Session, actor: Actor, task_uuid: str) -> None:
    """Give a task back to the group. :raises ConflictError: it is held by someone else."""
    task = workable(session, actor, task_uuid)
    _not_held_by_other(task, actor)
    task.assignee_id = None
    _record(session, Action.UNCLAIM, actor, task)


def delegate(session: Session, specs: SpecCache, actor: Actor, task_uuid: str, to_username: str, reason: str) -> None:
    """Hand a task to a named colleague of its group and site, with a reason.

    :raises FormValidationError: no reason. :raises NotFoundError: unknown colleague.
        :raises RuleViolationError: colleague not in the task's group at its site. :raises ConflictError:
    """
    reason = _reason(reason)
    task = find(session, task_uuid)
    if task is None:
        _refuse_missing(session, task_uuid)
    if not _may_steer(session, specs, actor, task):
        _check_may_work(actor, task)
        _not_held_by_other(task, actor)
    previous = task.assignee_id
    target = _hand_to(session, specs, task, to_username)
    notices.tell_taken(session, actor, task, previous if previous != target.user_id else None, reason)
    notices.tell_given(session, actor, task, target.user_id if previous != target.user_id else None, reason)
    _record(session, Action.DELEGATE, actor, task, to=target.username, reason=reason, from_user_id=previous)


def reassign(
    session: Session, specs: SpecCache, actor: Actor, task_uuid: str, to_username: str | None, reason: str
) -> None:
    """A lead takes a task from whoever holds it and gives it to a colleague of its group and site, or back
    to the group (``to_username`` None), with a reason; the previous holder gets a notice (``notices``).

    :raises FormValidationError: no reason. :raises PermissionDeniedError: not a lead of the task's case.
        :raises NotFoundError: :raises RuleViolationError: colleague not in the task's group at its site or
        already holding it, or nobody holds the task that should go back to the group.
    """
    reason = _reason(reason)
    task = _steerable(session, specs, actor, task_uuid)
    previous = task.assignee_id
    if to_username:
        target = _hand_to(session, specs, task, to_username)
        if target.user_id == previous:
            raise RuleViolationError(f"{target.display_name} bearbeitet die Aufgabe bereits.")
        notices.tell_taken(session, actor, task, previous, reason)
        notices.tell_given(session, actor, task, target.user_id, reason)
        _record(session, Action.REASSIGN, actor, task, to=target.username, reason=reason, from_user_id=previous)
        return
    if previous is None:
        raise RuleViolationError("Die Aufgabe hat niemand übernommen; sie liegt bereits bei der Gruppe.")
    task.assignee_id = None
    notices.tell_taken(session, actor, task, previous, reason)
    _record(session, Action.RELEASE, actor, task, reason=reason, from_user_id=previous)


def _hand_to(session: Session, specs: SpecCache, task: HumanTask, to_username: str) -> Actor:
    """Give the task to a colleague who may work it (four-eyes rule included); return them."""
    try:
        target = load_actor(session, to_username)
    except AuthenticationError as exc:
        raise NotFoundError(f"Kollegin oder Kollege „{to_username}“ nicht gefunden.") from exc
    if not permissions.may_work(target, task.lane, task.site):
        raise RuleViolationError(f"{target.display_name} gehört nicht zur Gruppe {task.lane} am Standort {task.site}.")
    check_four_eyes(session, target, task.instance_id, _version_of(session, specs, task.instance_id), task.task_spec_id)
    task.assignee_id = target.user_id
    return target


def set_priority(session: Session, specs: SpecCache, actor: Actor, task_uuid: str, priority: int) -> None:
    """Leads set the priority (``vocabulary.PRIORITIES``) of a task's case: its open tasks and every task
    that begins in it later take it (``runtime.sync_inbox``)."""
    if priority not in PRIORITIES:
        raise FormValidationError({"prioritaet": ["Bitte eine Priorität von 0 bis 3 wählen."]})
    task = _steerable(session, specs, actor, task_uuid)
    old = task.priority
    case_rows.note(session, task.instance_id, priority=priority)
    _steer_open_tasks(session, task.instance_id, priority=priority)
    _record(session, Action.PRIORITY, actor, task, changes={"prioritaet": [old, priority]})


def set_due(session: Session, specs: SpecCache, actor: Actor, task_uuid: str, due_at: datetime | None) -> None:
    """Leads set or clear the due date of a task's case: its open tasks are due then, and every task that
    begins later is due at the earlier of its model deadline and this date (``runtime.sync_inbox``)."""
    task = _steerable(session, specs, actor, task_uuid)
    old = task.due_at
    case_rows.note(session, task.instance_id, due_at=due_at)
    _steer_open_tasks(session, task.instance_id, due_at=due_at, due_sort=due_at or NO_DUE_DATE)
    change = [old.isoformat() if old else None, due_at.isoformat() if due_at else None]
    _record(session, Action.DUE, actor, task, changes={"faellig": change})


def _steer_open_tasks(session: Session, instance_id: int, **values: Any) -> None:
    session.execute(
        sa.update(HumanTask)
        .where(HumanTask.instance_id == instance_id)
        .values(**values)
        .execution_options(synchronize_session="fetch")
    )


def save_draft(session: Session, actor: Actor, task_uuid: str, values: Mapping[str, Sequence[str]]) -> None:
    """Keep the actor's unfinished form input for a task (no validation, no completion)."""
    task = workable(session, actor, task_uuid)
    _not_held_by_other(task, actor)
    clean = {str(k)[:100]: [str(v)[:5000] for v in vs][:50] for k, vs in list(values.items())[:200]}
    draft = session.scalar(
        sa.select(TaskDraft).where(TaskDraft.task_uuid == task_uuid, TaskDraft.user_id == actor.user_id)
    )
    if draft is None:
        session.add(TaskDraft(task_uuid=task_uuid, user_id=actor.user_id, values=clean, saved_at=clock.now()))
    else:
        draft.values, draft.saved_at = clean, clock.now()
    _record(session, Action.DRAFT_SAVED, actor, task, fields=sorted(clean))


def complete(
    session: Session,
    casework: Casework,
    actor: Actor,
    task_uuid: str,
    submission: Submission,
    expected_lock_version: int | None,
) -> Completion:
    """Complete a task with what was submitted (checked against its form) and run the case on.

    One read fetches the case (locked), all its inbox rows and whether the task has a draft; the audit event
    extends the chain head kept on the case row; the case row and its inbox rows are written once each.

    :raises FormValidationError: :raises ConflictError: stale ``expected_lock_version``, task gone or held
        by someone else. :raises PermissionDeniedError: :raises ScriptError: nothing is stored on any error.
    """
    found = _step_rows(session, task_uuid)
    if found is None:
        _refuse_missing(session, task_uuid)
    row, inbox, has_draft = found
    task_row = next(task for task in inbox if task.task_uuid == task_uuid)
    _check_may_work(actor, task_row)
    _not_held_by_other(task_row, actor)
    expected = row.lock_version if expected_lock_version is None else expected_lock_version
    if row.lock_version != expected:
        raise ConflictError(
            STALE_CASE,
            instance_id=row.id,
            expected=expected,
            actual=row.lock_version,
        )
    version = casework.specs.get(session, row.version_id)
    form = version.forms.get(task_row.form_key or "", EMPTY_FORM)
    check_four_eyes(session, actor, row.id, version, task_row.task_spec_id)
    with casework.step_on(session, row, version, actor.username) as step:
        result, clean, changes = step.complete(row.state, row.serializer_version, task_uuid, form, submission)
    if has_draft:
        session.execute(sa.delete(TaskDraft).where(TaskDraft.task_uuid == task_uuid))
    claimed_now = task_row.assignee_id is None  # nobody held it: completing it takes it, and the trail says so
    audit.record(
        session,
        Action.COMPLETE,
        actor.username,
        instance_id=row.id,
        task_uuid=task_uuid,
        process_id=row.process_id,
        details={
            "task": task_row.name,
            "task_id": task_row.task_spec_id,
            "data": clean,
            "changes": changes,
            **({"claimed_on_completion": True} if claimed_now else {}),
        },
    )
    if task_row.lane == "EGS":  # worked under a redeployment's temporary grant? (§ 7: every use audited)
        redeployment.record_use(session, actor, task_row.site, row.id, task_uuid)
    casework.settle(session, row, version, result, expected, actor.username, inbox=inbox)
    next_tasks = []
    for task in result.ready if row.status == RUNNING else []:
        info = version.model.tasks.get(task.spec_id)
        lane = (info.lane if info else task.lane) or ""
        name = (info.name if info else task.name) or task.spec_id
        next_tasks.append(NextTask(task.task_uuid, name, lane, row.site, permissions.may_work(actor, lane, row.site)))
    return Completion(header_of(row, version), next_tasks, claimed_implicitly=claimed_now)


_STEP_ROWS = (
    sa.select(
        ProcessInstance,
        HumanTask,
        sa.exists().where(TaskDraft.task_uuid == sa.bindparam("b_task")).label("has_draft"),
    )
    .join(HumanTask, HumanTask.instance_id == ProcessInstance.id)
    .where(
        ProcessInstance.id
        == sa.select(HumanTask.instance_id).where(HumanTask.task_uuid == sa.bindparam("b_task")).scalar_subquery()
    )
    .with_for_update(of=ProcessInstance)
)


def _step_rows(session: Session, task_uuid: str) -> tuple[ProcessInstance, list[HumanTask], bool] | None:
    """The case of an open task (row locked), all its inbox rows, and whether the task has a draft – in one
    statement; None if the task is not open."""
    rows = session.execute(_STEP_ROWS, {"b_task": task_uuid}).all()
    if not rows:
        return None
    return rows[0][0], [task for _, task, _ in rows], bool(rows[0][2])


def colleagues(session: Session, actor: Actor, task_uuid: str) -> list[tuple[str, str]]:
    """(user name, display name) of the other people who may work this task (for delegation).

    A plain read: it must not wait for a step that holds the case row."""
    task = session.scalar(sa.select(HumanTask).where(HumanTask.task_uuid == task_uuid))
    if task is None:
        return []
    rows = session.execute(
        sa.select(User.username, User.display_name)
        .join(Grant, Grant.user_id == User.id)
        .where(User.active, permissions.holders_of(task.lane, task.site), User.username != actor.username)
        .distinct()
        .order_by(User.display_name)
    ).all()
    return [(username, name) for username, name in rows]
