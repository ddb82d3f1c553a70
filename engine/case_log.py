"""The event log of a filtered set of cases, read from the audit trail in batches (for XES, CSV, the heat map).

A trace is one case; its events are the lifecycle transitions of its human tasks: ``schedule`` (the task
began: the step before its first own event, or its inbox row while it is open), ``assign`` (first holder),
``reassign`` (delegated, reassigned by a lead, or taken again after it went back to the group) and
``complete``. Names of people and applicants and form values are never part of it: the resource is the
login, the group is the task's lane. Cases are read ``BATCH`` at a time, so memory stays bounded however
many cases match.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import permissions
from .audit import Action
from .auth import Actor
from .clock import BERLIN
from .errors import FormValidationError, PermissionDeniedError
from .models import AuditEvent, HumanTask, ProcessInstance, ProcessVersion
from .versions import SpecCache
from .vocabulary import CASE_STATUSES

BATCH = 200
# Events after which new tasks can be ready (the step that makes a task begin).
STEPS = frozenset({Action.START, Action.COMPLETE, Action.MESSAGE, Action.TIMER_FIRED, Action.INCIDENT_RETRIED})
TASK_EVENTS = frozenset(
    {Action.CLAIM, Action.UNCLAIM, Action.DELEGATE, Action.REASSIGN, Action.RELEASE, Action.COMPLETE}
)
STATUSES = tuple(CASE_STATUSES)
FILTERS = {
    "prozess": "Prozess-ID, z. B. pb_antragsannahme",
    "version": "Versionsnummer des Prozesses",
    "standort": "Standort, z. B. 56.4",
    "status": "Status: running, completed, error oder cancelled",
    "von": "begonnen am oder nach (JJJJ-MM-TT)",
    "bis": "begonnen am oder vor (JJJJ-MM-TT)",
}


@dataclass(frozen=True)
class CaseFilter:
    """Which cases: every given condition must hold; ``sites`` are those the reader may export."""

    sites: tuple[str, ...] | None
    process_id: str | None = None
    version: int | None = None
    site: str | None = None
    status: str | None = None
    started_from: datetime | None = None
    started_before: datetime | None = None


@dataclass(frozen=True)
class LogEvent:
    """One lifecycle transition of a task: BPMN id, name, transition, instant, login (or None), lane."""

    element_id: str
    name: str
    transition: str
    at: datetime
    resource: str | None
    group: str


@dataclass
class Trace:
    """One case with its events in the order they happened."""

    instance_id: int
    business_key: str
    process_id: str
    version: int
    site: str
    status: str
    started_at: datetime
    events: list[LogEvent] = field(default_factory=list)


def case_filter(actor: Actor, parameters: Mapping[str, str]) -> CaseFilter:
    """The checked filter of an export or view.

    :raises PermissionDeniedError: not the audit function. :raises FormValidationError: a value is not valid.
    """
    if not permissions.may_export_cases(actor):
        raise PermissionDeniedError("Vorgänge exportieren und auswerten darf nur die Revision.")
    errors: dict[str, list[str]] = {}
    version = parameters.get("version", "").strip()
    status = parameters.get("status", "").strip()
    if version and not version.isdigit():
        errors["version"] = ["Bitte eine Versionsnummer (ganze Zahl) angeben."]
    if status and status not in STATUSES:
        errors["status"] = [f"Bitte einen dieser Status angeben: {', '.join(STATUSES)}."]
    bounds: dict[str, datetime | None] = {}
    for key, extra in (("von", 0), ("bis", 1)):
        text = parameters.get(key, "").strip()
        try:
            day = date.fromisoformat(text) if text else None
        except ValueError:
            errors[key] = ["Bitte ein Datum als JJJJ-MM-TT angeben."]
            day = None
        bounds[key] = datetime.combine(day + timedelta(days=extra), time(), BERLIN) if day else None
    if errors:
        raise FormValidationError(errors)
    return CaseFilter(
        sites=permissions.case_export_sites(actor),
        process_id=parameters.get("prozess", "").strip() or None,
        version=int(version) if version else None,
        site=parameters.get("standort", "").strip() or None,
        status=status or None,
        started_from=bounds["von"],
        started_before=bounds["bis"],
    )


def _where(chosen: CaseFilter) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if chosen.sites is not None:
        conditions.append(ProcessInstance.site.in_(chosen.sites))
    if chosen.process_id:
        conditions.append(ProcessInstance.process_id == chosen.process_id)
    if chosen.version is not None:
        conditions.append(ProcessVersion.version == chosen.version)
    if chosen.site:
        conditions.append(ProcessInstance.site == chosen.site)
    if chosen.status:
        conditions.append(ProcessInstance.status == chosen.status)
    if chosen.started_from:
        conditions.append(ProcessInstance.created_at >= chosen.started_from)
    if chosen.started_before:
        conditions.append(ProcessInstance.created_at < chosen.started_before)
    return conditions


def count(session: Session, chosen: CaseFilter) -> int:
    """How many cases the filter holds (shown before an export, recorded with it)."""
    query = sa.select(sa.func.count()).select_from(ProcessInstance).join(ProcessVersion)
    return int(session.scalar(query.where(*_where(chosen))) or 0)


def traces(session: Session, specs: SpecCache, chosen: CaseFilter, batch: int = BATCH) -> Iterator[Trace]:
    """Every case of the filter with its task events, in case order, read ``batch`` cases at a time."""
    after = 0
    lanes_of: dict[int, dict[str, tuple[str, str]]] = {}
    while True:
        rows = session.execute(
            sa.select(ProcessInstance.id, ProcessInstance.business_key, ProcessInstance.process_id,
                      ProcessInstance.version_id, ProcessVersion.version, ProcessInstance.site,
                      ProcessInstance.status, ProcessInstance.created_at)
            .join(ProcessVersion)
            .where(ProcessInstance.id > after, *_where(chosen))
            .order_by(ProcessInstance.id)
            .limit(batch)
        ).all()  # fmt: skip
        if not rows:
            return
        ids = [row.id for row in rows]
        events = _events_of(session, ids)
        open_tasks = _open_tasks_of(session, ids)
        for row in rows:
            if row.version_id not in lanes_of:
                lanes_of[row.version_id] = _lanes(session, specs, row.version_id)
            lanes = lanes_of[row.version_id]
            trace = Trace(row.id, row.business_key or f"#{row.id}", row.process_id, row.version, row.site,
                          row.status, row.created_at)  # fmt: skip
            trace.events = task_events(events.get(row.id, []), open_tasks.get(row.id, []), lanes)
            yield trace
        after = ids[-1]
        session.expunge_all()


class TrailRow(Protocol):
    """The columns of an audit event the event log reads (rows, not ORM objects: a batch reads thousands)."""

    instance_id: int | None
    occurred_at: datetime
    actor: str
    action: str
    task_uuid: str | None
    details: dict[str, Any]


def _events_of(session: Session, ids: Sequence[int]) -> dict[int, list[TrailRow]]:
    found: dict[int, list[TrailRow]] = {}
    query = (
        sa.select(AuditEvent.instance_id, AuditEvent.occurred_at, AuditEvent.actor, AuditEvent.action,
                  AuditEvent.task_uuid, AuditEvent.details)
        .where(AuditEvent.instance_id.in_(ids), AuditEvent.action.in_([*STEPS, *TASK_EVENTS]))
        .order_by(AuditEvent.instance_id, AuditEvent.id)
    )  # fmt: skip
    for event in session.execute(query):
        found.setdefault(event.instance_id or 0, []).append(event)
    return found


def _open_tasks_of(session: Session, ids: Sequence[int]) -> dict[int, list[HumanTask]]:
    found: dict[int, list[HumanTask]] = {}
    for task in session.scalars(sa.select(HumanTask).where(HumanTask.instance_id.in_(ids)).order_by(HumanTask.id)):
        found.setdefault(task.instance_id, []).append(task)
    return found


def _lanes(session: Session, specs: SpecCache, version_id: int) -> dict[str, tuple[str, str]]:
    """BPMN id → (name, lane) of the human tasks of a deployed version (cached with the version)."""
    model = specs.get(session, version_id).model
    return {task_id: (info.name or task_id, info.lane or "") for task_id, info in model.tasks.items()}


def task_events(events: Sequence[TrailRow], open_tasks: Sequence[HumanTask],
                lanes: Mapping[str, tuple[str, str]]) -> list[LogEvent]:  # fmt: skip
    """The lifecycle of each human task of one case, from its trail and its open inbox rows."""
    spec_of = {e.task_uuid: str(e.details.get("task_id")) for e in events if e.action == Action.COMPLETE}
    spec_of.update({task.task_uuid: task.task_spec_id for task in open_tasks})
    result: list[LogEvent] = []
    holder: dict[str, str | None] = {}
    held: set[str] = set()
    last_step: datetime | None = None

    def add(uuid: str, transition: str, at: datetime, resource: str | None) -> None:
        element = spec_of.get(uuid, "")
        name, lane = lanes.get(element, (element, ""))
        result.append(LogEvent(element, name, transition, at, resource, lane))

    for event in events:
        uuid = event.task_uuid
        if event.action in TASK_EVENTS and uuid and uuid in spec_of:
            if uuid not in holder:
                holder[uuid] = None
                add(uuid, "schedule", last_step or event.occurred_at, None)
            to = _new_holder(event)
            if to is not None and to != holder[uuid]:
                add(uuid, "reassign" if uuid in held else "assign", event.occurred_at, to)
                held.add(uuid)
            holder[uuid] = None if event.action in (Action.UNCLAIM, Action.RELEASE) else to or holder[uuid]
            if event.action == Action.COMPLETE:
                add(uuid, "complete", event.occurred_at, event.actor)
        if event.action in STEPS:
            last_step = event.occurred_at
    for task in open_tasks:
        if task.task_uuid not in holder:
            add(task.task_uuid, "schedule", task.created_at, None)
    return result


def _new_holder(event: TrailRow) -> str | None:
    if event.action in (Action.CLAIM, Action.COMPLETE):
        return event.actor
    if event.action in (Action.DELEGATE, Action.REASSIGN):
        return str(event.details.get("to") or "") or None
    return None
