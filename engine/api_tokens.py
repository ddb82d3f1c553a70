"""Tokens of the REST API (``/api/v1``): who calls, with which scopes, for which sites, how often.

* **System tokens** belong to another system (the post room's scanning, the e-file): scopes and the sites they
  act for, created on the server (``egs token create-system``). Their actor has no grants: what they may do is
  their scopes at their sites (``require_site``), nothing else.
* **Personal tokens** belong to a member of staff (created on *Mein Konto*): the person's own rights at the
  moment of each request, narrowed by the token's scopes.

A token is ``egs_<prefix>_<secret>``: 32 random bytes of secret, of which only the SHA-256 is stored; the
prefix finds the row (the secret is compared in constant time). It is shown once, expires, can be revoked,
and every use is recorded in the audit trail with its prefix, method and route – never the secret, never a
query value. The rate limit is a fixed window of one minute counted on the token's row in the database, in
the same transaction that records the use: shared by every web process (a per-process counter would allow
four times the limit behind four gunicorn workers), atomic under concurrent requests, and one write.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import audit, auth, permissions
from .audit import Action
from .auth import Actor
from .errors import (
    AuthenticationError,
    EngineError,
    FormValidationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
)
from .models import ApiToken, User
from .vocabulary import ALL_SITES, SITES, WORK_GROUPS

SYSTEM, PERSONAL = "system", "personal"

# Scope → German description (the OpenAPI document and *Mein Konto* show it).
SCOPES = {
    "cases:start": "Vorgänge starten",
    "messages:send": "Nachrichten an Vorgänge senden (z. B. „Unterlagen eingegangen“)",
    "cases:read": "Stand und offene Aufgaben eines Vorgangs lesen",
    "tasks:work": "eigene Aufgaben auflisten und abschließen (nur persönliche Token)",
    "audit:read": "Verlauf eines Vorgangs lesen (Revision, nur persönliche Token)",
    "exports:read": "Exporte abrufen (nur persönliche Token)",
}
SYSTEM_SCOPES = ("cases:start", "messages:send", "cases:read")
PREFIX = "egs_"
DEFAULT_DAYS, MAX_DAYS = 90, 366
DEFAULT_RATE_LIMIT = 120  # requests per minute
WINDOW = timedelta(minutes=1)
INVALID = "Das Token ist ungültig, abgelaufen oder widerrufen."


@dataclass(frozen=True)
class Principal:
    """Who calls the API: the token (id, prefix, kind), the actor it acts as, its scopes and sites."""

    token_id: int
    prefix: str
    kind: str
    actor: Actor
    scopes: frozenset[str]
    sites: frozenset[str]  # system tokens only ('*' = every site)

    @property
    def is_system(self) -> bool:
        return self.kind == SYSTEM

    def acts_for(self, site: str) -> bool:
        """A system token acts for its sites; a personal token wherever its person's rights reach."""
        return not self.is_system or ALL_SITES in self.sites or site in self.sites


@dataclass(frozen=True)
class CreatedToken:
    """A new token: its secret text (shown once, never stored) and its row's facts."""

    token: str
    prefix: str
    expires_at: datetime


@dataclass(frozen=True)
class TokenInfo:
    """A token as lists show it (never the secret)."""

    prefix: str
    kind: str
    name: str
    scopes: tuple[str, ...]
    sites: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _checked(name: str, scopes: Iterable[str], allowed: Sequence[str], days: int) -> tuple[str, list[str]]:
    errors: dict[str, list[str]] = {}
    name = " ".join(name.split())
    chosen = sorted(set(scopes))
    if not 1 <= len(name) <= 100 or any(not ch.isprintable() for ch in name):
        errors["name"] = ["Bitte eine Bezeichnung mit 1 bis 100 druckbaren Zeichen angeben."]
    if not chosen or any(scope not in allowed for scope in chosen):
        errors["scopes"] = [f"Bitte einen oder mehrere Umfänge wählen aus: {', '.join(allowed)}."]
    if not 1 <= days <= MAX_DAYS:
        errors["tage"] = [f"Gültigkeit: 1 bis {MAX_DAYS} Tage."]
    if errors:
        raise FormValidationError(errors)
    return name, chosen


def _insert(session: Session, **values: object) -> CreatedToken:
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    row = ApiToken(prefix=prefix, secret_hash=secret_hash(secret), window_count=0, **values)
    session.add(row)
    session.flush()
    return CreatedToken(f"{PREFIX}{prefix}_{secret}", prefix, row.expires_at)


def create_system(
    session: Session, actor: Actor, name: str, scopes: Iterable[str], sites: Iterable[str], now: datetime,
    days: int = DEFAULT_DAYS, rate_limit: int = DEFAULT_RATE_LIMIT,
) -> CreatedToken:  # fmt: skip
    """A token for another system (the system only: ``egs token create-system``); audited.

    :raises PermissionDeniedError: not the system. :raises FormValidationError: bad name, scope, site or days.
    """
    if not actor.system:
        raise PermissionDeniedError("System-Token legt nur der Betrieb auf dem Server an (egs token create-system).")
    name, chosen = _checked(name, scopes, SYSTEM_SCOPES, days)
    where = sorted(set(sites))
    if not where or any(site != ALL_SITES and site not in SITES for site in where):
        raise FormValidationError({"sites": [f"Bitte Standorte angeben aus: {', '.join(SITES)} oder *."]})
    if not 1 <= rate_limit <= 100_000:
        raise FormValidationError({"rate_limit": ["Anfragen je Minute: 1 bis 100000."]})
    created = _insert(session, kind=SYSTEM, name=name, user_id=None, scopes=chosen, sites=where,
                      rate_limit=rate_limit, created_by=actor.username[:64], created_at=now,
                      expires_at=now + timedelta(days=days))  # fmt: skip
    audit.record(session, Action.API_TOKEN_CREATED, actor.username, details={
        "token": created.prefix, "art": SYSTEM, "bezeichnung": name, "umfang": chosen, "standorte": where,
        "gueltig_bis": created.expires_at.isoformat()})  # fmt: skip
    return created


def offered_scopes(actor: Actor) -> list[str]:
    """The scopes a person's token may carry: what the person could use (no scope that only gets refused)."""
    works = any(group in WORK_GROUPS for group in actor.groups)
    offered = [scope for scope in ("cases:start", "messages:send", "cases:read", "tasks:work") if works]
    if permissions.may_use_workbench(actor):
        offered.append("audit:read")
    return [*offered, "exports:read"]


def create_personal(
    session: Session, actor: Actor, name: str, scopes: Iterable[str], now: datetime, days: int = DEFAULT_DAYS
) -> CreatedToken:
    """A token of the actor for themself (*Mein Konto*); audited. :raises FormValidationError:"""
    if actor.user_id is None:
        raise AuthenticationError("Persönliche Token haben nur angemeldete Benutzer.")
    name, chosen = _checked(name, scopes, offered_scopes(actor), days)
    created = _insert(session, kind=PERSONAL, name=name, user_id=actor.user_id, scopes=chosen, sites=[],
                      rate_limit=DEFAULT_RATE_LIMIT, created_by=actor.username, created_at=now,
                      expires_at=now + timedelta(days=days))  # fmt: skip
    audit.record(session, Action.API_TOKEN_CREATED, actor.username, details={
        "token": created.prefix, "art": PERSONAL, "bezeichnung": name, "umfang": chosen,
        "gueltig_bis": created.expires_at.isoformat()})  # fmt: skip
    return created


def revoke(session: Session, actor: Actor, prefix: str, now: datetime) -> None:
    """Revoke a token: the system any token, a person their own; audited.

    :raises NotFoundError: no such token (or not the actor's).
    """
    query = sa.select(ApiToken).where(ApiToken.prefix == prefix)
    if not actor.system:
        query = query.where(ApiToken.user_id == actor.user_id, ApiToken.user_id.is_not(None))
    row = session.scalar(query.with_for_update())
    if row is None:
        raise NotFoundError("Dieses Token gibt es nicht.")
    if row.revoked_at is None:
        row.revoked_at = now
        audit.record(session, Action.API_TOKEN_REVOKED, actor.username, details={"token": prefix, "art": row.kind})


def tokens_of(session: Session, actor: Actor) -> list[TokenInfo]:
    """The actor's personal tokens (the system: every token), newest first."""
    query = sa.select(ApiToken).order_by(ApiToken.id.desc())
    if not actor.system:
        query = query.where(ApiToken.user_id == actor.user_id, ApiToken.user_id.is_not(None))
    return [
        TokenInfo(
            row.prefix,
            row.kind,
            row.name,
            tuple(row.scopes),
            tuple(row.sites),
            row.created_at,
            row.expires_at,
            row.revoked_at,
            row.last_used_at,
        )  # fmt: skip
        for row in session.scalars(query)
    ]


def _split(token: str) -> tuple[str, str] | None:
    if not token.startswith(PREFIX):
        return None
    prefix, _, secret = token[len(PREFIX) :].partition("_")
    if len(prefix) != 8 or not secret or len(secret) > 100:
        return None
    return prefix, secret


class Refused(Exception):
    """A known token refused (expired, revoked, without the scope): what to record, and the error to raise
    afterwards (the recording must outlive the refused request's rolled-back transaction)."""

    def __init__(self, error: EngineError, who: str, details: dict[str, str]) -> None:
        super().__init__(error.message)
        self.error, self.who, self.details = error, who, details


def authenticate(session: Session, token: str, scope: str, method: str, route: str, now: datetime) -> Principal:
    """The principal of a request's token, with its use counted in the minute's window and recorded.

    :raises AuthenticationError: unknown token. :raises Refused: expired or revoked token, its person disabled,
        or no ``scope`` (to be recorded). :raises RateLimitedError: too many requests in this minute (the
        count stops at the limit; refused requests are not recorded one by one).
    """
    parts = _split(token)
    row = session.scalar(sa.select(ApiToken).where(ApiToken.prefix == parts[0])) if parts else None
    if row is None or parts is None or not hmac.compare_digest(row.secret_hash, secret_hash(parts[1])):
        raise AuthenticationError(INVALID)
    who = _who(session, row)
    use = {"token": row.prefix, "methode": method, "route": route}
    if row.revoked_at is not None or row.expires_at <= now:
        raise Refused(AuthenticationError(INVALID), who, {**use, "grund": "ungueltig"})
    try:
        actor = _actor(session, row)
    except AuthenticationError as exc:
        raise Refused(exc, who, {**use, "grund": "benutzer_gesperrt"}) from exc
    if scope not in row.scopes:
        error = PermissionDeniedError(f"Dem Token fehlt der Umfang „{scope}“ ({SCOPES.get(scope, scope)}).")
        raise Refused(error, who, {**use, "grund": "umfang", "umfang": scope})
    count = _count(session, row, now)
    if count > row.rate_limit:
        window_end = (row.window_start or now) + WINDOW
        raise RateLimitedError(
            f"Zu viele Anfragen mit diesem Token (höchstens {row.rate_limit} je Minute).",
            retry_after=max(1, int((window_end - now).total_seconds() + 0.999)),
        )
    audit.record(session, Action.API_TOKEN_USED, who, details=use)
    return Principal(row.id, row.prefix, row.kind, actor, frozenset(row.scopes), frozenset(row.sites))


def _count(session: Session, row: ApiToken, now: datetime) -> int:
    """Count this request in the token's current minute, atomically (one UPDATE); return the count."""
    start = now.replace(second=0, microsecond=0)
    count = session.execute(
        sa.update(ApiToken)
        .where(ApiToken.id == row.id)
        .values(
            window_count=sa.case((ApiToken.window_start == start, ApiToken.window_count + 1), else_=1),
            window_start=start,
            last_used_at=now,
        )
        .returning(ApiToken.window_count)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    row.window_start = start
    return int(count)


def _who(session: Session, row: ApiToken) -> str:
    if row.user_id is None:
        return f"api:{row.name}"[:64]
    return session.scalar(sa.select(User.username).where(User.id == row.user_id)) or "?"


def _actor(session: Session, row: ApiToken) -> Actor:
    if row.kind == SYSTEM:
        return Actor(username=f"api:{row.name}"[:64], display_name=f"Schnittstelle {row.name}", grants=frozenset())
    return auth.load_actor(session, _who(session, row))


def require_site(principal: Principal, site: str) -> None:
    """:raises PermissionDeniedError: a system token acting for a site it is not made for."""
    if not principal.acts_for(site):
        raise PermissionDeniedError(f"Das Token handelt nicht für den Standort {site}.")


def require_person(principal: Principal) -> None:
    """:raises PermissionDeniedError: a system token where only a person's own rights can answer."""
    if principal.is_system:
        raise PermissionDeniedError("Dafür ist ein persönliches Token nötig (die Rechte einer Person).")


def may_view(principal: Principal, lanes: Iterable[str], site: str) -> bool:
    """A case's status: a system token at its sites, a person who may open the case."""
    if principal.is_system:
        return principal.acts_for(site)
    return permissions.may_view_case(principal.actor, lanes, site)
