"""The login throttle: failed logins per user name and per client address, kept in the database.

Issue 10 ("Login throttle") found the old one per process and in memory (three gunicorn workers allowed
three times the tries), counting *after* the password check (150 parallel wrong passwords got 58 checks),
locking the real user out (anyone could lock out a colleague), blind to one address trying many names,
and writing one audit row per refused try. Here:

* **Counted before the check, atomically.** ``reserve`` counts a try as failed and sets the block that
  follows from the new count in one write transaction (rows locked with ``FOR UPDATE`` on PostgreSQL,
  ``BEGIN IMMEDIATE`` on SQLite) before the password is checked; ``succeeded`` takes the count back.
  However many tries run at once, the number of password checks stays bounded.
* **Growing delays, per user name and per address.** The first ``free`` failures cost nothing; each
  further one blocks for ``first_delay`` · 2ⁿ, up to ``max_delay``. An address is blocked for every user
  name (one client spraying many names); a user name is blocked from addresses that failed before.
* **The right password still works from a clean address.** While a user name is blocked, a try from an
  address without failures of its own (the real user at their desk) is still checked – someone guessing a
  colleague's password slows down only themself. A success takes back only its own try, for the name and
  the address: the real user logging in does not wash the guesser's failures away, and neither does the
  guesser logging into an account of their own.
* **The trail gets a summary, not a row per refused try.** Failed checks are audited one by one as before
  (``login_failed``; bounded by this throttle); refused tries are counted on their row and written as one
  ``login_throttled`` event per user name or address and block, with the count, when the block is over.

Both kinds of rows are keyed ``benutzer:<name>`` / ``adresse:<address>``; an unknown user name is throttled
like a known one (no enumeration). After ``forget_after`` without a failure a row starts from zero again.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from . import audit
from .audit import Action
from .models import LoginThrottle

USER, ADDRESS = "benutzer", "adresse"


@dataclass(frozen=True)
class Limit:
    """``free`` failures without delay; then ``first_delay``, doubling with each further failure, at most
    ``max_delay``."""

    free: int
    first_delay: timedelta
    max_delay: timedelta

    def delay(self, failures: int) -> timedelta:
        if failures < self.free:
            return timedelta(0)
        seconds = self.first_delay.total_seconds() * 2 ** min(failures - self.free, 40)
        return min(self.max_delay, timedelta(seconds=seconds))


@dataclass(frozen=True)
class ThrottlePolicy:
    """The limits per user name and per client address (an address may stand for an office behind NAT,
    so it gets more free failures than one user name)."""

    per_user: Limit = field(default_factory=lambda: Limit(5, timedelta(seconds=2), timedelta(minutes=15)))
    per_address: Limit = field(default_factory=lambda: Limit(10, timedelta(seconds=1), timedelta(minutes=15)))
    forget_after: timedelta = timedelta(hours=1)


@dataclass(frozen=True)
class Refusal:
    """A try refused without checking the password: which limit, and seconds until the next try may run."""

    scope: str
    retry_after: int


def user_key(username: str) -> str:
    return f"{USER}:{username.strip().casefold()[:64]}"


def address_key(address: str) -> str:
    """The client address; IPv6 by its /64 network (one host usually has a whole /64)."""
    text = (address or "").strip()[:64]
    try:
        parsed = ipaddress.ip_address(text)
    except ValueError:
        return f"{ADDRESS}:{text or '?'}"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return f"{ADDRESS}:{parsed.ipv4_mapped}"
        return f"{ADDRESS}:{ipaddress.ip_network(f'{parsed}/64', strict=False)}"
    return f"{ADDRESS}:{parsed}"


def _blocked(row: LoginThrottle, now: datetime) -> bool:
    return row.blocked_until is not None and row.blocked_until > now


def _rows(session: Session, keys: list[str]) -> list[LoginThrottle]:
    """The rows of ``keys`` (created if missing), locked for the rest of the transaction, in key order."""
    keys = sorted(set(keys))  # one lock order everywhere: two logins never wait for each other in a circle
    table: Any = LoginThrottle.__table__
    dialect = session.get_bind().dialect.name
    insert: Any = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    session.execute(
        insert.values([{"key": key, "failures": 0, "refused": 0} for key in keys]).on_conflict_do_nothing(
            index_elements=["key"]
        )
    )
    query = sa.select(LoginThrottle).where(LoginThrottle.key.in_(keys)).order_by(LoginThrottle.key)
    return list(session.scalars(query.with_for_update().execution_options(populate_existing=True)))


def _refresh(session: Session, row: LoginThrottle, policy: ThrottlePolicy, now: datetime) -> None:
    """Write the summary of a block that is over; forget failures that are old enough."""
    close_window(session, row, now)
    if not _blocked(row, now) and row.last_failure_at is not None and now - row.last_failure_at > policy.forget_after:
        row.failures = 0
        row.last_failure_at = None
        row.blocked_until = None


def close_window(session: Session, row: LoginThrottle, now: datetime) -> bool:
    """If tries were refused during a block that is over now, write them to the trail as one event."""
    if not row.refused or _blocked(row, now):
        return False
    scope, _, who = row.key.partition(":")
    details: dict[str, Any] = {"bereich": scope, "abgewiesen": row.refused, "von": row.refused_from,
                               "bis": row.refused_until}  # fmt: skip
    if scope == ADDRESS:
        details["adresse"] = who
    audit.record(session, Action.LOGIN_THROTTLED, (who if scope == USER else "?")[:64] or "?", details=details)
    row.refused, row.refused_from, row.refused_until = 0, None, None
    return True


def _refuse(row: LoginThrottle, scope: str, until: datetime, now: datetime) -> Refusal:
    row.refused += 1
    row.refused_from = row.refused_from or now
    row.refused_until = now
    return Refusal(scope, max(1, math.ceil((until - now).total_seconds())))


def reserve(session: Session, username: str, address: str, policy: ThrottlePolicy, now: datetime) -> Refusal | None:
    """Before a password check: refuse the try, or count it as failed (taken back by ``succeeded``)."""
    user_row, address_row = _pair(session, username, address)
    for row in (user_row, address_row):
        _refresh(session, row, policy, now)
    blocks = [row.blocked_until for row in (user_row, address_row) if _blocked(row, now)]
    if _blocked(address_row, now) or (_blocked(user_row, now) and address_row.failures > 0):
        # Counted where it belongs in the trail: an address that is blocked tries many names.
        refused_row, scope = (address_row, ADDRESS) if _blocked(address_row, now) else (user_row, USER)
        return _refuse(refused_row, scope, max(until for until in blocks if until is not None), now)
    for row, limit in ((user_row, policy.per_user), (address_row, policy.per_address)):
        row.failures += 1
        row.last_failure_at = now
        delay = limit.delay(row.failures)
        if delay:
            until = now + delay
            row.blocked_until = max(until, row.blocked_until) if row.blocked_until else until
    return None


def succeeded(session: Session, username: str, address: str, policy: ThrottlePolicy, now: datetime) -> None:
    """After a correct password: the user name and the address get back the try ``reserve`` counted – no more:
    the failures before may be someone else's (a guesser's, or one's own at another address)."""
    user_row, address_row = _pair(session, username, address)
    for row, limit in ((user_row, policy.per_user), (address_row, policy.per_address)):
        row.failures = max(0, row.failures - 1)
        if not limit.delay(row.failures):
            row.blocked_until = None
        close_window(session, row, now)


def _pair(session: Session, username: str, address: str) -> tuple[LoginThrottle, LoginThrottle]:
    keys = {"user": user_key(username), "address": address_key(address)}
    rows = {row.key: row for row in _rows(session, list(keys.values()))}
    return rows[keys["user"]], rows[keys["address"]]


def housekeeping(session: Session, policy: ThrottlePolicy, now: datetime) -> int:
    """Write the summaries of blocks that are over; delete rows with nothing left to remember.

    Returns how many summaries were written. Safe in several processes at once (rows are skipped, not
    waited for, when another one holds them).
    """
    not_blocked = sa.or_(LoginThrottle.blocked_until.is_(None), LoginThrottle.blocked_until <= now)
    query = (
        sa.select(LoginThrottle)
        .where(LoginThrottle.refused > 0, not_blocked)
        .order_by(LoginThrottle.key)
        .with_for_update(skip_locked=True)
    )
    written = sum(close_window(session, row, now) for row in session.scalars(query))
    session.flush()
    last = LoginThrottle.last_failure_at
    forgotten = sa.or_(last.is_(None), last < now - policy.forget_after)
    session.execute(sa.delete(LoginThrottle).where(LoginThrottle.refused == 0, not_blocked, forgotten))
    return written
