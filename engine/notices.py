"""Notices to the person a lead took a task from: which task, when, by whom and why.

A lead reassigns or frees a task someone holds (sick, on leave); that person finds the notice in their
inbox until they acknowledge it. The audit trail keeps the same facts for the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import clock
from .auth import Actor
from .errors import NotFoundError
from .models import HumanTask, TaskNotice

SHOWN_DAYS = 30  # unacknowledged notices older than this are no longer shown


@dataclass(frozen=True)
class Notice:
    """One notice as its addressee sees it."""

    notice_id: int
    instance_id: int
    task_name: str
    business_key: str | None
    by_name: str
    reason: str
    created_at: datetime


def tell_taken(session: Session, lead: Actor, task: HumanTask, holder_id: int | None, reason: str) -> None:
    """Leave a notice for ``holder_id`` (the task's previous holder) unless there was none or they acted
    themselves."""
    if holder_id is None or holder_id == lead.user_id:
        return
    session.add(
        TaskNotice(
            user_id=holder_id,
            instance_id=task.instance_id,
            task_uuid=task.task_uuid,
            task_name=task.name,
            business_key=task.business_key,
            by_name=lead.display_name,
            reason=reason[:500],
            created_at=clock.now(),
        )
    )


def open_notices(session: Session, actor: Actor) -> list[Notice]:
    """The actor's unacknowledged notices of the last ``SHOWN_DAYS`` days, newest first."""
    if actor.user_id is None:
        return []
    rows = session.scalars(
        sa.select(TaskNotice)
        .where(
            TaskNotice.user_id == actor.user_id,
            TaskNotice.read_at.is_(None),
            TaskNotice.created_at > clock.now() - timedelta(days=SHOWN_DAYS),
        )
        .order_by(TaskNotice.created_at.desc(), TaskNotice.id.desc())
    )
    return [Notice(n.id, n.instance_id, n.task_name, n.business_key, n.by_name, n.reason, n.created_at) for n in rows]


def acknowledge(session: Session, actor: Actor, notice_id: int) -> None:
    """Mark one of the actor's notices as read. :raises NotFoundError: not the actor's notice."""
    notice = session.get(TaskNotice, notice_id)
    if notice is None or notice.user_id != actor.user_id:
        raise NotFoundError("Diesen Hinweis gibt es nicht.")
    notice.read_at = clock.now()
