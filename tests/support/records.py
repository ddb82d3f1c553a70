"""Direct reads of the database for assertions: what an auditor would check in the trail and the tables."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from engine.api import Engine
from engine.models import AuditEvent, HumanTask, ProcessInstance


def audit_events(engine: Engine, action: str | None = None, actor: str | None = None) -> list[AuditEvent]:
    """Events of the trail, oldest first, optionally of one action and/or actor."""
    with engine.db.reading() as session:
        query = sa.select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        if actor:
            query = query.where(AuditEvent.actor == actor)
        return list(session.scalars(query))


def case_events(engine: Engine, instance_id: int, action: str) -> list[dict[str, Any]]:
    """The details of a case's events of one action, oldest first."""
    with engine.db.reading() as session:
        query = (
            sa.select(AuditEvent.details)
            .where(AuditEvent.instance_id == instance_id, AuditEvent.action == action)
            .order_by(AuditEvent.id)
        )
        return list(session.scalars(query))


def timer_events(engine: Engine, instance_id: int) -> list[dict[str, Any]]:
    """What the timers of a case recorded when they fired."""
    return case_events(engine, instance_id, "timer_fired")


def aktionen(engine: Engine, instance_id: int) -> list[str]:
    """The audit actions of a case in order."""
    with engine.db.reading() as session:
        query = sa.select(AuditEvent.action).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id)
        return list(session.scalars(query))


def nachrichten(engine: Engine, instance_id: int) -> list[Any]:
    """The payloads of the messages a case received, from its audit trail."""
    return [details.get("payload") for details in case_events(engine, instance_id, "message")]


def case_row(engine: Engine, instance_id: int) -> ProcessInstance:
    with engine.db.reading() as session:
        row = session.get(ProcessInstance, instance_id)
        assert row is not None
        return row


def open_task(engine: Engine, task_uuid: str) -> HumanTask | None:
    """The inbox row of a task (None once it is no longer open)."""
    with engine.db.reading() as session:
        return session.scalar(sa.select(HumanTask).where(HumanTask.task_uuid == task_uuid))


def faelle(engine: Engine, process_id: str) -> list[ProcessInstance]:
    """All cases of a process, oldest first."""
    with engine.db.reading() as session:
        query = sa.select(ProcessInstance).where(ProcessInstance.process_id == process_id)
        return list(session.scalars(query.order_by(ProcessInstance.id)))


def alle_faelle(engine: Engine) -> int:
    """How many cases there are."""
    with engine.db.reading() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(ProcessInstance)) or 0
