"""Append-only, hash-chained audit trail.

Each event stores the hash of the previous event of its chain (one chain per case, plus a global one
for events without a case) and its own hash over its content. The table refuses UPDATE and DELETE
(database triggers); ``verify_chains`` detects rows that were changed or removed anyway.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import clock
from .models import AuditEvent

GENESIS = "0" * 64


class Action:
    """Audit action names (stable identifiers; the UI translates them)."""

    DEPLOY = "deploy"
    START = "start"
    CLAIM = "claim"
    DELEGATE = "delegate"
    PRIORITY = "priority"
    DUE = "due"
    DRAFT_SAVED = "draft_saved"
    UNCLAIM = "unclaim"
    COMPLETE = "complete"
    TIMER_FIRED = "timer_fired"
    MESSAGE = "message"
    CONFLICT = "conflict"
    ACCESS_DENIED = "access_denied"
    SCRIPT_ERROR = "script_error"
    RULE_VIOLATION = "rule_violation"
    CASE_VIEWED = "case_viewed"
    EXPORT = "export"
    TASK_VIEWED = "task_viewed"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGIN_THROTTLED = "login_throttled"
    LOGOUT = "logout"


def _chain_of(instance_id: int | None) -> str:
    return f"case:{instance_id}" if instance_id is not None else "global"


def _normalise(details: Mapping[str, Any] | None) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(dict(details or {}), default=str, sort_keys=True))
    return result


def _digest(event: AuditEvent) -> str:
    content = {
        "occurred_at": event.occurred_at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "instance_id": event.instance_id,
        "task_uuid": event.task_uuid,
        "process_id": event.process_id,
        "details": event.details,
        "chain": event.chain,
        "prev_hash": event.prev_hash,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def record(
    session: Session,
    action: str,
    actor: str,
    *,
    instance_id: int | None = None,
    task_uuid: str | None = None,
    process_id: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the audit trail within the caller's transaction."""
    chain = _chain_of(instance_id)
    if session.get_bind().dialect.name == "postgresql":
        # Serialise appends per chain so two transactions cannot both extend the same predecessor.
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(chain))))
    prev = session.scalar(
        sa.select(AuditEvent.hash).where(AuditEvent.chain == chain).order_by(AuditEvent.id.desc()).limit(1)
    )
    event = AuditEvent(
        occurred_at=clock.now(),
        actor=actor,
        action=action,
        instance_id=instance_id,
        task_uuid=task_uuid,
        process_id=process_id,
        details=_normalise(details),
        chain=chain,
        prev_hash=prev or GENESIS,
    )
    event.hash = _digest(event)
    session.add(event)
    session.flush()
    return event


def events_for_instance(session: Session, instance_id: int) -> list[AuditEvent]:
    """Return a case's events, oldest first."""
    return list(
        session.scalars(sa.select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id))
    )


@dataclass(frozen=True)
class ChainProblem:
    """One inconsistency found by ``verify_chains``."""

    chain: str
    event_id: int
    problem: str


def verify_chains(session: Session) -> list[ChainProblem]:
    """Recompute every chain; report altered events and gaps (deleted or reordered events)."""
    problems: list[ChainProblem] = []
    last: dict[str, str] = {}
    for event in session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).yield_per(1000):
        expected_prev = last.get(event.chain, GENESIS)
        if event.prev_hash != expected_prev:
            problems.append(ChainProblem(event.chain, event.id, "Vorgänger fehlt oder wurde verändert"))
        if _digest(event) != event.hash:
            problems.append(ChainProblem(event.chain, event.id, "Inhalt wurde verändert"))
        last[event.chain] = event.hash
    return problems
