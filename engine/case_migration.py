"""Moving running cases from one version of a process to another: a dry run first, then one case at a time.

The dry run sends every running case of the source version to a jail, which pairs its tasks with the target
version (``engine.migration_step``: by id or by a mapping the process owner confirmed, never by SpiffWorkflow's
positional guess alone) and tries the move without keeping it. Each case is listed as "kann umziehen",
"braucht eine Zuordnung" (an open task whose id is gone: the owner picks the task it becomes) or "kann nicht
umziehen" with the reason. A move is one transaction per case: the case row is locked and checked against the
``lock_version`` the owner saw, the jail moves it, the runtime stores it under the new version (inbox rows
refreshed, waiting timers keep their due dates) and the trail records it. A case that cannot move is left
untouched (``RuleViolationError``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import audit, model_catalogue, permissions
from .audit import Action
from .auth import Actor
from .casework import Casework
from .errors import STALE_CASE, ConflictError, NotFoundError, PermissionDeniedError, RuleViolationError
from .migration_step import CAN_MOVE, CANNOT_MOVE, NEEDS_MAPPING
from .model_catalogue import ProcessEntry
from .models import HumanTask, ProcessInstance, ProcessVersion
from .runtime import INBOX, task_label
from .stepping import ReadyTask
from .versions import LoadedVersion
from .vocabulary import ERROR, RUNNING

STATUS_LABELS = {CAN_MOVE: "kann umziehen", NEEDS_MAPPING: "braucht eine Zuordnung", CANNOT_MOVE: "kann nicht umziehen"}
HAS_INCIDENT = "Der Vorgang hat eine Störung: erst erneut versuchen oder abbrechen (Seite „Störungen“)."
MAX_CASES = 500  # cases listed in one dry run (oldest first)


@dataclass(frozen=True)
class MappingNeed:
    """An open task whose id is gone in the target version: the owner confirms which task it becomes."""

    task: str
    name: str
    suggestion: str | None  # SpiffWorkflow's positional guess, only ever offered


@dataclass(frozen=True)
class CaseCheck:
    """What the dry run found for one case."""

    instance_id: int
    business_key: str
    lock_version: int
    status: str
    reasons: tuple[str, ...]
    needs: tuple[MappingNeed, ...]
    open_tasks: tuple[str, ...]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class MigrationPlan:
    """The dry run of moving the running cases of ``source`` to ``target``."""

    process_id: str
    name: str
    source: int
    target: int
    cases: tuple[CaseCheck, ...]
    choices: tuple[tuple[str, str], ...]  # user tasks of the target version: (id, name)


@dataclass(frozen=True)
class MigrationOutcome:
    """One case after a move was asked for: moved, or left untouched with the reason."""

    instance_id: int
    business_key: str
    moved: bool
    message: str


def require_owner(actor: Actor) -> None:
    """:raises PermissionDeniedError: the actor may not move cases."""
    if not permissions.may_migrate_cases(actor):
        raise PermissionDeniedError("Vorgänge zieht nur die Prozessverantwortung auf eine andere Version um.")


def process_entry(session: Session, actor: Actor, process_id: str) -> ProcessEntry:
    """The process with its versions and their open cases (to choose source and target).

    :raises PermissionDeniedError: :raises NotFoundError:"""
    require_owner(actor)
    for entry in model_catalogue.catalogue(session, actor):
        if entry.process_id == process_id:
            return entry
    raise NotFoundError(f"Prozess „{process_id}“ ist nicht bereitgestellt.")


def version_by_number(session: Session, casework: Casework, process_id: str, number: int) -> LoadedVersion:
    """:raises NotFoundError:"""
    version_id = session.scalar(
        sa.select(ProcessVersion.id).where(ProcessVersion.process_id == process_id, ProcessVersion.version == number)
    )
    if version_id is None:
        raise NotFoundError(f"Version {number} des Prozesses „{process_id}“ gibt es nicht.")
    return casework.specs.get(session, version_id)


def choices(version: LoadedVersion) -> tuple[tuple[str, str], ...]:
    """The user tasks of a version an open task may become, by name."""
    tasks = [(info.bpmn_id, info.name or info.bpmn_id) for info in version.model.tasks.values() if info.is_user_task]
    return tuple(sorted(tasks, key=lambda item: (item[1].casefold(), item[0])))


def dry_run(
    session: Session,
    casework: Casework,
    actor: Actor,
    process_id: str,
    source: int,
    target: int,
    mappings: Mapping[int, Mapping[str, str]] | None = None,
) -> MigrationPlan:
    """Check every running case of version ``source`` against version ``target`` (nothing is stored but the
    audit event naming the cases checked). :raises PermissionDeniedError: :raises NotFoundError:
    :raises RuleViolationError: source and target are the same. :raises ScriptError: a jail failed."""
    require_owner(actor)
    old, new = _versions(session, casework, process_id, source, target)
    rows = session.scalars(
        sa.select(ProcessInstance)
        .where(ProcessInstance.version_id == old.id, ProcessInstance.status.in_((RUNNING, ERROR)))
        .order_by(ProcessInstance.id)
        .limit(MAX_CASES)
    ).all()
    checks = []
    for row in rows:
        if row.status == ERROR:
            checks.append(_check_of(row, {"status": CANNOT_MOVE, "reasons": [HAS_INCIDENT]}))
            continue
        with casework.steps.session(old) as step:
            found, _ = step.migrate(row.state, row.serializer_version, new, (mappings or {}).get(row.id, {}), dry=True)
        checks.append(_check_of(row, found))
    counts = {status: sum(1 for check in checks if check.status == status) for status in STATUS_LABELS}
    details = {"from_version": source, "to_version": target, "cases": [check.instance_id for check in checks], **counts}
    audit.record(session, Action.CASES_MIGRATION_CHECKED, actor.username, process_id=process_id, details=details)
    return MigrationPlan(process_id, new.name, source, target, tuple(checks), choices(new))


def migrate_case(
    session: Session,
    casework: Casework,
    actor: Actor,
    instance_id: int,
    target: int,
    expected_lock_version: int,
    mapping: Mapping[str, str],
) -> MigrationOutcome:
    """Move one case to version ``target`` of its process with the confirmed ``mapping`` (old task id → new id).

    :raises PermissionDeniedError: :raises NotFoundError: :raises ConflictError: the case changed since the
        dry run. :raises RuleViolationError: it cannot move (the reasons; nothing changed). :raises ScriptError:
    """
    require_owner(actor)
    row = session.scalar(sa.select(ProcessInstance).where(ProcessInstance.id == instance_id).with_for_update())
    if row is None:
        raise NotFoundError("Vorgang nicht gefunden.")
    if row.lock_version != expected_lock_version:
        raise ConflictError(STALE_CASE, instance_id=row.id, expected=expected_lock_version, actual=row.lock_version)
    if row.status != RUNNING:
        raise RuleViolationError(HAS_INCIDENT if row.status == ERROR else "Der Vorgang ist bereits abgeschlossen.")
    old = casework.specs.get(session, row.version_id)
    new = version_by_number(session, casework, row.process_id, target)
    if new.id == old.id:
        raise RuleViolationError(f"Der Vorgang läuft bereits auf Version {target}.")
    inbox = list(session.scalars(sa.select(HumanTask).where(HumanTask.instance_id == row.id)))
    lanes = {task.task_uuid: task.lane for task in inbox}
    with casework.step_on(session, row, old, actor.username) as step:
        found, result = step.migrate(row.state, row.serializer_version, new, dict(mapping), dry=False)
    if result is None:
        reasons = list(found.get("reasons") or [])
        missing = [need["name"] for need in found.get("needs") or [] if need["task"] not in mapping]
        if missing:
            reasons.append(f"Es fehlt die Zuordnung für: {', '.join(missing)}.")
        raise RuleViolationError(" ".join(reasons) or "Der Vorgang kann nicht umziehen.")
    details = {"from_version": old.version, "to_version": new.version, "mapping": dict(mapping),
               "open_tasks": list(found.get("open_tasks") or [])}  # fmt: skip
    audit.record(session, Action.CASE_MIGRATED, actor.username, instance_id=row.id, process_id=row.process_id,
                 details=details)  # fmt: skip
    casework.settle(session, row, new, result, expected_lock_version, actor.username, inbox=inbox)
    _refresh_inbox(session, row, new, result.ready if row.status == RUNNING else [], lanes)
    message = f"umgezogen auf Version {new.version}"
    return MigrationOutcome(row.id, row.business_key or str(row.id), True, message)


def not_moved(session: Session, instance_id: int, reason: str) -> MigrationOutcome:
    """The report line of a case left untouched."""
    key = session.scalar(sa.select(ProcessInstance.business_key).where(ProcessInstance.id == instance_id))
    return MigrationOutcome(instance_id, key or str(instance_id), False, reason)


def _refresh_inbox(
    session: Session, row: ProcessInstance, version: LoadedVersion, ready: list[ReadyTask], lanes: dict[str, str]
) -> None:
    """Rows of tasks that stayed open take the new version's task, name, lane, role and form; a claim stays
    only where the lane stayed (the runtime's ``sync_inbox`` already wrote the rows of tasks that began)."""
    for task in ready:
        info = version.model.tasks.get(task.spec_id)
        lane = (info.lane if info else task.lane) or ""
        values = {
            "process_name": version.name,
            "task_spec_id": task.spec_id,
            "name": (info.name if info else task.name) or task.spec_id,
            "label": task_label(version, task),
            "lane": lane,
            "egs_role": info.egs_role if info else None,
            "form_key": info.form_key if info else None,
        }
        if task.task_uuid in lanes and lanes[task.task_uuid] != lane:
            values["assignee_id"] = None
        session.execute(sa.update(INBOX).where(INBOX.c.task_uuid == task.task_uuid).values(**values))


def _versions(
    session: Session, casework: Casework, process_id: str, source: int, target: int
) -> tuple[LoadedVersion, LoadedVersion]:
    if source == target:
        raise RuleViolationError("Quell- und Zielversion sind gleich.")
    return (
        version_by_number(session, casework, process_id, source),
        version_by_number(session, casework, process_id, target),
    )


def _check_of(row: ProcessInstance, found: Mapping[str, object]) -> CaseCheck:
    needs = [
        MappingNeed(str(need["task"]), str(need["name"]), str(need["suggestion"]) if need.get("suggestion") else None)
        for need in found.get("needs") or []  # type: ignore[attr-defined]
    ]
    return CaseCheck(
        row.id,
        row.business_key or str(row.id),
        row.lock_version,
        str(found["status"]),
        tuple(str(reason) for reason in found.get("reasons") or []),  # type: ignore[attr-defined]
        tuple(needs),
        tuple(str(name) for name in found.get("open_tasks") or []),  # type: ignore[attr-defined]
    )
