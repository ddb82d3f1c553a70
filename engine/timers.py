"""Timer support: SpiffWorkflow's timer events read the engine clock, and due times are extracted.

SpiffWorkflow 3 decides whether a timer fired by calling ``datetime.now(timezone.utc)`` inside
``SpiffWorkflow.bpmn.specs.event_definitions.timer``. We hand that module a ``datetime`` subclass whose
``now()`` asks :mod:`engine.clock`, so ``fire_due_timers(now)`` fires exactly what is due at ``now``
(and tests need not sleep). Everything else about datetimes is inherited unchanged.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from . import clock


class _ClockDatetime(datetime):
    """A datetime whose ``now()`` is the engine clock."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> Any:
        instant = clock.now()
        return instant.astimezone(tz) if tz is not None else instant.astimezone().replace(tzinfo=None)


def _install_clock() -> None:
    current = getattr(spiff_timer, "datetime", None)
    if current is _ClockDatetime:
        return
    if current is not datetime:
        raise RuntimeError("SpiffWorkflow timer module changed: cannot attach the engine clock")
    spiff_timer.datetime = _ClockDatetime


_install_clock()


# Pending events name their definition's class: TimeDateEventDefinition, DurationTimerEventDefinition, …
TIMER_EVENT_TYPES = frozenset(cls.__name__ for cls in TimerEventDefinition.__subclasses__())


def next_timer_due(workflow: BpmnWorkflow) -> datetime | None:
    """Return the earliest due time of the workflow's waiting timers (UTC), or None."""
    due: list[datetime] = []
    for event in workflow.waiting_events():
        if event.event_type not in TIMER_EVENT_TYPES or event.value is None:
            continue
        value = event.value["next"] if isinstance(event.value, dict) else event.value
        due.append(clock.parse_iso(str(value)))
    return min(due) if due else None


def timer_due(task: Any) -> datetime | None:
    """When a (waiting) timer event task fires, or None if it is no timer or not armed yet."""
    if not isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition):
        return None
    value = task._get_internal_data("event_value")
    if isinstance(value, dict):
        value = value.get("next")
    return clock.parse_iso(str(value)) if value else None


def boundary_timer_due(task: Any) -> datetime | None:
    """Return the due time of a timer boundary event attached to a READY user task, if any."""
    parent = task.parent
    if parent is None:
        return None
    due = [d for sibling in parent.children if sibling is not task and (d := timer_due(sibling)) is not None]
    return min(due) if due else None


def timer_deadlines(workflow: BpmnWorkflow) -> list[tuple[str, datetime]]:
    """(timer name, due time) of the case's waiting timers, earliest first."""
    found: list[tuple[str, datetime]] = []
    for task in workflow.get_tasks(state=TaskState.WAITING):
        due = timer_due(task)
        if due is not None:
            spec = task.task_spec
            found.append((str(spec.event_definition.name or spec.bpmn_name or spec.bpmn_id), due))
    return sorted(found, key=lambda item: item[1])
