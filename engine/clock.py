"""The engine's notion of "now": real time, or a fixed instant while firing timers or in tests.

Everything in the engine that depends on the time (timer due dates, "today" checks in forms, audit
timestamps) asks this module, so that ``fire_due_timers(now)`` and tests can run at a chosen instant.
Storage is UTC; the UI shows Europe/Berlin.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")

_fixed_now: ContextVar[datetime | None] = ContextVar("egs_fixed_now", default=None)


def now() -> datetime:
    """Return the current instant as an aware UTC datetime."""
    fixed = _fixed_now.get()
    return fixed if fixed is not None else datetime.now(UTC)


def today_berlin() -> date:
    """Return today's date in Europe/Berlin (the date a clerk sees on the wall calendar)."""
    return now().astimezone(BERLIN).date()


@contextmanager
def frozen(instant: datetime) -> Iterator[datetime]:
    """Run the block as if ``now()`` were ``instant`` (must be timezone-aware)."""
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    token = _fixed_now.set(instant.astimezone(UTC))
    try:
        yield instant
    finally:
        _fixed_now.reset(token)


def parse_iso(value: str) -> datetime:
    """Parse an ISO 8601 timestamp; naive values are read as Europe/Berlin local time."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=BERLIN)
    return parsed.astimezone(UTC)
