"""Incidents ("Störungen"): a case whose step, timer or message failed, until it is retried, fixed or cancelled.

A failure never stops anything but its own case. The timer worker opens an incident and stops the case
(status 'error') – or, for a transient failure such as a lost database connection, keeps it running and
retries with a growing pause. A step a clerk tried in the browser opens an incident too, so that process
owners learn of broken models; the case goes on as soon as a later step succeeds. A case that ran out of
things to do without reaching an end event is an incident as well.

Process owners and the site's leads see incidents with the case number, the element and the German error
(never case data), retry them, mark them as fixed or cancel the case with a reason; all of it is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from . import audit, case_rows, clock, permissions
from .audit import Action
from .auth import Actor
from .errors import EngineError, NotFoundError, PermissionDeniedError, RuleViolationError
from .models import HumanTask, Incident, ProcessInstance
from .versions import SpecCache
from .vocabulary import CANCELLED, ERROR, INCIDENT_KINDS, RUNNING

FIRST_PAUSE = timedelta(seconds=30)
LONGEST_PAUSE = timedelta(hours=1)
REASON_MAX = 300


def is_transient(error: BaseException) -> bool:
    """A failure that may pass by itself (database unreachable, deadlock, serialization conflict)."""
    return isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError)


def describe(error: BaseException) -> str:
    """The German message of a failure, free of case data for errors the engine did not phrase itself."""
    if isinstance(error, EngineError):
        return error.message
    if is_transient(error):
        return "Die Datenbank war vorübergehend nicht erreichbar; der Schritt wird automatisch wiederholt."
    return f"Interner Fehler ({type(error).__name__}) – bitte an den IT-Betrieb melden."


def pause_after(attempts: int) -> timedelta:
    """How long to wait before retrying a transient failure for the ``attempts``-th time (30 s, 1 min, … 1 h)."""
    pause: timedelta = FIRST_PAUSE * (2 ** max(0, min(attempts - 1, 20)))
    return min(pause, LONGEST_PAUSE)


def record(session: Session, instance_id: int, kind: str, error: BaseException) -> Incident:
    """Open an incident for a failure of the case (or count another attempt of the same open one) and note
    it on the case row."""
    now = clock.now()
    element_id = getattr(error, "element_id", None) or None
    transient = is_transient(error)
    incident = session.scalar(
        sa.select(Incident).where(
            Incident.instance_id == instance_id,
            Incident.kind == kind,
            Incident.resolved_at.is_(None),
            Incident.element_id == element_id if element_id else Incident.element_id.is_(None),
        )
    )
    if incident is None:
        incident = Incident(
            instance_id=instance_id, kind=kind, element_id=element_id, message="", transient=transient,
            attempts=0, first_at=now, last_at=now,
        )  # fmt: skip
        session.add(incident)
    incident.attempts += 1
    incident.message = describe(error)
    incident.transient = transient
    incident.last_at = now
    incident.next_retry_at = now + pause_after(incident.attempts) if transient else None
    # The case row notes that it has an open incident (its state and lock_version stay as they are), so
    # that its next successful step closes the incident without looking for it.
    case_rows.note(session, instance_id, error_message=incident.message)
    session.flush()
    return incident


def resolve_open(session: Session, instance_id: int, resolution: str, actor: str | None = None) -> None:
    """Close the open incidents of a case."""
    session.execute(
        sa.update(Incident)
        .where(Incident.instance_id == instance_id, Incident.resolved_at.is_(None))
        .values(resolved_at=clock.now(), resolved_by=actor, resolution=resolution[:REASON_MAX])
        .execution_options(synchronize_session=False)
    )


def waiting_for_retry(moment: datetime) -> sa.Exists:
    """Cases with a transient incident whose pause is not over at ``moment`` (the worker leaves them alone)."""
    return (
        sa.select(Incident.id)
        .where(
            Incident.instance_id == ProcessInstance.id,
            Incident.resolved_at.is_(None),
            Incident.next_retry_at > moment,
        )
        .exists()
    )


@dataclass(frozen=True)
class IncidentView:
    """One open incident as the "Störungen" page shows it."""

    id: int
    instance_id: int
    business_key: str | None
    process_name: str
    site: str
    case_status: str
    kind: str
    element_id: str | None
    element_name: str | None
    message: str
    first_at: datetime
    last_at: datetime
    attempts: int
    next_retry_at: datetime | None

    @property
    def kind_label(self) -> str:
        return INCIDENT_KINDS.get(self.kind, self.kind)

    @property
    def may_retry(self) -> bool:
        return may_retry(self.case_status, self.kind, self.next_retry_at)

    @property
    def may_mark_fixed(self) -> bool:
        """A failed step of a running case: the clerk retries it; the owner only marks the model as fixed."""
        return self.case_status == RUNNING and self.next_retry_at is None


def may_retry(case_status: str, kind: str, next_retry_at: datetime | None) -> bool:
    """A case stopped by a failed timer or message can be set going again, and a transient failure retried
    now; a failed step is retried by the clerk in the task, and a stuck case can only be cancelled."""
    return case_status == ERROR and kind != "step" or next_retry_at is not None


def open_incidents(session: Session, specs: SpecCache, actor: Actor) -> list[IncidentView]:
    """The open incidents at the sites the actor handles, newest first."""
    sites = permissions.incident_sites(actor)
    rows = session.execute(
        sa.select(Incident, ProcessInstance)
        .join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
        .where(Incident.resolved_at.is_(None), ProcessInstance.site.in_(sites))
        .order_by(Incident.last_at.desc(), Incident.id.desc())
        .limit(500)
    ).all()
    views: list[IncidentView] = []
    for incident, case in rows:
        version = specs.get(session, case.version_id)
        if not permissions.may_handle_incident(actor, version.lanes, case.site):
            continue
        info = version.model.tasks.get(incident.element_id or "")
        views.append(
            IncidentView(
                incident.id,
                case.id,
                case.business_key,
                version.name,
                case.site,
                case.status,
                incident.kind,
                incident.element_id,
                info.name if info else None,
                incident.message,
                incident.first_at,
                incident.last_at,
                incident.attempts,
                incident.next_retry_at,
            )  # fmt: skip
        )
    return views


def count_open(session: Session, specs: SpecCache, actor: Actor) -> int:
    """How many open incidents the actor handles (for the navigation)."""
    return len(open_incidents(session, specs, actor)) if permissions.incident_sites(actor) else 0


def _handled(session: Session, specs: SpecCache, actor: Actor, incident_id: int) -> tuple[Incident, ProcessInstance]:
    """The open incident and its case, if the actor handles the case's site (the case row locked).

    :raises NotFoundError: no such open incident. :raises PermissionDeniedError:
    """
    incident = session.get(Incident, incident_id)
    if incident is None or incident.resolved_at is not None:
        raise NotFoundError("Diese Störung ist nicht (mehr) offen.")
    case = session.scalar(
        sa.select(ProcessInstance).where(ProcessInstance.id == incident.instance_id).with_for_update()
    )
    assert case is not None
    if not permissions.may_handle_incident(actor, specs.get(session, case.version_id).lanes, case.site):
        raise PermissionDeniedError(f"Störungen am Standort {case.site} bearbeiten nur Prozessverantwortliche "
                                    "und die Leitung des Standorts.")  # fmt: skip
    return incident, case


def _set_case(session: Session, case: ProcessInstance, **values: object) -> None:
    """Change the status of a case (lock_version moves on, so open forms of it become stale)."""
    case_rows.update_case(session, case.id, case.lock_version, {**values, "updated_at": clock.now()})


def retry(session: Session, specs: SpecCache, actor: Actor, incident_id: int) -> None:
    """Set a stopped case going again (the worker retries its timer or message at once)."""
    incident, case = _handled(session, specs, actor, incident_id)
    if not may_retry(case.status, incident.kind, incident.next_retry_at):
        raise RuleViolationError("Diese Störung kann nicht erneut versucht werden: der Schritt wird in der "
                                 "Aufgabe erneut ausgeführt, oder der Vorgang muss abgebrochen werden.")  # fmt: skip
    resolve_open(session, case.id, "Erneut versucht", actor.username)
    _set_case(session, case, status=RUNNING, error_message=None)
    audit.record(session, Action.INCIDENT_RETRIED, actor.username, instance_id=case.id, process_id=case.process_id,
                 details={"incident": incident.id, "element": incident.element_id})  # fmt: skip


def mark_fixed(session: Session, specs: SpecCache, actor: Actor, incident_id: int) -> None:
    """Close the incident of a failed step in a running case (the model or configuration was fixed)."""
    incident, case = _handled(session, specs, actor, incident_id)
    if case.status != RUNNING:
        raise RuleViolationError("Der Vorgang ist angehalten: bitte erneut versuchen oder abbrechen.")
    resolve_open(session, case.id, "Als behoben markiert", actor.username)
    _set_case(session, case, error_message=None)
    audit.record(session, Action.INCIDENT_RESOLVED, actor.username, instance_id=case.id, process_id=case.process_id,
                 details={"incident": incident.id, "element": incident.element_id})  # fmt: skip


def cancel_case(session: Session, specs: SpecCache, actor: Actor, incident_id: int, reason: str) -> None:
    """End the case of an incident for good ('abgebrochen'), with a reason; its open tasks disappear.

    :raises RuleViolationError: no reason given.
    """
    reason = reason.strip()
    if not reason:
        raise RuleViolationError("Bitte einen Grund für den Abbruch angeben.")
    incident, case = _handled(session, specs, actor, incident_id)
    resolve_open(session, case.id, f"Vorgang abgebrochen: {reason}", actor.username)
    _set_case(session, case, status=CANCELLED, error_message=None, next_timer_at=None, completed_at=clock.now())
    session.execute(sa.delete(HumanTask).where(HumanTask.instance_id == case.id))
    audit.record(session, Action.CASE_CANCELLED, actor.username, instance_id=case.id, process_id=case.process_id,
                 details={"incident": incident.id, "reason": reason[:REASON_MAX]})  # fmt: skip
