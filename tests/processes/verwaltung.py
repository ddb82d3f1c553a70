"""Helpers for the path tests of the general administration processes (Konzept Ziffer 4.2)."""

from __future__ import annotations

import sqlalchemy as sa

from engine.models import AuditEvent, ProcessInstance
from engine.service import Engine
from tests.conftest import engine_with_config
from tests.drive import CaseDriver


def faelle(engine: Engine, process_id: str) -> list[ProcessInstance]:
    """All cases of a process, oldest first."""
    with engine.db.reading() as session:
        query = sa.select(ProcessInstance).where(ProcessInstance.process_id == process_id)
        return list(session.scalars(query.order_by(ProcessInstance.id)))


def alle_faelle(engine: Engine) -> int:
    with engine.db.reading() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(ProcessInstance)) or 0


def aktionen(engine: Engine, instance_id: int) -> list[str]:
    """The audit actions of a case in order."""
    with engine.db.reading() as session:
        query = sa.select(AuditEvent.action).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id)
        return list(session.scalars(query))


engine_mit_konfig = engine_with_config  # German name used by the administration tests


vorhandener_fall = CaseDriver.existing  # German name used by the administration tests


def nachrichten(engine: Engine, instance_id: int) -> list[dict]:
    """The payloads of the messages a case received, from its audit trail."""
    with engine.db.reading() as session:
        query = (
            sa.select(AuditEvent.details)
            .where(AuditEvent.instance_id == instance_id, AuditEvent.action == "message")
            .order_by(AuditEvent.id)
        )
        return [details.get("payload") for details in session.scalars(query)]
