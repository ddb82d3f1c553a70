"""Retention and legal hold: the personal data of a case is deleted a configured time after the case ended.

``[aufbewahrung]`` in config/egs.toml gives the days per process (``standard_tage`` for the others). A case past
that time loses its state, its applicant name, the drafts and notices of its tasks, and the details of its
audit events (form values, changes, reasons): each event keeps the digest of what was removed, so its chain
still verifies, and the case's chain gets a deletion record. A Löschsperre (``LegalHold``) on the case or on
its applicant keeps everything; setting and lifting it is audited and reserved to the audit function.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import audit, case_rows, permissions
from .audit import REMOVED, Action
from .auth import Actor
from .errors import FormValidationError, NotFoundError, PermissionDeniedError
from .konfiguration import Konfiguration
from .models import AuditEvent, HumanTask, LegalHold, ProcessInstance, TaskDraft, TaskNotice
from .vocabulary import CANCELLED, COMPLETED, DELETED

ENDED = (COMPLETED, CANCELLED)


@dataclass(frozen=True)
class Hold:
    """A Löschsperre as the audit pages show it."""

    id: int
    instance_id: int | None
    person: str | None
    reason: str
    set_by: str
    set_at: datetime
    lifted_by: str | None
    lifted_at: datetime | None
    lift_reason: str | None


def retention_days(konfig: Konfiguration, process_id: str) -> int:
    section = konfig.values.get("aufbewahrung", {})
    return int(section.get("prozesse", {}).get(process_id, section.get("standard_tage", 3650)))


def _held(session: Session) -> sa.ColumnElement[bool]:
    """Cases under an active hold: on the case itself or on its applicant."""
    active = LegalHold.lifted_at.is_(None)
    on_case = sa.select(LegalHold.id).where(active, LegalHold.instance_id == ProcessInstance.id)
    on_person = sa.select(LegalHold.id).where(
        active, LegalHold.person.is_not(None), LegalHold.person == sa.func.lower(ProcessInstance.applicant_name)
    )
    return sa.or_(sa.exists(on_case), sa.exists(on_person))


def due_cases(session: Session, konfig: Konfiguration, now: datetime, limit: int = 500) -> list[int]:
    """Ended cases past their retention period and not held, oldest first (the periods are compared in SQL)."""
    section = konfig.values.get("aufbewahrung", {})
    own: dict[str, int] = {str(k): int(v) for k, v in section.get("prozesse", {}).items()}
    standard = now - timedelta(days=int(section.get("standard_tage", 3650)))
    past = [
        sa.and_(ProcessInstance.process_id == process_id, ProcessInstance.completed_at <= now - timedelta(days=days))
        for process_id, days in own.items()
    ]
    past.append(sa.and_(ProcessInstance.process_id.not_in(list(own) or [""]), ProcessInstance.completed_at <= standard))
    query = (
        sa.select(ProcessInstance.id)
        .where(ProcessInstance.status.in_(ENDED), sa.or_(*past), ~_held(session))
        .order_by(ProcessInstance.completed_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def delete_personal_data(session: Session, konfig: Konfiguration, instance_id: int, now: datetime) -> int:
    """Remove one case's personal data (see module doc); returns how many trail events lost their details."""
    case = session.scalar(sa.select(ProcessInstance).where(ProcessInstance.id == instance_id).with_for_update())
    if case is None or case.status not in ENDED or session.scalar(sa.select(_held(session)).where(
            ProcessInstance.id == instance_id)):  # fmt: skip
        return 0
    events = session.execute(
        sa.select(AuditEvent.id, AuditEvent.details, AuditEvent.task_uuid).where(
            AuditEvent.chain == f"case:{instance_id}"
        )
    ).all()
    task_uuids = {row.task_uuid for row in events if row.task_uuid}
    removed = 0
    for event_id, details, _task in events:
        if details and not audit.redacted(details):
            digest = audit.details_digest(details)
            session.execute(
                sa.update(AuditEvent).where(AuditEvent.id == event_id)
                .values(details={REMOVED: now.isoformat(), "sha256": digest})
            )  # fmt: skip
            removed += 1
    if task_uuids:
        session.execute(sa.delete(TaskDraft).where(TaskDraft.task_uuid.in_(task_uuids)))
    session.execute(sa.delete(TaskNotice).where(TaskNotice.instance_id == instance_id))
    session.execute(sa.delete(HumanTask).where(HumanTask.instance_id == instance_id))
    ended_at = case.completed_at
    emptied = {"state": "{}", "applicant_name": None, "status": DELETED, "error_message": None}
    case_rows.update_case(session, instance_id, case.lock_version, emptied)
    audit.record(session, Action.RETENTION_DELETED, "system", instance_id=instance_id, process_id=case.process_id,
                 details={"frist_tage": retention_days(konfig, case.process_id), "beendet": ended_at.isoformat()
                          if ended_at else None, "ereignisse_bereinigt": removed})  # fmt: skip
    return removed


# --- legal holds --------------------------------------------------------------------------------------------


def _require(actor: Actor) -> None:
    if not permissions.may_hold_data(actor):
        raise PermissionDeniedError("Löschsperren setzt und hebt nur die Revision auf.")


def _reason(reason: str, field: str) -> str:
    text = reason.strip()
    if not text:
        raise FormValidationError({field: ["Bitte geben Sie einen Grund an."]})
    if len(text) > 500:
        raise FormValidationError({field: ["Der Grund darf höchstens 500 Zeichen lang sein."]})
    return text


def set_hold(
    session: Session, actor: Actor, now: datetime, *, instance_id: int | None, person: str | None, reason: str
) -> Hold:
    """Put a Löschsperre on a case or a person (applicant name), with a reason; audited."""
    _require(actor)
    text = _reason(reason, "grund")
    name = (person or "").strip().lower() or None
    if (instance_id is None) == (name is None):
        raise FormValidationError({"ziel": ["Bitte entweder eine Vorgangsnummer oder einen Namen angeben."]})
    if name is not None and len(name) > 200:
        raise FormValidationError({"person": ["Der Name darf höchstens 200 Zeichen lang sein."]})
    if instance_id is not None and session.get(ProcessInstance, instance_id) is None:
        raise NotFoundError(f"Vorgang {instance_id} gibt es nicht.")
    hold = LegalHold(instance_id=instance_id, person=name, reason=text, set_by=actor.username, set_at=now)
    session.add(hold)
    session.flush()
    audit.record(session, Action.LEGAL_HOLD_SET, actor.username, instance_id=instance_id,
                 details={"sperre": hold.id, "grund": text, "person": name is not None})  # fmt: skip
    return _view(hold)


def lift_hold(session: Session, actor: Actor, now: datetime, hold_id: int, reason: str) -> Hold:
    """Lift a Löschsperre with a reason; audited (the hold stays listed as lifted)."""
    _require(actor)
    text = _reason(reason, "aufhebungsgrund")
    hold = session.get(LegalHold, hold_id, with_for_update=True)
    if hold is None or hold.lifted_at is not None:
        raise NotFoundError("Diese Löschsperre gibt es nicht oder sie ist schon aufgehoben.")
    hold.lifted_by, hold.lifted_at, hold.lift_reason = actor.username, now, text
    session.flush()
    audit.record(session, Action.LEGAL_HOLD_LIFTED, actor.username, instance_id=hold.instance_id,
                 details={"sperre": hold.id, "grund": text})  # fmt: skip
    return _view(hold)


def holds(session: Session, actor: Actor) -> list[Hold]:
    """Every hold, active ones first, newest first."""
    _require(actor)
    rows = session.scalars(sa.select(LegalHold).order_by(LegalHold.lifted_at.is_not(None), LegalHold.id.desc()))
    return [_view(row) for row in rows]


def _view(row: LegalHold) -> Hold:
    return Hold(row.id, row.instance_id, row.person, row.reason, row.set_by, row.set_at, row.lifted_by,
                row.lifted_at, row.lift_reason)  # fmt: skip
