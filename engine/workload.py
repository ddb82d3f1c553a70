"""Demand and capacity of a site's EGS per area (§ 6/§ 7), today and for the next 10 working days.

**Capacity** (hours): every EGS employee employed and not absent on a working day, plus everybody redeployed
into the site's EGS that day, contributes weekly hours ÷ 5 × the share of each area (as the FDL decided:
``engine.vzae_plan``). Public holidays of Lower Saxony and weekends have no capacity.

**Areas**: each open task and each new case counts in the area its deployed model names (property
``egsBereich`` of the process, or of the task where it names its own; ``engine.model_lint`` requires it).
A version deployed before the property existed counts as general administration.

**Demand** (hours): today the open EGS tasks of the site (expected minutes per task type, ``[aufwand]``)
plus the arrivals expected today; on later days the expected arrivals. **Forecast of arrivals**: the new
cases of the site per process in the last ``sicherstellung.prognose_wochen`` weeks, each weighted with
the expected EGS minutes per case of its process (``[aufwand.vorgaenge]``), averaged per weekday over
the working days with that weekday in those weeks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import clock
from .konfiguration import Konfiguration
from .models import HumanTask, ProcessInstance
from .staff import StaffRow, roster
from .staff_models import Redeployment
from .versions import SpecCache
from .vzae_plan import AREAS, ShareMode, effective_shares, round2, share_mode
from .working_days import holiday_name, is_working_day, next_working_days, working_days_between

HORIZON = 10  # working days after today
FALLBACK_AREA = "allgemeine_verwaltung"
HOURS_PER_DAY_DIVISOR = Decimal(5)


@dataclass(frozen=True)
class DayFigures:
    """One day: who is there and how capacity compares with demand (hours per area)."""

    day: date
    holiday: str | None
    present: tuple[str, ...]  # names of EGS staff present (redeployed ones included)
    absent: tuple[str, ...]
    redeployed: tuple[str, ...]
    capacity: dict[str, Decimal]
    demand: dict[str, Decimal]

    @property
    def working(self) -> bool:
        return is_working_day(self.day)

    @property
    def capacity_total(self) -> Decimal:
        return sum(self.capacity.values(), Decimal(0))

    @property
    def demand_total(self) -> Decimal:
        return sum(self.demand.values(), Decimal(0))

    @property
    def coverage_percent(self) -> int | None:
        """Capacity in percent of demand (None when there is no demand)."""
        if self.demand_total == 0:
            return None
        return int(round2(self.capacity_total * 100 / self.demand_total))


@dataclass(frozen=True)
class Workload:
    site: str
    at: datetime
    mode: ShareMode
    open_tasks: dict[str, int]
    overdue_tasks: dict[str, int]
    backlog: dict[str, Decimal]  # hours of the open tasks
    forecast_weeks: int
    days: list[DayFigures]  # today first, then the next HORIZON working days
    egs_staff: int  # EGS staff employed today (0: no staff recorded, the risk rule is not applied)

    @property
    def today(self) -> DayFigures:
        return self.days[0]

    @property
    def overdue_total(self) -> int:
        return sum(self.overdue_tasks.values())


class Areas:
    """The area of a task or a case, read from the deployed version it runs on (parsed once, cached)."""

    def __init__(self, session: Session, specs: SpecCache) -> None:
        self.session = session
        self.specs = specs

    def of(self, version_id: int, task_spec_id: str | None = None) -> str:
        area = self.specs.get(self.session, version_id).model.area_of(task_spec_id)
        return area if area in AREAS else FALLBACK_AREA


def task_minutes(konfig: Konfiguration, task_spec_id: str) -> Decimal:
    aufwand = konfig.values.get("aufwand", {})
    return Decimal(str(aufwand.get("aufgaben", {}).get(task_spec_id, aufwand.get("standard_minuten", 20))))


def case_minutes(konfig: Konfiguration, process_id: str) -> Decimal:
    aufwand = konfig.values.get("aufwand", {})
    return Decimal(str(aufwand.get("vorgaenge", {}).get(process_id, aufwand.get("vorgang_standard_minuten", 30))))


def _zero() -> dict[str, Decimal]:
    return {area: Decimal(0) for area in AREAS}


def redeployed_on(session: Session, site: str, first: date, last: date) -> dict[int, list[tuple[date, date]]]:
    """Staff ids redeployed into the site's EGS with their periods overlapping [first, last] (ended early:
    the grant is gone and the period was shortened)."""
    rows = session.execute(
        sa.select(Redeployment.staff_id, Redeployment.first_day, Redeployment.last_day).where(
            Redeployment.site == site, Redeployment.first_day <= last, Redeployment.last_day >= first
        )
    ).all()
    periods: dict[int, list[tuple[date, date]]] = defaultdict(list)
    for staff_id, start, end in rows:
        periods[staff_id].append((start, end))
    return periods


def capacity_on(
    konfig: Konfiguration, shares: dict[str, Decimal], staff: list[StaffRow],
    redeployed: dict[int, list[tuple[date, date]]], day: date,
) -> tuple[dict[str, Decimal], list[str], list[str], list[str]]:  # fmt: skip
    """Capacity hours per area on ``day`` and the names present, absent and redeployed."""
    capacity, present, absent, moved = _zero(), [], [], []
    working = is_working_day(day)
    for person in staff:
        is_moved = any(a <= day <= b for a, b in redeployed.get(person.id, ()))
        if not person.employed_on(day) or (person.function != "EGS" and not is_moved):
            continue
        if person.absent_on(day):
            absent.append(person.name)
            continue
        if not working:
            continue
        present.append(person.name)
        if is_moved:
            moved.append(person.name)
        for area, share in shares.items():
            capacity[area] += person.weekly_hours / HOURS_PER_DAY_DIVISOR * share
    return {a: round2(v) for a, v in capacity.items()}, present, absent, moved


def forecast(
    session: Session, konfig: Konfiguration, areas: Areas, site: str, today: date, weeks: int
) -> dict[int, dict[str, Decimal]]:
    """Expected arrival hours per weekday (0 = Monday) and area, from the last ``weeks`` weeks."""
    first = today - timedelta(weeks=weeks)
    start = datetime.combine(first, time(0), clock.BERLIN)
    end = datetime.combine(today, time(0), clock.BERLIN)
    rows = session.execute(
        sa.select(ProcessInstance.process_id, ProcessInstance.version_id, ProcessInstance.created_at).where(
            ProcessInstance.site == site, ProcessInstance.created_at >= start, ProcessInstance.created_at < end
        )
    ).all()
    minutes: dict[int, dict[str, Decimal]] = {wd: _zero() for wd in range(5)}
    for process_id, version_id, created_at in rows:
        day = created_at.astimezone(clock.BERLIN).date()
        if day.weekday() < 5:
            minutes[day.weekday()][areas.of(version_id)] += case_minutes(konfig, process_id)
    counts: dict[int, int] = defaultdict(int)
    for day in working_days_between(first, today - timedelta(days=1)):
        counts[day.weekday()] += 1
    return {
        wd: {area: round2(m / 60 / counts[wd]) if counts[wd] else Decimal(0) for area, m in by_area.items()}
        for wd, by_area in minutes.items()
    }


def workload(session: Session, konfig: Konfiguration, site: str, specs: SpecCache) -> Workload:
    """The site's demand and capacity, now and for the next ``HORIZON`` working days."""
    now = clock.now()
    today = clock.today_berlin()
    mode = share_mode(session, site)
    shares = effective_shares(konfig, mode.mode)
    staff = roster(session, site)
    open_tasks: dict[str, int] = dict.fromkeys(AREAS, 0)
    overdue: dict[str, int] = dict.fromkeys(AREAS, 0)
    backlog = _zero()
    areas = Areas(session, specs)
    tasks = session.execute(
        sa.select(ProcessInstance.version_id, HumanTask.task_spec_id, HumanTask.due_at)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(HumanTask.site == site, HumanTask.lane == "EGS")
    ).all()
    for version_id, spec_id, due_at in tasks:
        area = areas.of(version_id, spec_id)
        open_tasks[area] += 1
        backlog[area] += task_minutes(konfig, spec_id) / 60
        if due_at is not None and due_at < now:
            overdue[area] += 1
    weeks = int(konfig.values.get("sicherstellung", {}).get("prognose_wochen", 4))
    expected = forecast(session, konfig, areas, site, today, weeks)
    days_ahead = next_working_days(today + timedelta(days=1), HORIZON)
    redeployed = redeployed_on(session, site, today, days_ahead[-1])
    days = []
    for day in [today, *days_ahead]:
        capacity, present, absent, moved = capacity_on(konfig, shares, staff, redeployed, day)
        arrivals = expected.get(day.weekday(), _zero()) if is_working_day(day) else _zero()
        demand = {a: round2(arrivals[a] + (backlog[a] if day == today else 0)) for a in AREAS}
        days.append(DayFigures(day, holiday_name(day), tuple(present), tuple(absent), tuple(moved), capacity, demand))
    egs_staff = sum(1 for p in staff if p.function == "EGS" and p.employed_on(today))
    backlog_hours = {a: round2(v) for a, v in backlog.items()}
    return Workload(site, now, mode, open_tasks, overdue, backlog_hours, weeks, days, egs_staff)
