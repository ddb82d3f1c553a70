"""The story of one case for the auditor: every event in order (views and refusals included) with the person
as they were at the time, the diagram with the path, the time each step took, and whether the case's chain
verifies.

Time per step: from the moment the step was opened – the event that moved the case before the step's first
event (start, completion of the previous step, a timer, a message) – to its completion; open steps count
from their creation until now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import audit, clock, permissions
from .audit import Action
from .audit_people import PeopleAtTime, Person
from .audit_verify import ChainProblem
from .auth import Actor
from .case_path import CasePath, case_path
from .errors import NotFoundError
from .forms import FieldSpec
from .models import HumanTask, ProcessInstance
from .read_models import CaseHeader, header_of, history_details, labels_of
from .runtime import CaseRuntime
from .vocabulary import DELETED

ADVANCING = {Action.START.value, Action.COMPLETE.value, Action.TIMER_FIRED.value, Action.MESSAGE.value}


@dataclass(frozen=True)
class StoryEntry:
    """One event of the case as the auditor reads it."""

    event_id: int
    occurred_at: datetime
    person: Person
    action: str
    label: str
    task_uuid: str | None
    task_name: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class StepTime:
    """How long one step of the case took (``ended`` None: still open)."""

    name: str
    opened: datetime
    ended: datetime | None
    duration: timedelta


@dataclass(frozen=True)
class CaseStory:
    header: CaseHeader
    entries: list[StoryEntry]
    steps: list[StepTime]
    path: CasePath | None
    labels: dict[str, FieldSpec]
    problems: list[ChainProblem]

    @property
    def verified(self) -> bool:
        return not self.problems


def story(session: Session, runtime: CaseRuntime, actor: Actor, instance_id: int) -> CaseStory:
    """The whole story of a case. :raises NotFoundError:"""
    row = session.get(ProcessInstance, instance_id)
    if row is None:
        raise NotFoundError("Den Vorgang gibt es nicht.")
    if row.status == DELETED:  # personal data removed after retention: no state to draw a path from
        version, workflow = runtime.specs.get(session, row.version_id), None
    else:
        version, workflow = runtime.load(session, row)
    labels = labels_of(version.forms)
    hidden = permissions.hidden_fields({name: spec.schema for name, spec in labels.items()}, actor, row.site)
    events = audit.events_for_instance(session, row.id)
    people = PeopleAtTime(session, (event.actor for event in events))
    entries = [
        StoryEntry(event.id, event.occurred_at, people.at(event.actor, event.occurred_at), event.action,
                   audit.label(event.action), event.task_uuid, event.details.get("task"),
                   history_details(event.details, hidden))
        for event in events
    ]  # fmt: skip
    open_rows = session.execute(
        sa.select(HumanTask.name, HumanTask.created_at).where(HumanTask.instance_id == row.id)
    ).all()
    return CaseStory(
        header=header_of(row, version),
        entries=entries,
        steps=step_times(entries, [(name, created) for name, created in open_rows], clock.now()),
        path=case_path(workflow, version.model) if workflow is not None else None,
        labels=labels,
        problems=audit.verify_case(session, row.id),
    )


def step_times(entries: list[StoryEntry], open_steps: list[tuple[str, datetime]], now: datetime) -> list[StepTime]:
    """Completed steps (from their opening to their completion) and open ones (from creation until ``now``)."""
    steps: list[StepTime] = []
    opened: dict[str, datetime] = {}
    last_advance: datetime | None = None
    for entry in entries:
        key = entry.task_uuid or f"name:{entry.task_name}"
        if entry.task_name and key not in opened:
            opened[key] = last_advance or entry.occurred_at
        if entry.action == Action.COMPLETE.value and entry.task_name:
            start = opened.pop(key, last_advance or entry.occurred_at)
            steps.append(StepTime(entry.task_name, start, entry.occurred_at, entry.occurred_at - start))
        if entry.action in ADVANCING:
            last_advance = entry.occurred_at
    for name, created in open_steps:
        steps.append(StepTime(name, created, None, max(now - created, timedelta(0))))
    return steps
