"""Append-only, hash-chained audit trail.

Each event stores the hash of the previous event of its chain (one chain per case, plus a global one
for events without a case) and its own HMAC over its content, keyed with a key that is not in the database
(``EGS_AUDIT_KEY``): whoever can write rows cannot re-compute a chain. The details enter the HMAC by their
SHA-256, so retention can remove them and keep that digest (``redacted``). The table refuses UPDATE and
DELETE (database triggers; the only change let through is such a removal); ``audit_verify`` finds rows that
were changed or removed anyway, and ``audit_anchors`` publishes the chain heads outside the database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import case_rows, clock
from .audit_keys import key_id
from .db import AUDIT_KEY, AUDIT_KEY_ID, AUDIT_KEYS
from .models import AuditEvent, ProcessInstance

GENESIS = "0" * 64


class Action(StrEnum):
    """Every audit action, declared once: the stable code stored in the trail and the German label people read."""

    label: str

    def __new__(cls, code: str, label: str) -> Action:
        member = str.__new__(cls, code)
        member._value_ = code
        member.label = label
        return member

    # models and cases
    DEPLOY = "deploy", "Prozessmodell bereitgestellt"
    MODEL_DRAFT_CREATED = "model_draft_created", "Modellentwurf angelegt"
    MODEL_DRAFT_SAVED = "model_draft_saved", "Modellentwurf gespeichert"
    MODEL_DRAFT_DELETED = "model_draft_deleted", "Modellentwurf gelöscht"
    MODEL_DRAFT_DEPLOYED = "model_draft_deployed", "Modellentwurf als neue Version bereitgestellt"
    DECISION_DEPLOYED = "decision_deployed", "Entscheidungstabelle (DMN) als neue Version bereitgestellt"
    MODEL_DRAFT_UPLOADED = "model_draft_uploaded", "Modellentwurf aus hochgeladener Datei angelegt"
    MODEL_DOCUMENT_UPLOADED = "model_document_uploaded", "Fremdes Modell als Dokumentation hochgeladen"
    MODEL_DOCUMENT_DELETED = "model_document_deleted", "Dokumentationsmodell gelöscht"
    MODEL_RELEASE_REQUESTED = "model_release_requested", "Freigabe einer neuen Modellversion beantragt"
    MODEL_RELEASE_GRANTED = "model_release_granted", "Neue Modellversion von zweiter Person freigegeben"
    MODEL_RELEASE_REJECTED = "model_release_rejected", "Freigabe einer neuen Modellversion abgelehnt"
    TRIAL_STARTED = "trial_started", "Probelauf eines Modellentwurfs gestartet"
    TRIAL_STEP = "trial_step", "Schritt im Probelauf erledigt"
    TRIAL_DISCARDED = "trial_discarded", "Probelauf verworfen"
    CASES_MIGRATION_CHECKED = "cases_migration_checked", "Umzug von Vorgängen geprüft (Probelauf)"
    CASE_MIGRATED = "case_migrated", "Vorgang auf eine andere Prozessversion umgezogen"
    START = "start", "Vorgang gestartet"
    MESSAGE = "message", "Nachricht eingegangen"
    TIMER_FIRED = "timer_fired", "Frist abgelaufen / Timer ausgelöst"
    # tasks
    CLAIM = "claim", "Übernommen"
    UNCLAIM = "unclaim", "Freigegeben"
    DELEGATE = "delegate", "Weitergegeben"
    REASSIGN = "reassign", "Von der Leitung neu zugewiesen"
    RELEASE = "release", "Von der Leitung an die Gruppe zurückgegeben"
    PRIORITY = "priority", "Priorität geändert"
    DUE = "due", "Fälligkeit geändert"
    DRAFT_SAVED = "draft_saved", "Entwurf gespeichert"
    COMPLETE = "complete", "Schritt abgeschlossen"
    # refusals and failures
    CONFLICT = "conflict", "Konflikt: Vorgang war zwischenzeitlich geändert"
    ACCESS_DENIED = "access_denied", "Zugriff verweigert"
    RULE_VIOLATION = "rule_violation", "Abgewiesen: Geschäftsregel verletzt"
    SCRIPT_ERROR = "script_error", "Fehler im Prozessmodell"
    INCIDENT_RETRIED = "incident_retried", "Störung: erneut versucht"
    INCIDENT_RESOLVED = "incident_resolved", "Störung als behoben markiert"
    CASE_CANCELLED = "case_cancelled", "Vorgang abgebrochen"
    # money
    PAYMENT_CANCEL_REQUESTED = "payment_cancel_requested", "Stornierung einer Zahlung der Sammelliste beantragt"
    PAYMENT_CANCELLED = "payment_cancelled", "Zahlung der Sammelliste storniert (zweite Person)"
    PAYMENT_CANCEL_DISCARDED = "payment_cancel_discarded", "Stornierung einer Zahlung der Sammelliste verworfen"
    # reading
    CASE_VIEWED = "case_viewed", "Vorgang angesehen"
    TASK_VIEWED = "task_viewed", "Aufgabe angesehen"
    EXPORT = "export", "Export erstellt"
    AUDIT_VERIFIED = "audit_verified", "Audit-Trail geprüft"
    AUDIT_ANCHORED = "audit_anchored", "Audit-Trail verankert (Prüfprotokoll)"
    AUDIT_KEY_EPOCH = "audit_key_epoch", "Audit-Trail: ab hier mit Schlüssel gesichert"
    AUDIT_KEY_ROTATED = "audit_key_rotated", "Audit-Trail: neuer Schlüssel (Schlüsselwechsel)"
    # retention and legal hold
    RETENTION_DELETED = "retention_deleted", "Personenbezogene Daten nach Ablauf der Aufbewahrungsfrist gelöscht"
    LEGAL_HOLD_SET = "legal_hold_set", "Löschsperre gesetzt"
    LEGAL_HOLD_LIFTED = "legal_hold_lifted", "Löschsperre aufgehoben"
    SIMULATION = "simulation", "Was-wäre-wenn-Simulation gerechnet"
    AUDIT_PURPOSE = "audit_purpose", "Revision: Zweck der Einsicht angegeben"
    AUDIT_VIEWED = "audit_viewed", "Revision: Ansicht aufgerufen"
    # people
    LOGIN = "login", "Angemeldet"
    LOGIN_FAILED = "login_failed", "Anmeldung fehlgeschlagen"
    LOGIN_THROTTLED = "login_throttled", "Anmeldeversuche abgewiesen (zu viele Fehlversuche)"
    LOGOUT = "logout", "Abgemeldet"
    SESSIONS_ENDED = "sessions_ended", "Sitzungen beendet"
    PASSWORD_CHANGED = "password_changed", "Passwort geändert"
    USER_CREATED = "user_created", "Benutzer angelegt"
    GRANT_ADDED = "grant_added", "Berechtigung erteilt"
    API_TOKEN_CREATED = "api_token_created", "API-Token angelegt"
    API_TOKEN_REVOKED = "api_token_revoked", "API-Token widerrufen"
    API_TOKEN_USED = "api_token_used", "REST-API mit Token aufgerufen"
    API_TOKEN_REFUSED = "api_token_refused", "REST-API: Token abgewiesen (abgelaufen, widerrufen oder ohne Umfang)"
    # staffing (§ 6/§ 7)
    STAFF_SAVED = "staff_saved", "Beschäftigte/r im Personalbestand erfasst"
    STAFF_IMPORTED = "staff_imported", "Personalbestand aus CSV eingelesen"
    ABSENCE_SAVED = "absence_saved", "Abwesenheit erfasst"
    ABSENCE_DELETED = "absence_deleted", "Abwesenheit gelöscht"
    SHARE_MODE_DECIDED = "share_mode_decided", "VZÄ-Anteile: Entscheidung der Fachdienstleitung"
    STAFFING_VIEWED = "staffing_viewed", "Personallage des Standorts angesehen"
    ESCALATION_STARTED = "escalation_started", "Gefährdung der EGS-Besetzung: Sicherstellung gestartet"
    ESCALATION_ENDED = "escalation_ended", "Gefährdung der EGS-Besetzung entfallen"
    REDEPLOYMENT_GRANTED = "redeployment_granted", "Umsetzung in den EGS: befristete Berechtigung erteilt"
    REDEPLOYMENT_USED = "redeployment_used", "Umsetzung in den EGS: Aufgabe mit befristeter Berechtigung bearbeitet"
    REDEPLOYMENT_ENDED = "redeployment_ended", "Umsetzung in den EGS beendet: befristete Berechtigung abgelaufen"


LABELS = {action.value: action.label for action in Action}


def label(code: str) -> str:
    """The German label of an action code (an unknown code, e.g. from a newer version, is shown as it is)."""
    return LABELS.get(code, code)


def _chain_of(instance_id: int | None) -> str:
    return f"case:{instance_id}" if instance_id is not None else "global"


def _normalise(details: Mapping[str, Any] | None) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(dict(details or {}), default=str, sort_keys=True))
    return result


REMOVED = "entfernt"  # details of a redacted event: {"entfernt": ISO time, "sha256": digest of what was removed}


def redacted(details: Mapping[str, Any]) -> bool:
    return set(details) == {REMOVED, "sha256"}


def details_digest(details: Mapping[str, Any]) -> str:
    """SHA-256 of the details as they enter the HMAC (a redacted event keeps the digest of what was removed)."""
    if redacted(details):
        return str(details["sha256"])
    return hashlib.sha256(json.dumps(details, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def keyed_digest(event: AuditEvent, key: bytes) -> str:
    """The HMAC-SHA256 of an event: its content with the details replaced by their digest."""
    return hmac.new(key, _content(event, details_digest(event.details)), hashlib.sha256).hexdigest()


def key_of(session: Session) -> bytes:
    """The audit key the session's database was opened with (``Database``)."""
    return bytes(session.info[AUDIT_KEY])


def keys_of(session: Session) -> dict[str, bytes]:
    """Every audit key the session's database knows, by id (``audit_keys``): verification needs the old ones."""
    return dict(session.info[AUDIT_KEYS])


def legacy_digest(event: AuditEvent) -> str:
    """The unkeyed SHA-256 of events written before the chain was keyed (accepted only before the epoch marker)."""
    return hashlib.sha256(_content(event, event.details)).hexdigest()


def _content(event: AuditEvent, details: Any) -> bytes:
    """What a chain hash covers: the event's fields with ``details`` as given (the details or their digest)."""
    content = {
        "occurred_at": event.occurred_at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "instance_id": event.instance_id,
        "task_uuid": event.task_uuid,
        "process_id": event.process_id,
        "details": details,
        "chain": event.chain,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":")).encode()


def hold_head(session: Session, instance_id: int, head: str | None) -> None:
    """Keep the head of a case's chain in the session: the caller has locked the case row (a step) and will
    write the new head back with the row (``take_head``), so appending an event costs one INSERT."""
    # A chain held already in this transaction may have grown since; its head in the session is the newer.
    session.info.setdefault(_HEADS, {}).setdefault(_chain_of(instance_id), [head or GENESIS, False])


def take_head(session: Session, instance_id: int) -> str | None:
    """The new head of a held chain if events were appended since ``hold_head`` (then it counts as written)."""
    held = session.info.get(_HEADS, {}).get(_chain_of(instance_id))
    if held is None or not held[1]:
        return None
    held[1] = False
    return str(held[0])


def record(
    session: Session,
    action: Action,
    actor: str,
    *,
    instance_id: int | None = None,
    task_uuid: str | None = None,
    process_id: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the audit trail within the caller's transaction.

    A case's chain head lives on its row: a step holds it (``hold_head``); otherwise the row is locked,
    read and updated here. Events without a case go to the global chain, serialised by a lock on PostgreSQL.
    """
    chain = _chain_of(instance_id)
    held = session.info.get(_HEADS, {}).get(chain)
    write_back = False
    if held is not None:
        prev: str | None = held[0]
    elif instance_id is not None and (head := _locked_head(session, instance_id)) is not None:
        prev, write_back = head[0] or GENESIS, True
    else:
        prev = _last_hash(session, chain)
    event = AuditEvent(
        occurred_at=clock.now(),
        actor=actor,
        action=action.value,
        instance_id=instance_id,
        task_uuid=task_uuid,
        process_id=process_id,
        details=_normalise(details),
        chain=chain,
        prev_hash=prev or GENESIS,
    )
    event.hash = keyed_digest(event, key_of(session))
    event.key_id = session.info[AUDIT_KEY_ID]
    columns = {name: getattr(event, name) for name in _EVENT_COLUMNS}
    session.execute(_INSERT_EVENT, columns)  # Core: no unit-of-work flush for an append-only row
    if held is not None:
        held[0], held[1] = event.hash, True
    elif write_back and instance_id is not None:
        _write_head(session, instance_id, event.hash)
    return event


_HEADS = "egs_audit_heads"
EVENTS: sa.Table = AuditEvent.__table__  # type: ignore[assignment]
_INSERT_EVENT = sa.insert(EVENTS)
_EVENT_COLUMNS = ("occurred_at", "actor", "action", "instance_id", "task_uuid", "process_id", "details", "chain",
                  "prev_hash", "hash", "key_id")  # fmt: skip


def _locked_head(session: Session, instance_id: int | None) -> tuple[str | None] | None:
    """(audit_head,) of the case row, locked for the rest of the transaction; None if there is no such case."""
    row = session.execute(
        sa.select(ProcessInstance.audit_head).where(ProcessInstance.id == instance_id).with_for_update()
    ).first()
    return None if row is None else (row[0],)


def _last_hash(session: Session, chain: str) -> str | None:
    if session.get_bind().dialect.name == "postgresql":
        # Serialise appends per chain so two transactions cannot both extend the same predecessor.
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(chain))))
    return session.scalar(
        sa.select(AuditEvent.hash).where(AuditEvent.chain == chain).order_by(AuditEvent.id.desc()).limit(1)
    )


def _write_head(session: Session, instance_id: int, head: str) -> None:
    case_rows.note(session, instance_id, audit_head=head)


@sa.event.listens_for(Session, "before_commit")
def _write_held_heads(session: Session) -> None:
    """A held chain that got events but was not written back with its case row is written now."""
    for chain, held in session.info.get(_HEADS, {}).items():
        if held[1]:
            _write_head(session, int(chain.split(":", 1)[1]), held[0])
            held[1] = False


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_held_heads(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_HEADS, None)


def events_for_instance(session: Session, instance_id: int) -> list[AuditEvent]:
    """Return a case's events, oldest first."""
    return list(
        session.scalars(sa.select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id))
    )


def begin_key_epoch(session: Session) -> bool:
    """Mark where the keyed chain begins, if the trail holds events written before (``init-db`` after the upgrade):
    unkeyed events are accepted only before this marker. Returns whether a marker was written."""
    has_events = session.scalar(sa.select(AuditEvent.id).limit(1)) is not None
    marked = session.scalar(sa.select(AuditEvent.id).where(AuditEvent.action == Action.AUDIT_KEY_EPOCH).limit(1))
    if not has_events or marked is not None:
        return False
    record(session, Action.AUDIT_KEY_EPOCH, "system", details={"key_id": key_id(key_of(session))})
    return True


def verify_chains(session: Session) -> list[Any]:
    """Every chain of the trail re-computed (``audit_verify.verify`` without anchors), for callers of old."""
    from .audit_verify import verify

    return list(verify(session))


def verify_case(session: Session, instance_id: int) -> list[Any]:
    """One case's chain re-computed with the key and compared with the head kept on the case row, so a deleted
    last event is found too (``audit_verify.verify`` for that case, without anchors)."""
    from .audit_verify import Scope, verify

    return list(verify(session, Scope(instance_id=instance_id)))
