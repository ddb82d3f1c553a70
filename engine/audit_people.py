"""Who someone was when they acted: their name and groups at the moment of an event.

Decision (issue 12, "as they were at that moment"): reconstructed, not copied into every event. Groups come
from the grant rows valid at the event's time (``user_grant.created_at`` ≤ t < ``valid_until``; grants are
never deleted, a temporary one expires), so a redeployment to EGS shows as EGS only while it lasted. The name
is the account's display name: the platform does not rename accounts, so there is no older name to show.
Logins without an account (the system, a mistyped login in a failed attempt) are shown as they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .models import Grant, User


@dataclass(frozen=True)
class Person:
    """The name and the groups (``GROUP Standort``) of a login at one moment."""

    login: str
    name: str
    groups: tuple[str, ...]

    @property
    def text(self) -> str:
        groups = f" ({', '.join(self.groups)})" if self.groups else ""
        return f"{self.name}{groups}"


class PeopleAtTime:
    """Names and grant histories of the logins on a page, read once."""

    def __init__(self, session: Session, logins: Iterable[str]) -> None:
        wanted = sorted(set(logins))
        self._names: dict[str, str] = {}
        self._grants: dict[str, list[tuple[str, str, datetime, datetime | None]]] = {}
        if not wanted:
            return
        for login, name in session.execute(
            sa.select(User.username, User.display_name).where(User.username.in_(wanted))
        ):
            self._names[login] = name
            self._grants.setdefault(login, [])
        rows = session.execute(
            sa.select(User.username, Grant.group_code, Grant.site, Grant.created_at, Grant.valid_until)
            .join(Grant, Grant.user_id == User.id)
            .where(User.username.in_(wanted))
            .order_by(Grant.group_code, Grant.site)
        )
        for login, group, site, created, until in rows:
            self._grants[login].append((group, site, created, until))

    def at(self, login: str, when: datetime) -> Person:
        """``login`` as they were at ``when``."""
        if login not in self._names:
            return Person(login, login, ())
        groups = tuple(
            f"{group} {'alle Standorte' if site == '*' else site}"
            for group, site, created, until in self._grants[login]
            if created <= when and (until is None or when < until)
        )
        return Person(login, self._names[login], groups)
