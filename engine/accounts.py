"""User administration: creating a login, granting groups, passwords and ending sessions, each step recorded in
the audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import audit, permissions, sessions
from .audit import Action
from .auth import Actor, create_user, hash_password
from .errors import FormValidationError, NotFoundError, PermissionDeniedError
from .models import User

MIN_PASSWORD_LENGTH = 12


def create_account(
    session: Session,
    actor: Actor,
    username: str,
    display_name: str,
    password: str,
    grants: Sequence[tuple[str, str]],
    *,
    password_hash: str | None = None,
) -> None:
    """Create a login with (group, site) grants for ``actor`` (user administration or the system).

    ``password_hash`` carries a precomputed hash (the demo accounts share one known password, which is why
    the length rule applies only to passwords given in clear).

    :raises PermissionDeniedError: :raises FormValidationError: password too short.
    :raises RuleViolationError: unknown group or site. :raises ConflictError: user name taken.
    """
    if not permissions.may_manage_users(actor):
        raise PermissionDeniedError("Benutzer legt nur die Benutzerverwaltung an.")
    if password_hash is None:
        check_new_password(password, "password")
    create_user(session, username, display_name, password, list(grants), password_hash=password_hash)
    audit.record(session, Action.USER_CREATED, actor.username, details={"user": username, "name": display_name})
    for group, site in grants:
        audit.record(
            session, Action.GRANT_ADDED, actor.username, details={"user": username, "group": group, "site": site}
        )


def check_new_password(password: str, field: str) -> None:
    """:raises FormValidationError: (at ``field``) if the password is too short."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise FormValidationError({field: [f"Das Passwort muss mindestens {MIN_PASSWORD_LENGTH} Zeichen haben."]})


def user_id_of(session: Session, username: str) -> int:
    """:raises NotFoundError: no such user."""
    user_id = session.scalar(sa.select(User.id).where(User.username == username))
    if user_id is None:
        raise NotFoundError("Diesen Benutzer gibt es nicht.")
    return int(user_id)


def end_sessions(session: Session, actor: Actor, username: str, now: datetime, *, reason: str = sessions.ENDED) -> int:
    """End every session of ``username`` (the user themself, ADMIN or the system); audited with the count.

    :raises PermissionDeniedError: :raises NotFoundError:
    """
    if not permissions.may_end_sessions_of(actor, username):
        raise PermissionDeniedError("Sitzungen anderer Benutzer beendet nur die Benutzerverwaltung.")
    ended = sessions.end_all(session, user_id_of(session, username), reason, now)
    audit.record(session, Action.SESSIONS_ENDED, actor.username, details={"user": username, "sessions": ended})
    return ended


def set_password(
    session: Session, actor: Actor, username: str, password: str, now: datetime, *, keep_token: str | None = None
) -> int:
    """Give ``username`` a new password and end their sessions (but the one of ``keep_token``: the user who
    changed their own password stays logged in there). Returns how many sessions ended; audited.

    Who may: the user themself (the caller has checked the current password) and user administration.

    :raises PermissionDeniedError: :raises NotFoundError: :raises FormValidationError: too short.
    """
    if not (actor.username == username or permissions.may_manage_users(actor)):
        raise PermissionDeniedError("Passwörter anderer Benutzer setzt nur die Benutzerverwaltung.")
    check_new_password(password, "neues_passwort")
    user_id = user_id_of(session, username)
    session.execute(sa.update(User).where(User.id == user_id).values(password_hash=hash_password(password)))
    ended = sessions.end_all(session, user_id, sessions.PASSWORD, now, keep_token=keep_token)
    audit.record(session, Action.PASSWORD_CHANGED, actor.username, details={"user": username, "sessions_ended": ended})
    return ended
