"""Geometry of the server-rendered SVG chart on the staffing dashboard: capacity vs demand per day.

Only numbers and labels; the template draws them (no script, no CDN). The same numbers are in the table
next to the chart, so that nobody depends on the picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.workload import DayFigures

WIDTH, HEIGHT = 760, 240
LEFT, BOTTOM, TOP = 48, 36, 12
BAR = 14


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    height: float
    value: Decimal


@dataclass(frozen=True)
class Column:
    label: str
    capacity: Bar
    demand: Bar
    short: bool  # capacity below demand


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    base: float
    columns: list[Column]
    ticks: list[tuple[float, str]]


def chart(days: list[DayFigures]) -> Chart:
    """Two bars per day (capacity, demand) on a common hour scale."""
    top = max([d.capacity_total for d in days] + [d.demand_total for d in days] + [Decimal(1)])
    plot = HEIGHT - BOTTOM - TOP
    step = (WIDTH - LEFT - 8) / max(len(days), 1)

    def bar(x: float, value: Decimal) -> Bar:
        h = float(value / top) * plot
        return Bar(round(x, 1), round(HEIGHT - BOTTOM - h, 1), round(h, 1), value)

    columns = [
        Column(d.day.strftime("%d.%m."), bar(LEFT + i * step + 4, d.capacity_total),
               bar(LEFT + i * step + 4 + BAR, d.demand_total), d.capacity_total < d.demand_total)
        for i, d in enumerate(days)
    ]  # fmt: skip
    ticks = [(round(HEIGHT - BOTTOM - plot * f, 1), f"{float(top) * f:.0f} h") for f in (0, 0.5, 1)]
    return Chart(WIDTH, HEIGHT, HEIGHT - BOTTOM, columns, ticks)
