"""The what-if comparison for a site: inputs with their defaults, the two scenarios, and the VZÄ needed.

The staff comes from the site's staffing tables ("bestand": staff, absences, redeployments, the FDL's decision on
the VZÄ shares, per working day of Lower Saxony: ``simulation_staff``) or, where none is recorded or the lead
prefers, from the entered VZÄ and absence days ("eingabe"). Public holidays are never simulated days.
"Wie jetzt" runs that staff; "plus eine umgesetzte LSB-Kraft" adds one full-time clerk (§ 7). Each
scenario is the mean of ``replications`` seeded runs (seed, seed+1, …: the same inputs give the same
figures). The VZÄ needed is the smallest staff (in steps of 0.5) whose share of late EGS tasks stays
within the configured tolerance, found by bisection over seeded runs (common random numbers).
"""

from __future__ import annotations

import math
import statistics
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .errors import RuleViolationError
from .konfiguration import Konfiguration
from .models import HumanTask
from .simulation import (
    DAY,
    MAX_VZAE,
    POOLED_LANE,
    EnteredStaff,
    Paths,
    RunResult,
    RunSettings,
    StaffPlan,
    Workload,
    run,
)  # fmt: skip
from .simulation_history import arrival_forecast, path_counts
from .simulation_model import routing_of
from .simulation_staff import RosterStaff, roster_staff
from .versions import SpecCache, newest_versions
from .working_days import next_working_days

DAYS = 20  # four weeks of working days
MAX_REPLICATIONS = 10
MAX_ARRIVALS_PER_DAY = 10_000.0
WALL_SECONDS = 10.0  # for the whole comparison, every run included
EXTRA_CLERK_VZAE = 1.0
STAFF_SOURCES = {
    "bestand": "aus dem Personalbestand (Beschäftigte, Abwesenheiten, Umsetzungen, Feiertage, VZÄ-Anteile)",
    "eingabe": "wie eingegeben (VZÄ und Abwesenheitstage)",
}


@dataclass(frozen=True)
class SimulationInputs:
    """What the FDL or TL enters (or accepts from the forecast and the configuration)."""

    site: str
    arrivals: Mapping[str, float]  # process id → cases per working day; missing: the weekday forecast
    vzae: float
    absence_days: float
    hours_per_week: float
    productive_share: float
    default_minutes: float
    deadline_days: float
    initial_backlog: int
    seed: int = 1
    replications: int = 2
    staff_source: str = "eingabe"  # "bestand": the staffing tables; "eingabe": vzae and absence_days

    def check(self) -> None:
        """:raises RuleViolationError: for numbers outside what the simulation accepts (German message)."""
        problems = []
        if self.staff_source not in STAFF_SOURCES:
            problems.append("Personal aus dem Bestand oder wie eingegeben")
        if not 0 <= self.vzae <= MAX_VZAE:
            problems.append(f"VZÄ zwischen 0 und {MAX_VZAE:g}")
        if not 0 <= self.absence_days <= DAYS * MAX_VZAE:
            problems.append("Abwesenheitstage zwischen 0 und 2000")
        if not 1 <= self.hours_per_week <= 60:
            problems.append("Wochenstunden zwischen 1 und 60")
        if not 0.05 <= self.productive_share <= 1:
            problems.append("Anteil für Aufgaben zwischen 0,05 und 1")
        if not 0.5 <= self.default_minutes <= 480:
            problems.append("Minuten je Aufgabe zwischen 0,5 und 480")
        if not 0.1 <= self.deadline_days <= DAYS:
            problems.append("Frist zwischen 0,1 und 20 Arbeitstagen")
        if not 0 <= self.initial_backlog <= 100_000:
            problems.append("Bestand zwischen 0 und 100000")
        if not 1 <= self.replications <= MAX_REPLICATIONS or not 0 <= self.seed < 2**31:
            problems.append(f"1 bis {MAX_REPLICATIONS} Läufe, Startwert ab 0")
        if any(not 0 <= n <= MAX_ARRIVALS_PER_DAY for n in self.arrivals.values()):
            problems.append("Zugänge je Arbeitstag zwischen 0 und 10000")
        if problems:
            raise RuleViolationError("Bitte prüfen: " + "; ".join(problems) + ".")


@dataclass(frozen=True)
class ProcessDefault:
    """A deployed process on the form: its forecast per weekday and their mean."""

    process_id: str
    name: str
    forecast: tuple[float, ...]

    @property
    def per_day(self) -> float:
        return round(sum(self.forecast) / 5, 2)


@dataclass(frozen=True)
class ScenarioResult:
    """Mean figures of one scenario over its runs."""

    title: str
    vzae: float  # mean VZÄ present per day
    cases: float
    tasks: float
    done: float
    overdue: float
    overdue_share: float
    backlog: tuple[float, ...]
    wait_mean_days: float | None
    wait_p90_days: float | None
    utilisation: float
    present: tuple[float, ...] = ()  # VZÄ present on each simulated day


@dataclass(frozen=True)
class SimulationReport:
    """The comparison of "Wie jetzt" and "plus eine LSB-Kraft", and the VZÄ needed to keep the deadlines."""

    site: str
    days: tuple[date, ...]
    scenarios: tuple[ScenarioResult, ...]
    vzae_needed: float | None  # None: more than the search tried
    search_limit: float
    tolerance: float
    notes: tuple[str, ...]
    capped: bool
    timed_out: bool
    elapsed_ms: int
    branch_shares: tuple[tuple[str, str, float, int], ...] = field(default=())  # (choice, way, share, cases)
    staff_source: str = "eingabe"
    staff: RosterStaff | None = None  # the staffing tables as counted (also shown when the entered staff ran)


def simulated_days(today: date) -> list[date]:
    """The ``DAYS`` working days of Lower Saxony after ``today``."""
    return next_working_days(today + timedelta(days=1), DAYS)


def defaults(session: Session, specs: SpecCache, konfig: Konfiguration, site: str, today: date) -> tuple[
    SimulationInputs, list[ProcessDefault], RosterStaff | None
]:  # fmt: skip
    """The form's starting values: the forecast per process, the staff from the staffing tables (where the site has
    EGS staff recorded; else the configured VZÄ, entered) and the configured times."""
    forecast = arrival_forecast(session, site, today)
    processes = [
        ProcessDefault(v.process_id, v.name, tuple(forecast.get(v.process_id, [0.0] * 5)))
        for v in newest_versions(session, specs)
        if any(info.lane == POOLED_LANE and info.is_user_task for info in v.model.tasks.values())
        and (v.model.sites is None or site in v.model.sites)
    ]
    backlog = session.scalar(
        sa.select(sa.func.count()).select_from(HumanTask).where(HumanTask.site == site, HumanTask.lane == POOLED_LANE)
    )
    staff = roster_staff(session, konfig, site, simulated_days(today))
    inputs = SimulationInputs(
        site=site,
        arrivals={p.process_id: p.per_day for p in processes},
        vzae=staff.on_books if staff else float(konfig.get("simulation.vzae_egs").get(site, 0.0)),
        absence_days=staff.absence_vzae_days if staff else 0.0,
        hours_per_week=float(konfig.get("simulation.wochenstunden")),
        productive_share=float(konfig.get("simulation.produktive_zeit")),
        default_minutes=float(konfig.get("simulation.minuten_standard")),
        deadline_days=float(konfig.get("simulation.frist_arbeitstage")),
        initial_backlog=int(backlog or 0),
        staff_source="bestand" if staff else "eingabe",
    )
    return inputs, processes, staff


@dataclass(frozen=True)
class Prepared:
    """What a comparison needs from the database, read in one short reading transaction."""

    workloads: tuple[Workload, ...]
    notes: tuple[str, ...]
    branch_shares: tuple[tuple[str, str, float, int], ...]
    staff: RosterStaff | None = None


def prepare(
    session: Session, specs: SpecCache, konfig: Konfiguration, inputs: SimulationInputs, today: date
) -> Prepared:
    """Walk the deployed models of the entered processes, read their history and the site's staff.

    :raises RuleViolationError: for bad inputs, or staff from the tables where the site has none recorded.
    """
    inputs.check()
    staff = roster_staff(session, konfig, inputs.site, simulated_days(today))
    if inputs.staff_source == "bestand" and staff is None:
        raise RuleViolationError(
            f"Für den Standort {inputs.site} ist kein EGS-Personal erfasst (Seite Personallage). Bitte das Personal "
            "„wie eingegeben“ rechnen."
        )
    forecast = arrival_forecast(session, inputs.site, today)
    workloads: list[Workload] = []
    notes: list[str] = []
    shares: list[tuple[str, str, float, int]] = []
    for version in newest_versions(session, specs):
        per_day = inputs.arrivals.get(version.process_id, 0.0)
        if per_day <= 0:
            continue
        profile = forecast.get(version.process_id)
        mean = sum(profile) / 5 if profile else 0.0
        weekdays = [n * per_day / mean for n in profile] if profile and mean > 0 else [per_day] * 5
        routing = routing_of(version.model, version.version, konfig.get)
        counts = path_counts(session, version.process_id, routing.nodes)
        paths = Paths(routing, counts)
        workloads.append(Workload(routing, paths, weekdays))
        notes.extend(f"{version.name}: {note}" for note in routing.notes)
        if not counts.cases:
            notes.append(f"{version.name}: keine Fallhistorie – Verzweigungen gleich verteilt.")
        for node in routing.choices():
            for flow in node.outgoing if node.kind == "choice" else ():
                target = routing.nodes.get(flow.target)
                shares.append((node.name, target.name if target else flow.target, paths.share(node.id, flow.target),
                               counts.cases))  # fmt: skip
    return Prepared(tuple(workloads), tuple(dict.fromkeys(notes)), tuple(shares), staff)


# One comparison at a time per process: a second lead pressing the button meanwhile is told to wait, so that
# simulations never take more than one of a web process's threads (each is bounded by ``WALL_SECONDS``).
_RUNNING = threading.BoundedSemaphore(1)


def simulate(prepared: Prepared, konfig: Konfiguration, inputs: SimulationInputs, today: date) -> SimulationReport:
    """Run both scenarios and the search for the VZÄ needed (no database: nothing is locked meanwhile).

    :raises RuleViolationError: while another simulation runs in this process.
    """
    if not _RUNNING.acquire(blocking=False):
        raise RuleViolationError("Gerade läuft schon eine Simulation. Bitte in einigen Sekunden erneut versuchen.")
    try:
        return _simulate(prepared, konfig, inputs, today)
    finally:
        _RUNNING.release()


def _simulate(prepared: Prepared, konfig: Konfiguration, inputs: SimulationInputs, today: date) -> SimulationReport:
    started = time.monotonic()
    workloads = list(prepared.workloads)
    days = simulated_days(today)
    settings = RunSettings(
        days=DAYS, first_weekday=days[0].weekday(), weekdays=tuple(day.weekday() for day in days),
        day_minutes=inputs.hours_per_week / 5 * 60 * inputs.productive_share,
        minutes=_minutes(konfig), default_minutes=inputs.default_minutes, deadline_days=inputs.deadline_days,
        initial_backlog=inputs.initial_backlog, seed=inputs.seed,
    )  # fmt: skip
    budget = started + WALL_SECONDS
    staff = prepared.staff if inputs.staff_source == "bestand" else None
    now = _scenario("Wie jetzt", workloads, _staff(inputs, staff, 0.0), inputs, settings, budget)
    plus = _scenario("Plus eine umgesetzte LSB-Kraft", workloads, _staff(inputs, staff, EXTRA_CLERK_VZAE), inputs,
                     settings, budget)  # fmt: skip
    tolerance = float(konfig.get("simulation.zulaessig_verspaetet"))
    needed, limit, searched = _vzae_needed(workloads, inputs, staff, settings, tolerance, budget, now[2])
    return SimulationReport(
        site=inputs.site, days=tuple(days), scenarios=(now[0], plus[0]), vzae_needed=needed, search_limit=limit,
        tolerance=tolerance, notes=prepared.notes, capped=now[1].capped or plus[1].capped,
        timed_out=now[1].timed_out or plus[1].timed_out or searched.timed_out,
        elapsed_ms=round((time.monotonic() - started) * 1000), branch_shares=prepared.branch_shares,
        staff_source=inputs.staff_source, staff=prepared.staff,
    )  # fmt: skip


def _minutes(konfig: Konfiguration) -> dict[str, float]:
    table: Any = konfig.get("simulation.minuten")
    return {f"{pid}.{task}": float(value) for pid, tasks in table.items() for task, value in tasks.items()}


def _staff(inputs: SimulationInputs, roster: RosterStaff | None, extra: float) -> StaffPlan:
    """The staff of a scenario: the staffing tables' (``roster``) or the entered, with ``extra`` VZÄ on top."""
    if roster is not None:
        return roster.plus(extra)
    return EnteredStaff(inputs.vzae, inputs.absence_days, DAYS, extra)


def _books(inputs: SimulationInputs, roster: RosterStaff | None, vzae: float) -> EnteredStaff:
    """``vzae`` on the books with the period's absences (and the shares' sum) of the staffing tables or the entry."""
    if roster is not None:
        return EnteredStaff(vzae, roster.absence_vzae_days, DAYS, factor=roster.share_sum)
    return EnteredStaff(vzae, inputs.absence_days, DAYS)


def _budgeted(settings: RunSettings, budget: float) -> RunSettings:
    return replace(settings, wall_seconds=max(budget - time.monotonic(), 0.05))


def _scenario(
    title: str, workloads: list[Workload], staff: StaffPlan, inputs: SimulationInputs, settings: RunSettings,
    budget: float,
) -> tuple[ScenarioResult, RunResult, float]:  # fmt: skip
    runs = [
        run(workloads, staff, _budgeted(replace(settings, seed=inputs.seed + i), budget))
        for i in range(inputs.replications)
    ]
    waits = sorted(w / DAY for r in runs for w in r.first_contact_waits)
    tasks = statistics.fmean(r.tasks for r in runs)
    overdue = statistics.fmean(r.overdue for r in runs)
    capacity = statistics.fmean(r.capacity_minutes for r in runs)
    merged = RunResult(capped=any(r.capped for r in runs), timed_out=any(r.timed_out for r in runs))
    result = ScenarioResult(
        title=title,
        vzae=round(statistics.fmean(staff.present_vzae(d) for d in range(DAYS)), 2),
        cases=statistics.fmean(r.cases for r in runs),
        tasks=tasks,
        done=statistics.fmean(r.done for r in runs),
        overdue=overdue,
        overdue_share=overdue / tasks if tasks else 0.0,
        backlog=tuple(statistics.fmean(r.backlog[d] if d < len(r.backlog) else 0 for r in runs) for d in range(DAYS)),
        wait_mean_days=statistics.fmean(waits) if waits else None,
        wait_p90_days=waits[min(int(len(waits) * 0.9), len(waits) - 1)] if waits else None,
        utilisation=statistics.fmean(r.busy_minutes for r in runs) / capacity if capacity else 0.0,
        present=tuple(round(staff.present_vzae(d), 2) for d in range(DAYS)),
    )
    return result, merged, statistics.fmean(r.work_minutes for r in runs)


def _vzae_needed(
    workloads: list[Workload], inputs: SimulationInputs, roster: RosterStaff | None, settings: RunSettings,
    tolerance: float, budget: float, work_minutes: float,
) -> tuple[float | None, float, RunResult]:  # fmt: skip
    """Bisection over VZÄ (halves) with one seeded run each: the smallest staff within the tolerance.

    The bracket starts at the work that came up in "Wie jetzt" (``work_minutes``): below three quarters of the
    staff that work needs at full use the backlog grows by a quarter of it, far beyond any tolerance.
    """
    last = RunResult()

    def keeps(vzae: float) -> bool:
        nonlocal last
        last = run(workloads, _books(inputs, roster, vzae), _budgeted(settings, budget))
        return not last.timed_out and (last.overdue / last.tasks if last.tasks else 0.0) <= tolerance

    absent = (roster.absence_vzae_days if roster else inputs.absence_days) / DAYS
    busy = work_minutes / (DAYS * settings.day_minutes) if settings.day_minutes else 0.0
    low = math.floor((0.75 * busy + absent) * 2) / 2 if busy > 2 else 0.0
    high = min(math.ceil((1.5 * busy + absent + 1) * 2) / 2, MAX_VZAE)
    while not keeps(high):
        if high >= MAX_VZAE or last.timed_out:
            return None, high, last
        low, high = high, min(high * 2, MAX_VZAE)
    lo, hi = round(low * 2), round(high * 2)  # in halves: lo fails (or is the floor of the bracket), hi keeps
    while hi - lo > 1 and time.monotonic() < budget:
        mid = (lo + hi) // 2
        if keeps(mid / 2):
            hi = mid
        else:
            lo = mid
    return hi / 2, high, last
