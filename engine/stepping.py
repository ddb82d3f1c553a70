"""One step of a case inside SpiffWorkflow: the part of the engine that runs model code (in the jail).

A step takes a case (a new one, or its stored state), does one thing to it (run on, complete a user task,
hand it a message, let due timers fire) and summarises what the parent needs to store it: the new state,
whether an end event was reached, the open user tasks, timers, thrown messages and the few columns the
inbox shows. Nothing here touches the database; ``engine.jail_main`` runs these functions in a jail process.

SpiffWorkflow walks its task tree only to depth 1 000 and then reports a case as finished although its
end was never reached (a gateway loop of ~330 rounds). The walk limit is raised here once for the
process, and a case counts as completed only when one of its end events completed.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util import task as spiff_task
from SpiffWorkflow.util.task import TaskState

from . import task_labels, timers
from .errors import ConflictError, ScriptError

TASK_TREE_DEPTH = 1_000_000
MAX_STATE_CHARS = 8_000_000
TASK_GONE = "Die Aufgabe ist nicht mehr offen – sie wurde bereits erledigt oder abgebrochen."


def _raise_task_tree_depth() -> None:
    """Let every walk of the task tree reach its leaves (SpiffWorkflow's default stops at depth 1 000)."""
    for iterator in (spiff_task.TaskIterator, BpmnTaskIterator):
        init = iterator.__init__
        parameters = [p for p in inspect.signature(init).parameters.values() if p.default is not p.empty]
        names = [p.name for p in parameters]
        if "max_depth" not in names or init.__defaults__ is None or len(init.__defaults__) != len(names):
            raise RuntimeError(f"SpiffWorkflow {iterator.__name__} changed: cannot raise its depth limit")
        defaults = list(init.__defaults__)
        defaults[names.index("max_depth")] = TASK_TREE_DEPTH
        init.__defaults__ = tuple(defaults)


_raise_task_tree_depth()


@dataclass(frozen=True)
class ReadyTask:
    """A user task that is open after the step."""

    task_uuid: str
    spec_id: str
    name: str
    lane: str
    due_at: datetime | None
    label_values: dict[str, list[str]] = field(default_factory=dict)  # the values its egsLabel names


@dataclass
class StepResult:
    """What a step produced, for the parent to store."""

    state: str
    finished: bool
    end_reached: bool
    next_timer_at: datetime | None
    applicant_name: str | None
    claim_date: date | None
    ready: list[ReadyTask]
    thrown: list[tuple[str, Any]]
    fired: list[str] = field(default_factory=list)
    delivered: bool = True

    @property
    def completed(self) -> bool:
        return self.finished and self.end_reached

    @property
    def stuck(self) -> bool:
        """Nothing left to do, but no end event was reached: an incident, never 'completed'."""
        return self.finished and not self.end_reached


def engine_errors_to_script_errors(exc: BaseException) -> ScriptError:
    """The ScriptError for a failure inside SpiffWorkflow (scripts, expressions), naming the element."""
    if isinstance(exc, ScriptError):
        return exc
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, ScriptError):
        cause = cause.__cause__ or cause.__context__
    spec = getattr(exc, "task_spec", None)
    element_id = getattr(spec, "bpmn_id", None) or getattr(spec, "name", "") or ""
    if isinstance(cause, ScriptError):
        return ScriptError(cause.detail, element_id=element_id or cause.element_id, line=cause.line)
    if isinstance(exc, RecursionError):
        return ScriptError("Das Modell ist zu tief verschachtelt, um es auszuführen.", element_id=element_id)
    text = str(exc.args[0] if exc.args else exc) if isinstance(exc, SpiffWorkflowException) else type(exc).__name__
    return ScriptError(text, element_id=element_id)


def new_workflow(spec: Any, subprocess_specs: Any, data: dict[str, Any], *, by_message: bool) -> BpmnWorkflow:
    """A fresh workflow whose first tasks see ``data``.

    A process may have a plain start event and message start events. SpiffWorkflow lets the first
    one that fires win, so a plain start would always win; for a start by message the plain start
    events are withdrawn before anything runs.
    """
    workflow = BpmnWorkflow(spec, subprocess_specs)
    workflow.task_tree.data.update(data)
    if by_message:
        for task in workflow.task_tree.children[0].children if workflow.task_tree.children else []:
            if isinstance(getattr(task.task_spec, "event_definition", None), NoneEventDefinition):
                task.cancel()
    return workflow


def advance(workflow: BpmnWorkflow) -> None:
    """Run every automatic step until the case waits for people, timers or messages."""
    workflow.do_engine_steps()


def waiting_messages(workflow: BpmnWorkflow) -> set[str]:
    """Names of the messages the case waits for."""
    return {event.name for event in workflow.waiting_events() if event.event_type == "MessageEventDefinition"}


def deliver_message(workflow: BpmnWorkflow, name: str, payload: Any) -> bool:
    """Hand a message to the case if it waits for it; run on. False if it does not wait for it."""
    if name not in waiting_messages(workflow):
        return False
    workflow.send_event(BpmnEvent(MessageEventDefinition(name), payload))
    workflow.do_engine_steps()
    return True


def fire_timers(workflow: BpmnWorkflow) -> list[str]:
    """Let timers that are due (by the engine clock) fire, run on; the names of the timers that fired."""
    waiting = waiting_timers(workflow)
    workflow.refresh_timers()
    workflow.do_engine_steps()
    still_waiting = waiting_timers(workflow)
    return sorted(name for task_id, name in waiting.items() if task_id not in still_waiting)


def ready_task(workflow: BpmnWorkflow, task_uuid: str) -> Task:
    """The READY user task with this id. :raises ConflictError: it is no longer open."""
    try:
        task = workflow.get_task_from_id(UUID(task_uuid))
    except Exception:
        task = None
    if task is None or task.state != TaskState.READY or not task.task_spec.manual:
        raise ConflictError(TASK_GONE)
    return task


def complete_user_task(workflow: BpmnWorkflow, task: Task, data: dict[str, Any]) -> None:
    task.data.update(data)
    task.run()
    workflow.do_engine_steps()


def waiting_timers(workflow: BpmnWorkflow) -> dict[UUID, str]:
    """The waiting timer events of a case: task id → timer name."""
    found: dict[UUID, str] = {}
    for task in workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, TimerEventDefinition):
            found[task.id] = definition.name or task.task_spec.bpmn_name or task.task_spec.name
    return found


def case_data(workflow: BpmnWorkflow, ready: list[Task] | None = None) -> dict[str, Any]:
    """The data gathered so far in a case (the data an open task sees, else the last one's); ``ready``:
    the case's open user tasks if the caller has them."""
    if ready is None:
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
    if ready:
        return dict(ready[0].data)
    last = workflow.last_task.data if workflow.last_task is not None else {}
    return {**workflow.data, **last}


def summarise(workflow: BpmnWorkflow, dumps: Callable[[BpmnWorkflow], str]) -> StepResult:
    """The result of a step for the parent, with the state ``dumps`` makes of the workflow.

    The messages the case sent are taken out of the workflow first: stored with the state, they would be
    sent again after every later step.
    """
    thrown = thrown_messages(workflow)
    state = dumps(workflow)
    if len(state) > MAX_STATE_CHARS:
        raise ScriptError(
            f"Der Vorgang wäre nach diesem Schritt zu groß zum Speichern ({len(state) // 1_000_000} MB, "
            f"höchstens {MAX_STATE_CHARS // 1_000_000} MB)."
        )
    finished = workflow.is_completed()
    ready = [] if finished else workflow.get_tasks(state=TaskState.READY, manual=True)
    data = case_data(workflow, ready)
    return StepResult(
        state=state,
        finished=finished,
        end_reached=finished and _end_reached(workflow),  # walked only when it decides 'completed'
        next_timer_at=None if finished else timers.next_timer_due(workflow),
        applicant_name=_applicant(data),
        claim_date=_claim_date(data),
        ready=[
            ReadyTask(
                str(task.id),
                task.task_spec.bpmn_id,
                task.task_spec.bpmn_name or task.task_spec.bpmn_id,
                task.task_spec.lane or "",
                timers.boundary_timer_due(task),
                task_labels.label_values(_label_template(task), task.data),
            )
            for task in ready
        ],
        thrown=thrown,
    )


def _label_template(task: Task) -> str | None:
    """The task's ``egsLabel`` property (``engine.task_labels``), if the model gives one."""
    properties = (getattr(task.task_spec, "extensions", None) or {}).get("properties") or {}
    template = properties.get("egsLabel")
    return template if isinstance(template, str) else None


def thrown_messages(workflow: BpmnWorkflow) -> list[tuple[str, Any]]:
    """Take the messages the case sent that no task in the case itself caught: (name, payload)."""
    return [
        (event.event_definition.name, event.payload)
        for event in workflow.get_events()
        if isinstance(event.event_definition, MessageEventDefinition)
    ]


def _end_reached(workflow: BpmnWorkflow) -> bool:
    return any(isinstance(task.task_spec, EndEvent) for task in workflow.get_tasks(state=TaskState.COMPLETED))


def _applicant(data: dict[str, Any]) -> str | None:
    names = [str(data[k]).strip() for k in ("nachname", "vorname") if data.get(k)]
    return ", ".join(names)[:200] or None


def _claim_date(data: dict[str, Any]) -> date | None:
    value = data.get("tag_der_antragstellung")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
