"""Idempotency keys of the REST API: a retried POST never starts a case or delivers a message twice.

A POST with an ``Idempotency-Key`` first *claims* the key for its token in a transaction of its own (a row
without a reply; the unique index on token and key lets exactly one of several concurrent retries win). The
operation then stores its reply **in its own transaction** (``complete``): the case starts and the reply is
kept together, or neither. A retry with the same key and the same request (its fingerprint) gets the kept
reply; with another request it is refused; while the first is still running it gets a conflict (retry
later). An operation that failed releases its claim, so a retry runs again. Rows expire after ``TTL``; a
claim left by a crashed process is taken over after ``ABANDONED``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .errors import ConflictError, RuleViolationError
from .models import ApiIdempotency

KEY_MAX = 200
TTL = timedelta(hours=24)
ABANDONED = timedelta(minutes=5)
IN_PROGRESS = "Eine Anfrage mit diesem Idempotency-Key wird gerade bearbeitet. Bitte später erneut senden."


class KeyReusedError(RuleViolationError):
    """The same ``Idempotency-Key`` came with another request."""


class InProgressError(ConflictError):
    """The request of this ``Idempotency-Key`` is still running: send again in ``retry_after`` seconds."""

    retry_after = 1


@dataclass(frozen=True)
class Claim:
    """A key claimed for one request of one token."""

    token_id: int
    key: str
    fingerprint: str


@dataclass(frozen=True)
class Reply:
    """A kept reply: its status and JSON body."""

    status: int
    body: dict[str, Any]


def claim(session: Session, token_id: int, key: str, fingerprint: str, now: datetime) -> Reply | None:
    """Claim ``key`` for this request, or return the reply kept for it.

    :raises KeyReusedError: the key was used with another request. :raises InProgressError: still running.
    """
    session.execute(
        sa.delete(ApiIdempotency).where(
            ApiIdempotency.token_id == token_id, ApiIdempotency.key == key, ApiIdempotency.expires_at <= now
        )  # fmt: skip
    )
    dialect = session.get_bind().dialect.name
    table: Any = ApiIdempotency.__table__
    insert: Any = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    values = {"token_id": token_id, "key": key, "fingerprint": fingerprint, "created_at": now, "expires_at": now + TTL}
    inserted = session.execute(
        insert.values(**values).on_conflict_do_nothing(index_elements=["token_id", "key"]).returning(table.c.id)
    ).scalar_one_or_none()
    if inserted is not None:
        return None  # ours
    row = session.scalars(
        sa.select(ApiIdempotency)
        .where(ApiIdempotency.token_id == token_id, ApiIdempotency.key == key)
        .with_for_update()
    ).one()
    if row.fingerprint != fingerprint:
        raise KeyReusedError(
            "Dieser Idempotency-Key wurde schon für eine andere Anfrage verwendet. Bitte einen neuen Schlüssel nehmen."
        )
    if row.status is not None and row.body is not None:
        return Reply(row.status, dict(row.body))
    if row.created_at + ABANDONED <= now:
        row.created_at = now  # left by a process that died: this request takes it over
        return None
    raise InProgressError(IN_PROGRESS)


def complete(session: Session, claimed: Claim, reply: Reply) -> None:
    """Keep the reply of the claimed request (inside the operation's transaction)."""
    session.execute(
        sa.update(ApiIdempotency)
        .where(ApiIdempotency.token_id == claimed.token_id, ApiIdempotency.key == claimed.key)
        .values(status=reply.status, body=reply.body)
    )


def release(session: Session, claimed: Claim) -> None:
    """Give up a claim whose request failed (a retry runs again)."""
    session.execute(
        sa.delete(ApiIdempotency).where(
            ApiIdempotency.token_id == claimed.token_id,
            ApiIdempotency.key == claimed.key,
            ApiIdempotency.status.is_(None),
        )
    )


def purge(session: Session, now: datetime) -> int:
    """Forget expired keys (timer worker's housekeeping)."""
    result = session.execute(sa.delete(ApiIdempotency).where(ApiIdempotency.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
