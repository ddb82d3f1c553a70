"""What an attacker with database rights does to the audit trail: bypass the guards, edit, delete, re-hash."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine import audit
from engine.api import Engine
from engine.models import AuditEvent, ProcessInstance


@contextmanager
def bypassing_guards(engine: Engine) -> Iterator[Session]:
    """A transaction in which the trail's triggers do not fire (superuser on PostgreSQL; SQLite: dropped and
    created again afterwards, so that only the chain can tell)."""
    with engine.db.transaction() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(sa.text("SET LOCAL session_replication_role = replica"))
            yield session
            return
        rows = session.execute(
            sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'")
        ).all()
        triggers = {str(row[0]): str(row[1]) for row in rows}
        for name in triggers:
            session.execute(sa.text(f"DROP TRIGGER {name}"))
        yield session
        for statement in triggers.values():
            session.execute(sa.text(statement))


def case_events(engine: Engine, instance_id: int) -> list[AuditEvent]:
    with engine.db.reading() as session:
        return audit.events_for_instance(session, instance_id)


def global_events(engine: Engine) -> list[AuditEvent]:
    with engine.db.reading() as session:
        return list(session.scalars(sa.select(AuditEvent).where(AuditEvent.chain == "global").order_by(AuditEvent.id)))


def rehash_chain_from(session: Session, chain: str, first_id: int, digest: str = "forger") -> str:
    """Re-compute every hash of ``chain`` from ``first_id`` on, as someone without the key would (``forger``:
    HMAC with a guessed key; ``legacy``: plain SHA-256); returns the new head and sets it on the case row."""
    prev = session.scalar(
        sa.select(AuditEvent.hash).where(AuditEvent.chain == chain, AuditEvent.id < first_id)
        .order_by(AuditEvent.id.desc()).limit(1)
    ) or audit.GENESIS  # fmt: skip
    events = session.scalars(
        sa.select(AuditEvent).where(AuditEvent.chain == chain, AuditEvent.id >= first_id).order_by(AuditEvent.id)
    ).all()
    for event in events:
        event.prev_hash = prev
        if digest == "legacy":
            event.hash = audit.legacy_digest(event)
        else:
            event.hash = audit.keyed_digest(event, b"guessed-key")
        prev = event.hash
    session.flush()
    if chain.startswith("case:"):
        session.execute(sa.update(ProcessInstance).where(ProcessInstance.id == int(chain[5:])).values(audit_head=prev))
    return prev


def sha256_of(details: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(details, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def hmac_hex(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
