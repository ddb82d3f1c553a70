"""What the case history says for a simulation: arrivals per weekday and the ways cases took through a model.

Arrivals: cases started at the site in the last ``FORECAST_WEEKS`` weeks, counted per process and weekday
(Monday–Friday) and divided by how many such weekdays the window had – the mean of the same weekday in
the last weeks. Ways: the stored states of the newest ``HISTORY_CASES`` cases of a process (any version,
every site: the branch shares of a model do not depend on the site, and more cases give steadier shares),
read as JSON without rebuilding the workflows: which element followed which, and how often each element
was completed.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from . import clock
from .models import ProcessInstance

FORECAST_WEEKS = 4
HISTORY_CASES = 500
TAKEN = int(TaskState.COMPLETED | TaskState.READY | TaskState.STARTED | TaskState.WAITING)
COMPLETED = int(TaskState.COMPLETED)


@dataclass(frozen=True)
class PathCounts:
    """How often each element was completed, and each step (element → next element) taken, in ``cases``."""

    cases: int = 0
    visits: Counter[str] = field(default_factory=Counter)
    steps: Counter[tuple[str, str]] = field(default_factory=Counter)


def arrival_forecast(session: Session, site: str, today: date, weeks: int = FORECAST_WEEKS) -> dict[str, list[float]]:
    """Process id → mean cases started per weekday (Monday … Friday) at ``site`` in the ``weeks`` before ``today``."""
    since = today - timedelta(weeks=weeks)
    start = datetime(since.year, since.month, since.day, tzinfo=clock.BERLIN)
    end = datetime(today.year, today.month, today.day, tzinfo=clock.BERLIN)
    rows = session.execute(
        sa.select(ProcessInstance.process_id, ProcessInstance.created_at).where(
            ProcessInstance.site == site, ProcessInstance.created_at >= start, ProcessInstance.created_at < end
        )
    ).all()
    weekdays = Counter((since + timedelta(days=offset)).weekday() for offset in range((today - since).days))
    counts: dict[str, list[float]] = {}
    for process_id, created_at in rows:
        day = created_at.astimezone(clock.BERLIN).weekday()
        if day < 5:
            counts.setdefault(process_id, [0.0] * 5)[day] += 1
    return {pid: [round(n / max(weekdays[d], 1), 2) for d, n in enumerate(days)] for pid, days in counts.items()}


def path_counts(session: Session, process_id: str, node_ids: Collection[str], limit: int = HISTORY_CASES) -> PathCounts:
    """Count elements and steps in the stored states of the newest ``limit`` cases of ``process_id``."""
    states = session.scalars(
        sa.select(ProcessInstance.state)
        .where(ProcessInstance.process_id == process_id)
        .order_by(ProcessInstance.id.desc())
        .limit(limit)
    ).all()
    counts = PathCounts()
    known = frozenset(node_ids)
    for state in states:
        try:
            data = json.loads(state)
        except ValueError:
            continue
        _count_tree(data, known, counts)
        for sub in (data.get("subprocesses") or {}).values():
            if isinstance(sub, Mapping):
                _count_tree(sub, known, counts)
    return PathCounts(len(states), counts.visits, counts.steps)


def _count_tree(workflow: Mapping[str, Any], known: frozenset[str], counts: PathCounts) -> None:
    tasks = workflow.get("tasks")
    if not isinstance(tasks, Mapping):
        return
    for task in tasks.values():
        spec, state = task.get("task_spec"), task.get("state")
        if spec not in known or not isinstance(state, int) or not state & TAKEN:
            continue
        if state & COMPLETED:
            counts.visits[spec] += 1
        parent = tasks.get(task.get("parent") or "")
        while parent is not None and parent.get("task_spec") not in known:
            parent = tasks.get(parent.get("parent") or "")
        if parent is not None:
            counts.steps[(str(parent["task_spec"]), str(spec))] += 1
