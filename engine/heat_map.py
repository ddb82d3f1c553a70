"""The process view of a filtered set of cases: how often each task ran, how long it waited and was worked.

Per BPMN task: completions, the median and 90th percentile of the waiting time (ready → first taken) and of
the working time (taken → completed). A task completed without being taken first was taken when it was
completed (working time 0). Percentiles are nearest-rank (an observed value, stable for small sets).
The diagram is that of the newest version among the filtered cases' versions of the chosen process.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import case_log
from .case_path import diagram_xml
from .models import ProcessVersion
from .versions import SpecCache


@dataclass(frozen=True)
class StepFigures:
    """One task of the heat map (durations in seconds; None when nothing was measured)."""

    element_id: str
    name: str
    lane: str
    runs: int
    wait_median: float | None
    wait_p90: float | None
    work_median: float | None
    work_p90: float | None


@dataclass(frozen=True)
class ProcessView:
    """The heat map of one process over the filtered cases."""

    process_id: str
    name: str
    version: int | None
    cases: int
    xml: str
    steps: tuple[StepFigures, ...]

    def slowest(self, limit: int = 5) -> list[StepFigures]:
        """The steps with the longest median time from ready to completed."""
        timed = [s for s in self.steps if s.runs and (s.wait_median is not None or s.work_median is not None)]
        return sorted(timed, key=lambda s: -((s.wait_median or 0) + (s.work_median or 0)))[:limit]


@dataclass
class _Collected:
    name: str
    lane: str
    runs: int = 0
    waits: list[float] = field(default_factory=list)
    works: list[float] = field(default_factory=list)


def nearest_rank(values: Sequence[float], share: float) -> float | None:
    """The value below or at which ``share`` of the sorted values lie (nearest-rank method)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def process_view(session: Session, specs: SpecCache, chosen: case_log.CaseFilter) -> ProcessView:
    """The heat map of ``chosen.process_id`` (required) over the filtered cases."""
    process_id = chosen.process_id or ""
    version_row = session.scalars(
        sa.select(ProcessVersion)
        .where(ProcessVersion.process_id == process_id,
               *([ProcessVersion.version == chosen.version] if chosen.version is not None else []))
        .order_by(ProcessVersion.version.desc())
        .limit(1)
    ).first()  # fmt: skip
    collected: dict[str, _Collected] = {}
    xml, name, number = "", process_id, None
    if version_row is not None:
        model = specs.get(session, version_row.id).model
        xml, name, number = diagram_xml(model.resources.get(model.filename, "")), version_row.name, version_row.version
        for task_id, info in model.tasks.items():
            collected[task_id] = _Collected(info.name or task_id, info.lane or "")
    cases = 0
    for trace in case_log.traces(session, specs, chosen):
        cases += 1
        _collect(trace.events, collected)
    steps = tuple(
        StepFigures(element, c.name, c.lane, c.runs, nearest_rank(c.waits, 0.5), nearest_rank(c.waits, 0.9),
                    nearest_rank(c.works, 0.5), nearest_rank(c.works, 0.9))
        for element, c in sorted(collected.items(), key=lambda item: item[1].name)
    )  # fmt: skip
    return ProcessView(process_id, name, number, cases, xml, steps)


def _collect(events: Iterable[case_log.LogEvent], collected: dict[str, _Collected]) -> None:
    """Pair each task's transitions: ready → first taken (waiting), taken → completed (working)."""
    ready: dict[str, datetime] = {}
    taken: dict[str, datetime] = {}
    for event in events:
        figures = collected.setdefault(event.element_id, _Collected(event.name, event.group))
        key = event.element_id
        if event.transition == "schedule":
            ready[key] = event.at
            taken.pop(key, None)
        elif event.transition == "assign" and key in ready and key not in taken:
            taken[key] = event.at
            figures.waits.append((event.at - ready[key]).total_seconds())
        elif event.transition == "complete":
            figures.runs += 1
            start = taken.pop(key, None)
            if start is None and key in ready:
                figures.waits.append((event.at - ready[key]).total_seconds())
                start = event.at
            if start is not None:
                figures.works.append((event.at - start).total_seconds())
            ready.pop(key, None)


def process_choices(session: Session) -> list[tuple[str, str]]:
    """(process id, name of its newest version) of every deployed process, by name."""
    newest = (
        sa.select(ProcessVersion.process_id, sa.func.max(ProcessVersion.version).label("v"))
        .group_by(ProcessVersion.process_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(ProcessVersion.process_id, ProcessVersion.name).join(
            newest, sa.and_(newest.c.process_id == ProcessVersion.process_id, newest.c.v == ProcessVersion.version)
        )
    ).all()
    return sorted(((pid, name) for pid, name in rows), key=lambda item: item[1])
