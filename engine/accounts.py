"""User administration: creating a login and granting groups, each step recorded in the audit trail."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from . import audit, permissions
from .audit import Action
from .auth import Actor, create_user
from .errors import FormValidationError, PermissionDeniedError

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
    if password_hash is None and len(password) < MIN_PASSWORD_LENGTH:
        raise FormValidationError({"password": [f"Das Passwort muss mindestens {MIN_PASSWORD_LENGTH} Zeichen haben."]})
    create_user(session, username, display_name, password, list(grants), password_hash=password_hash)
    audit.record(session, Action.USER_CREATED, actor.username, details={"user": username, "name": display_name})
    for group, site in grants:
        audit.record(
            session, Action.GRANT_ADDED, actor.username, details={"user": username, "group": group, "site": site}
        )
