"""Read side of the task inbox: queries on the denormalised ``human_task`` table only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from .auth import Actor
from .models import HumanTask, User

INBOX_LIMIT = 200


@dataclass(frozen=True)
class TaskSummary:
    """One inbox row."""

    task_uuid: str
    instance_id: int
    name: str
    process_id: str
    process_name: str
    business_key: str | None
    applicant_name: str | None
    site: str
    lane: str
    egs_role: str | None
    created_at: datetime
    due_at: datetime | None
    priority: int
    assignee: str | None


def _summaries(session: Session, query: sa.Select[HumanTask, str]) -> list[TaskSummary]:
    return [
        TaskSummary(
            task_uuid=task.task_uuid,
            instance_id=task.instance_id,
            name=task.name,
            process_id=task.process_id,
            process_name=task.process_name,
            business_key=task.business_key,
            applicant_name=task.applicant_name,
            site=task.site,
            lane=task.lane,
            egs_role=task.egs_role,
            created_at=task.created_at,
            due_at=task.due_at,
            priority=task.priority,
            assignee=assignee,
        )
        for task, assignee in session.execute(query)
    ]


def _base() -> sa.Select[HumanTask, str]:
    assignee = aliased(User)
    return sa.select(HumanTask, assignee.username).outerjoin(assignee, HumanTask.assignee_id == assignee.id)


def visible_to(actor: Actor) -> sa.ColumnElement[bool]:
    """SQL condition: tasks of the actor's groups at the actor's sites."""
    pairs = actor.work_pairs()
    if not pairs:
        return sa.false()
    return sa.or_(*(sa.and_(HumanTask.lane == lane, HumanTask.site == site) for lane, site in pairs))


def list_tasks(session: Session, actor: Actor, limit: int = INBOX_LIMIT) -> list[TaskSummary]:
    """Return the open tasks the actor may work, overdue and oldest first."""
    query = (
        _base()
        .where(visible_to(actor))
        .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.priority.desc(), HumanTask.created_at)
        .limit(limit)
    )
    return _summaries(session, query)


def tasks_of_case(session: Session, instance_id: int) -> list[TaskSummary]:
    """Return the open tasks of one case."""
    return _summaries(session, _base().where(HumanTask.instance_id == instance_id).order_by(HumanTask.created_at))
