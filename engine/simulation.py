"""The discrete-event simulation (SimPy) of one site's work over the coming working days.

Cases arrive per working day (Poisson, spread over the working hours) and walk the routing graph of their
deployed model (``simulation_model``), choosing ways as often as the case history did (``Paths``). User
tasks of the pooled lane (EGS) queue first come, first served for the clerks present that day (a task not
finished when a clerk's day ends is taken up first the next day); tasks of
other lanes take their time without queueing (their staff is not simulated). Time runs in minutes over
working days only: day ``d`` is ``[d·1440, (d+1)·1440)``, its working hours the first ``day_minutes``.

Bounded by construction: at most ``MAX_CASES`` cases and ``MAX_STEPS`` elements per case, at most
``MAX_VZAE`` clerks, and a wall-clock budget checked eight times per simulated day; a run that hits a bound
says so (``capped`` / ``timed_out``) instead of running on.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import simpy

from .simulation_history import PathCounts
from .simulation_model import Node, Routing

DAY = 1440.0
MAX_CASES = 5000
MAX_STEPS = 100
MAX_VZAE = 100.0
POOLED_LANE = "EGS"


class StaffPlan(Protocol):
    """Seam for the staff of the pooled lane: the VZÄ present on each simulated working day (entered figures:
    ``EnteredStaff``; the staffing tables of the site: ``simulation_staff.RosterStaff``)."""

    def present_vzae(self, day: int) -> float: ...


@dataclass(frozen=True)
class EnteredStaff:
    """Staff as entered on the form: ``vzae`` on the books, ``absence_days`` person-days absent in the period
    (spread evenly over its ``days``), each present VZÄ counted ``factor`` times (the sum of the VZÄ shares where
    the staffing tables supply the staff), plus ``extra_vzae`` (a redeployed clerk)."""

    vzae: float
    absence_days: float
    days: int
    extra_vzae: float = 0.0
    factor: float = 1.0

    def present_vzae(self, day: int) -> float:
        present = (self.vzae - self.absence_days / max(self.days, 1)) * self.factor + self.extra_vzae
        return min(max(present, 0.0), MAX_VZAE)


class Paths:
    """Which way a case takes at a choice: as often as the case history did (no history: evenly at gateways,
    and a task's boundary events never fire)."""

    def __init__(self, routing: Routing, counts: PathCounts) -> None:
        self.weights: dict[str, tuple[list[str], list[float]]] = {}
        for node in routing.choices():
            if node.kind == "choice" and len(node.outgoing) > 1:
                targets = [flow.target for flow in node.outgoing]
                weights = [float(counts.steps[(node.id, target)]) for target in targets]
                if not any(weights):
                    weights = [1.0] * len(targets)
                self.weights[node.id] = (targets, weights)
            if node.boundaries:
                outcomes = ["", *node.boundaries]
                weights = [float(counts.visits[node.id]), *(float(counts.visits[b]) for b in node.boundaries)]
                self.weights[node.id + "#"] = (
                    outcomes,
                    weights if any(weights) else [1.0] + [0.0] * len(node.boundaries),
                )

    def share(self, node_id: str, target: str) -> float:
        targets, weights = self.weights.get(node_id, ([], []))
        total = sum(weights)
        return sum(w for t, w in zip(targets, weights, strict=True) if t == target) / total if total else 0.0

    def pick(self, key: str, rng: random.Random) -> str | None:
        choice = self.weights.get(key)
        return None if choice is None else rng.choices(choice[0], choice[1])[0]


@dataclass(frozen=True)
class Workload:
    """One process's part in a run: its routing, ways, and mean arrivals per weekday (Monday … Friday)."""

    routing: Routing
    paths: Paths
    arrivals: Sequence[float]


@dataclass(frozen=True)
class RunSettings:
    """Everything one run needs besides the workloads and the staff."""

    days: int
    first_weekday: int  # weekday (0 = Monday) of simulated day 0; the following days skip weekends
    day_minutes: float  # working minutes of one full-time clerk per day
    minutes: Mapping[str, float]  # mean minutes per task ('process id.BPMN id'); others: ``default_minutes``
    default_minutes: float
    deadline_days: float  # working days a task of the pooled lane may wait until it is done
    initial_backlog: int = 0
    seed: int = 1
    wall_seconds: float = 5.0
    weekdays: tuple[int, ...] = ()  # weekday of each simulated day (holidays skipped); empty: from first_weekday


@dataclass
class RunResult:
    """Figures of one run."""

    cases: int = 0
    tasks: int = 0
    done: int = 0
    overdue: int = 0
    busy_minutes: float = 0.0
    work_minutes: float = 0.0  # minutes of every task of the pooled lane that came up (done or not)
    capacity_minutes: float = 0.0
    backlog: list[int] = field(default_factory=list)  # open tasks of the pooled lane at the end of each day
    first_contact_waits: list[float] = field(default_factory=list)  # minutes from arrival to the first task
    capped: bool = False
    timed_out: bool = False
    cut_paths: int = 0  # cases that reached ``MAX_STEPS`` (a loop the history sends round too often)


@dataclass
class _Item:
    minutes: float
    created: float
    deadline: float
    done: simpy.Event
    remaining: float = 0.0
    started: float | None = None
    finished: float | None = None


def weekday_of(settings: RunSettings, day: int) -> int:
    """Weekday (0–4) of simulated working day ``day``."""
    if day < len(settings.weekdays):
        return settings.weekdays[day]
    return (settings.first_weekday + day) % 5


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth for small means, the normal approximation above 30)."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, product, count = math.exp(-mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


def run(workloads: Sequence[Workload], staff: StaffPlan, settings: RunSettings) -> RunResult:
    """Simulate ``settings.days`` working days once (seeded: the same inputs give the same figures)."""
    env = simpy.Environment()
    rng = random.Random(settings.seed)
    result = RunResult()
    queue: simpy.PriorityStore = simpy.PriorityStore(env)  # first come, first served; begun tasks first
    open_items: set[int] = set()
    horizon = settings.days * DAY
    items: list[_Item] = []

    def enqueue(minutes: float) -> _Item:
        item = _Item(minutes, env.now, env.now + settings.deadline_days * DAY, env.event(), remaining=minutes)
        items.append(item)
        open_items.add(id(item))
        result.tasks += 1
        result.work_minutes += minutes
        queue.put(simpy.PriorityItem((item.created, len(items)), item))
        return item

    def clerk(index: int) -> Generator[simpy.Event, Any, None]:
        for day in range(settings.days):
            share = min(max(staff.present_vzae(day) - index, 0.0), 1.0)
            available = share * settings.day_minutes
            result.capacity_minutes += available
            if available <= 0:
                continue
            end = day * DAY + available
            if env.now < day * DAY:
                yield env.timeout(day * DAY - env.now)
            while env.now < end:
                get = queue.get()
                if not get.triggered:  # nothing waiting: wait for a task or the end of the working day
                    yield get | env.timeout(end - env.now)
                    if not get.triggered:  # (a get that succeeded at the same moment as the timeout holds a task)
                        get.cancel()
                        break
                entry: simpy.PriorityItem = get.value  # type: ignore[assignment]
                item: _Item = entry.item
                if item.started is None:
                    item.started = env.now
                work = min(item.remaining, end - env.now)
                yield env.timeout(work)
                result.busy_minutes += work
                item.remaining -= work
                if item.remaining > 1e-9:  # the working day is over: the task waits for the next one, first in line
                    queue.put(entry)
                    break
                item.finished = env.now
                open_items.discard(id(item))
                result.done += 1
                item.done.succeed()

    def case(workload: Workload, arrived: float, number: int) -> Generator[simpy.Event, Any, None]:
        # Each case draws from its own stream: its way and task times stay the same in every scenario
        # (common random numbers), so that two scenarios differ by their staff only.
        rng = random.Random(settings.seed * 1_000_003 + number)
        nodes, paths = workload.routing.nodes, workload.paths
        node_id: str | None = workload.routing.start
        returns: list[str] = []
        first = True
        for _ in range(MAX_STEPS):
            node = nodes.get(node_id or "")
            if node is None:
                return
            if node.kind == "user":
                boundary = paths.pick(node.id + "#", rng) or None
                if boundary is not None:
                    yield env.timeout(nodes[boundary].delay_minutes if boundary in nodes else 0.0)
                    node_id = _next(nodes.get(boundary), paths, rng)
                    continue
                mean = settings.minutes.get(f"{workload.routing.process_id}.{node.id}", settings.default_minutes)
                minutes = rng.expovariate(1.0 / max(mean, 0.01))
                if node.lane == POOLED_LANE:
                    item = enqueue(minutes)
                    yield item.done
                    if first and item.started is not None:
                        result.first_contact_waits.append(item.started - arrived)
                        first = False
                else:
                    yield env.timeout(minutes)
            elif node.kind == "wait" and node.delay_minutes:
                yield env.timeout(node.delay_minutes)
            elif node.kind == "sub" and node.inner_start:
                returns.append(node.id)
                node_id = node.inner_start
                continue
            elif node.kind == "end":
                if not returns:
                    return
                node = nodes[returns.pop()]
            node_id = _next(node, paths, rng)
        result.cut_paths += 1

    def arrivals() -> Generator[simpy.Event, Any, None]:
        per_day = MAX_CASES // max(settings.days, 1)
        for day in range(settings.days):
            weekday = weekday_of(settings, day)
            todays: list[tuple[float, Workload]] = []
            for workload in workloads:
                mean = workload.arrivals[weekday] if weekday < len(workload.arrivals) else 0.0
                count = poisson(rng, min(max(mean, 0.0), float(per_day)))
                todays.extend((day * DAY + rng.random() * settings.day_minutes, workload) for _ in range(count))
            if len(todays) > per_day:
                result.capped = True
                todays = todays[:per_day]
            for at, workload in sorted(todays, key=lambda pair: pair[0]):
                if env.now < at:
                    yield env.timeout(at - env.now)
                result.cases += 1
                env.process(case(workload, env.now, result.cases))

    def sample() -> Generator[simpy.Event, Any, None]:
        for day in range(settings.days):
            yield env.timeout(day * DAY + settings.day_minutes - env.now)
            result.backlog.append(len(open_items))

    for _ in range(min(settings.initial_backlog, MAX_CASES)):
        enqueue(rng.expovariate(1.0 / max(settings.default_minutes, 0.01)))
    rng = random.Random(settings.seed)  # arrivals: the same in every scenario
    clerks = math.ceil(max(staff.present_vzae(day) for day in range(settings.days))) if settings.days else 0
    for index in range(clerks):
        env.process(clerk(index))
    env.process(arrivals())
    env.process(sample())
    stop_at = time.monotonic() + settings.wall_seconds
    step = DAY / 8
    until = step
    while until <= horizon + step / 2:
        env.run(until=min(until, horizon))
        if time.monotonic() > stop_at and until < horizon:
            result.timed_out = True
            break
        until += step
    result.overdue = sum(
        1 for item in items if (item.finished if item.finished is not None else horizon) > item.deadline
    )
    return result


def _next(node: Node | None, paths: Paths, rng: random.Random) -> str | None:
    if node is None or not node.outgoing:
        return None
    if node.kind == "choice" and len(node.outgoing) > 1:
        return paths.pick(node.id, rng)
    return node.outgoing[0].target
