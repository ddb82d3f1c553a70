"""Stored notifications for one person: a task taken from them or given to them, their task due tomorrow or
overdue, an incident, a staffing escalation.

The first kind came first: a lead reassigns or frees a task someone holds (sick, on leave); that person finds
the notice in their inbox until they acknowledge it. Every later kind is a row of the same table, read and
acknowledged the same way; the bell (``engine.notifications``) lists them together with the tasks that
arrived for the person's groups, which are not stored per member. Events one person causes for one named
other (taken, given) are written in the same transaction as the hand-over; what time or the machine causes
(due dates, incidents, escalations) is written by the timer worker (``engine.notice_jobs``), idempotently by
``dedupe_key``. The audit trail keeps the same facts for the case.
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

SHOWN_DAYS = 30  # notices older than this are no longer shown

TAKEN = "entzogen"
GIVEN = "zugewiesen"
ARRIVED = "gruppe"  # derived from the inbox table (``engine.notifications``), stored only once read singly
FOUR_EYES = "vier_augen"  # likewise: a task with egsFourEyes that the person may do
DUE_TOMORROW = "faellig_morgen"
OVERDUE = "ueberfaellig"
INCIDENT = "stoerung"
ESCALATION = "eskalation"
KINDS = {
    ARRIVED: "Neue Aufgabe für Ihre Gruppe",
    FOUR_EYES: "Vier-Augen-Freigabe wartet auf Sie",
    GIVEN: "Aufgabe an Sie weitergegeben",
    TAKEN: "Aufgabe Ihnen entzogen",
    DUE_TOMORROW: "Ihre Aufgabe ist morgen fällig",
    OVERDUE: "Ihre Aufgabe ist überfällig",
    INCIDENT: "Störung in einem Vorgang",
    ESCALATION: "Gefährdung der EGS-Besetzung",
}
DERIVED = (ARRIVED, FOUR_EYES)


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


def tell(
    session: Session,
    user_id: int,
    kind: str,
    instance_id: int,
    *,
    task: HumanTask | None = None,
    business_key: str | None = None,
    by_name: str | None = None,
    reason: str | None = None,
    dedupe_key: str | None = None,
) -> bool:
    """Store a notification for ``user_id``; with ``dedupe_key``, only if that user has none with it yet.
    Return whether one was stored."""
    if dedupe_key is not None and session.scalar(
        sa.select(TaskNotice.id).where(TaskNotice.user_id == user_id, TaskNotice.dedupe_key == dedupe_key)
    ):
        return False
    session.add(
        TaskNotice(
            user_id=user_id,
            kind=kind,
            instance_id=instance_id,
            task_uuid=task.task_uuid if task else None,
            task_name=task.name if task else None,
            business_key=task.business_key if task else business_key,
            by_name=by_name,
            reason=reason[:500] if reason else None,
            dedupe_key=dedupe_key,
            created_at=clock.now(),
        )
    )
    return True


def tell_taken(session: Session, lead: Actor, task: HumanTask, holder_id: int | None, reason: str) -> None:
    """Leave a notice for ``holder_id`` (the task's previous holder) unless there was none or they acted
    themselves."""
    if holder_id is None or holder_id == lead.user_id:
        return
    tell(session, holder_id, TAKEN, task.instance_id, task=task, by_name=lead.display_name, reason=reason)


def tell_given(session: Session, actor: Actor, task: HumanTask, target_id: int | None, reason: str) -> None:
    """Tell ``target_id`` that ``actor`` delegated or reassigned ``task`` to them (not when they took it
    themselves)."""
    if target_id is None or target_id == actor.user_id:
        return
    tell(session, target_id, GIVEN, task.instance_id, task=task, by_name=actor.display_name, reason=reason)


def open_notices(session: Session, actor: Actor) -> list[Notice]:
    """The actor's unacknowledged "taken from you" notices of the last ``SHOWN_DAYS`` days, newest first (the
    inbox shows them above the list; the bell lists every kind)."""
    if actor.user_id is None:
        return []
    rows = session.scalars(
        sa.select(TaskNotice)
        .where(
            TaskNotice.user_id == actor.user_id,
            TaskNotice.kind == TAKEN,
            TaskNotice.read_at.is_(None),
            TaskNotice.created_at > clock.now() - timedelta(days=SHOWN_DAYS),
        )
        .order_by(TaskNotice.created_at.desc(), TaskNotice.id.desc())
    )
    return [
        Notice(n.id, n.instance_id, n.task_name or "", n.business_key, n.by_name or "", n.reason or "", n.created_at)
        for n in rows
    ]


def acknowledge(session: Session, actor: Actor, notice_id: int) -> None:
    """Mark one of the actor's notices as read. :raises NotFoundError: not the actor's notice."""
    notice = session.get(TaskNotice, notice_id)
    if notice is None or notice.user_id != actor.user_id:
        raise NotFoundError("Diesen Hinweis gibt es nicht.")
    if notice.read_at is None:
        notice.read_at = clock.now()
