"""Server-side sessions: a login is a row in ``user_session``; the browser's cookie holds only a random token.

Issue 10 ("Logout does not end the session"): with the signed cookie alone, a copied cookie kept working
after logout. Now every request looks its token up here, so ending a session – logout, a password change,
"Überall abmelden", an administrator or ``egs end-sessions`` – takes effect on the next request. The table
keeps the token's SHA-256 only: a copy of the database gives nobody a session.

A session ends when it is ended, when it was idle for ``idle`` (background refreshes of the inbox do not
count as activity), and ``lifetime`` after the login whatever happens. ``last_seen_at`` is written at most
once per ``TOUCH_EVERY`` per session, so the idle limit holds to that precision.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .models import User, UserSession

TOUCH_EVERY = timedelta(seconds=60)
KEEP_ENDED = timedelta(days=7)  # ended rows stay this long (the account page lists recent sessions)

# Why a session ended (user_session.end_reason) and what the person is told.
LOGGED_OUT, ENDED, PASSWORD, IDLE, EXPIRED = "abgemeldet", "beendet", "passwort", "untaetig", "abgelaufen"
MESSAGES = {
    LOGGED_OUT: "Sie wurden abgemeldet.",
    ENDED: "Ihre Sitzung wurde beendet. Bitte melden Sie sich erneut an.",
    PASSWORD: "Das Passwort wurde geändert; bitte melden Sie sich mit dem neuen Passwort an.",
    IDLE: "Ihre Sitzung wurde nach längerer Untätigkeit beendet. Bitte melden Sie sich erneut an.",
    EXPIRED: "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an.",
}


@dataclass(frozen=True)
class SessionPolicy:
    """How long a session lives: without activity (``idle``) and at most (``lifetime``)."""

    idle: timedelta
    lifetime: timedelta


@dataclass(frozen=True)
class SessionInfo:
    """One of a user's sessions, for the account page (no token, no address)."""

    session_id: int
    created_at: datetime
    last_seen_at: datetime
    current: bool


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def open_session(session: Session, user_id: int, policy: SessionPolicy, now: datetime) -> str:
    """Start a session for ``user_id``; return the token for the cookie."""
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=token_hash(token),
            user_id=user_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + policy.lifetime,
        )
    )
    session.flush()
    return token


@dataclass(frozen=True)
class Lookup:
    """What the token of a request stands for: the user and the session, or why there is none."""

    username: str | None
    session_id: int | None
    ended_reason: str | None  # set when the session existed but is over
    touch: bool = False  # last_seen_at should be written (activity after TOUCH_EVERY)
    expire: str | None = None  # the session ran out just now: mark it ended with this reason


def look_up(session: Session, token: str, policy: SessionPolicy, now: datetime, activity: bool) -> Lookup:
    """Find the live session of ``token`` (read only; the caller writes ``touch``/``expire``)."""
    row = session.execute(
        sa.select(UserSession.id, UserSession.last_seen_at, UserSession.expires_at, UserSession.ended_at,
                  UserSession.end_reason, User.username, User.active)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == token_hash(token))
    ).first()  # fmt: skip
    if row is None:
        return Lookup(None, None, None)
    session_id, last_seen, expires, ended, reason, username, active = row
    if ended is not None:
        return Lookup(None, session_id, reason or ENDED)
    if not active:
        return Lookup(None, session_id, ENDED, expire=ENDED)
    if now >= expires:
        return Lookup(None, session_id, EXPIRED, expire=EXPIRED)
    if now - last_seen > policy.idle:
        return Lookup(None, session_id, IDLE, expire=IDLE)
    return Lookup(username, session_id, None, touch=activity and now - last_seen >= TOUCH_EVERY)


def touch(session: Session, session_id: int, now: datetime) -> None:
    """Record activity (only forwards: a slower concurrent request does not move it back)."""
    session.execute(
        sa.update(UserSession)
        .where(UserSession.id == session_id, UserSession.ended_at.is_(None), UserSession.last_seen_at < now)
        .values(last_seen_at=now)
    )


def end(session: Session, session_ids: sa.ColumnElement[bool], reason: str, now: datetime) -> int:
    """End the open sessions matching ``session_ids`` (a condition on UserSession); return how many."""
    result = session.execute(
        sa.update(UserSession)
        .where(session_ids, UserSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def end_id(session: Session, session_id: int, reason: str, now: datetime) -> int:
    return end(session, UserSession.id == session_id, reason, now)


def end_token(session: Session, token: str, reason: str, now: datetime) -> int:
    return end(session, UserSession.token_hash == token_hash(token), reason, now)


def end_all(session: Session, user_id: int, reason: str, now: datetime, *, keep_token: str | None = None) -> int:
    """End every open session of a user (except the one of ``keep_token``); return how many."""
    condition = UserSession.user_id == user_id
    if keep_token is not None:
        condition = sa.and_(condition, UserSession.token_hash != token_hash(keep_token))
    return end(session, condition, reason, now)


def live_sessions(
    session: Session, user_id: int, policy: SessionPolicy, now: datetime, token: str
) -> list[SessionInfo]:
    """The user's sessions that are still live, newest first."""
    rows = session.execute(
        sa.select(UserSession.id, UserSession.created_at, UserSession.last_seen_at, UserSession.token_hash)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None), UserSession.expires_at > now,
               UserSession.last_seen_at >= now - policy.idle)
        .order_by(UserSession.created_at.desc(), UserSession.id.desc())
    ).all()  # fmt: skip
    mine = token_hash(token)
    return [SessionInfo(sid, created, seen, hashed == mine) for sid, created, seen, hashed in rows]


def purge(session: Session, policy: SessionPolicy, now: datetime) -> int:
    """Delete sessions over for longer than ``KEEP_ENDED``; return how many."""
    cutoff = now - KEEP_ENDED
    result = session.execute(
        sa.delete(UserSession).where(
            sa.or_(
                UserSession.ended_at < cutoff,
                UserSession.expires_at < cutoff,
                UserSession.last_seen_at < cutoff - policy.idle,
            )
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
