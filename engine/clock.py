"""The engine's notion of "now": real time, or a fixed instant while firing timers or in tests.

Everything in the engine that depends on the time (timer due dates, "today" checks in forms, audit
timestamps) asks this module, so that ``fire_due_timers(now)`` and tests can run at a chosen instant.
Storage is UTC; the UI shows Europe/Berlin.

Security limits – how long a session may idle or live, how long a login stays blocked – run on the real
time (``wall_now``): moving the business time (``frozen``, e.g. a test looking at the inbox two weeks
later) must not log anybody out, and nothing a case does may lift a block. Tests move it with
``wall_frozen``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")

_fixed_now: ContextVar[datetime | None] = ContextVar("egs_fixed_now", default=None)
_fixed_wall: ContextVar[datetime | None] = ContextVar("egs_fixed_wall", default=None)


def now() -> datetime:
    """Return the current instant as an aware UTC datetime."""
    fixed = _fixed_now.get()
    return fixed if fixed is not None else datetime.now(UTC)


def wall_now() -> datetime:
    """The real current instant (aware UTC) for security limits; ``frozen`` does not move it."""
    fixed = _fixed_wall.get()
    return fixed if fixed is not None else datetime.now(UTC)


def today_berlin() -> date:
    """Return today's date in Europe/Berlin (the date a clerk sees on the wall calendar)."""
    return now().astimezone(BERLIN).date()


@contextmanager
def frozen(instant: datetime) -> Iterator[datetime]:
    """Run the block as if ``now()`` were ``instant`` (must be timezone-aware)."""
    with _pinned(_fixed_now, instant):
        yield instant


@contextmanager
def wall_frozen(instant: datetime) -> Iterator[datetime]:
    """Run the block as if ``wall_now()`` were ``instant`` (tests of session and login limits)."""
    with _pinned(_fixed_wall, instant):
        yield instant


@contextmanager
def _pinned(clock: ContextVar[datetime | None], instant: datetime) -> Iterator[None]:
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    token = clock.set(instant.astimezone(UTC))
    try:
        yield
    finally:
        clock.reset(token)


def parse_iso(value: str) -> datetime:
    """Parse an ISO 8601 timestamp; naive values are read as Europe/Berlin local time."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=BERLIN)
    return parsed.astimezone(UTC)
