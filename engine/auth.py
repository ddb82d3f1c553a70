"""Users and their grants, password hashing, login: who is acting (the rules of what they may do are in
``engine.permissions``).

A grant gives one group (``engine.vocabulary.GROUPS``) at one site ('*' = all sites) and may expire.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import clock
from .errors import AuthenticationError, ConflictError, RuleViolationError
from .models import Grant, User
from .vocabulary import ALL_SITES, GROUPS, SITES, WORK_GROUPS

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    """Hash a password with scrypt and a random salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    encoded = base64.b64encode(salt).decode(), base64.b64encode(digest).decode()
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${encoded[0]}${encoded[1]}"


def verify_password(password: str, stored: str) -> bool:
    """Check a password against a stored hash in constant time."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    expected = base64.b64decode(digest)
    actual = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
    )
    return hmac.compare_digest(actual, expected)


_DUMMY_HASH = hash_password(secrets.token_hex(8))


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user with their current grants, or the system (timers, CLI on the server)."""

    username: str
    display_name: str
    grants: frozenset[tuple[str, str]]
    user_id: int | None = None
    system: bool = False
    temporary: frozenset[tuple[str, str]] = frozenset()  # grants held only until a set end (a redeployment)

    @property
    def groups(self) -> frozenset[str]:
        return frozenset(group for group, _ in self.grants)

    @property
    def sites(self) -> frozenset[str]:
        return frozenset(site for _, site in self.grants)

    def has_group(self, group: str, site: str | None = None) -> bool:
        """True if the actor holds ``group`` (at ``site``, when given). Permission rules build on this."""
        return any(g == group and (site is None or s in (site, ALL_SITES)) for g, s in self.grants)

    def work_pairs(self) -> list[tuple[str, str]]:
        """(group, site) pairs with '*' expanded, for inbox queries."""
        pairs: set[tuple[str, str]] = set()
        for group, site in self.grants:
            if group not in WORK_GROUPS:
                continue
            for s in SITES if site == ALL_SITES else (site,):
                pairs.add((group, s))
        return sorted(pairs)


def system_actor(name: str = "system") -> Actor:
    """The actor for engine-internal work (timer worker, CLI maintenance)."""
    return Actor(username=name, display_name="System", grants=frozenset(), user_id=None, system=True)


def create_user(
    session: Session,
    username: str,
    display_name: str,
    password: str,
    grants: list[tuple[str, str]],
    *,
    password_hash: str | None = None,
) -> User:
    """Create a user with grants; unknown groups or sites are refused.

    ``password_hash`` may carry a precomputed hash of ``password`` (bulk creation of demo users).

    :raises RuleViolationError: unknown group or site code. :raises ConflictError: the user name is taken.
    """
    for group, site in grants:
        if group not in GROUPS:
            raise RuleViolationError(f"Unbekannte Gruppe: {group} (bekannt: {', '.join(GROUPS)})")
        if site != ALL_SITES and site not in SITES:
            raise RuleViolationError(f"Unbekannter Standort: {site} (bekannt: {', '.join(SITES)} oder *)")
    if session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise ConflictError(f"Benutzername bereits vergeben: {username}")
    now = clock.now()
    user = User(
        username=username,
        display_name=display_name,
        password_hash=password_hash or hash_password(password),
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    for group, site in grants:
        session.add(Grant(user_id=user.id, group_code=group, site=site, created_at=now))
    session.flush()
    return user


def load_actor(session: Session, username: str, at: datetime | None = None) -> Actor:
    """Load an active user with the grants valid at ``at`` (default: now).

    :raises AuthenticationError: if the user does not exist or is disabled.
    """
    user = session.scalar(sa.select(User).where(User.username == username))
    if user is None or not user.active:
        raise AuthenticationError("Benutzer unbekannt oder gesperrt.")
    moment = at or clock.now()
    rows = session.execute(
        sa.select(Grant.group_code, Grant.site, Grant.valid_until).where(
            Grant.user_id == user.id,
            sa.or_(Grant.valid_from.is_(None), Grant.valid_from <= moment),
            sa.or_(Grant.valid_until.is_(None), Grant.valid_until > moment),
        )
    ).all()
    grants = frozenset((g, s) for g, s, _ in rows)
    lasting = frozenset((g, s) for g, s, until in rows if until is None)
    return Actor(
        username=user.username,
        display_name=user.display_name,
        grants=grants,
        user_id=user.id,
        temporary=grants - lasting,
    )


def authenticate(session: Session, username: str, password: str) -> Actor:
    """Check credentials and return the actor.

    :raises AuthenticationError: for unknown users, wrong passwords and disabled accounts alike.
    """
    user = session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        verify_password(password, _DUMMY_HASH)  # same work either way: no user enumeration by timing
        raise AuthenticationError("Benutzername oder Passwort ist falsch.")
    if not verify_password(password, user.password_hash) or not user.active:
        raise AuthenticationError("Benutzername oder Passwort ist falsch.")
    return load_actor(session, username)
