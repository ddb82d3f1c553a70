"""Working days of Lower Saxony (Niedersachsen): Monday to Friday without its public holidays.

The holidays come from the ``holidays`` library (kept up to date by its maintainers), never from a
hand-written list.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from functools import cache

import holidays

SUBDIVISION = "NI"  # Niedersachsen: the Landkreis Göttingen


@cache
def _holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("DE", subdiv=SUBDIVISION, years=year, language="de")


def holiday_name(day: date) -> str | None:
    """The name of the public holiday on ``day`` in Lower Saxony, or None."""
    name = _holidays(day.year).get(day)
    return str(name) if name else None


def is_working_day(day: date) -> bool:
    """Monday to Friday and no public holiday in Lower Saxony."""
    return day.weekday() < 5 and holiday_name(day) is None


def next_working_days(start: date, count: int) -> list[date]:
    """``count`` working days from ``start`` on (``start`` included when it is one)."""
    days: list[date] = []
    day = start
    while len(days) < count:
        if is_working_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def working_days_between(first: date, last: date) -> Iterator[date]:
    """The working days from ``first`` to ``last``, both included."""
    day = first
    while day <= last:
        if is_working_day(day):
            yield day
        day += timedelta(days=1)
