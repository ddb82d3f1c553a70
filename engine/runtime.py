"""Running cases: create, load, advance and save SpiffWorkflow instances within one transaction.

The caller owns the transaction. This module is the single place that writes a case row: ``create_row``
inserts it, ``save`` and ``mark_error`` bump ``lock_version`` with ``UPDATE … WHERE lock_version = expected``
(a stale caller gets ``ConflictError``); ``save`` also rewrites the inbox rows and stores the next timer due
time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from . import clock, timers
from .errors import ConflictError, ScriptError
from .models import HumanTask, ProcessInstance
from .serialization import SERIALIZER_VERSION, StateCodec
from .versions import LoadedVersion, SpecCache
from .vocabulary import COMPLETED, ERROR, NORMAL_PRIORITY, RUNNING


@contextmanager
def engine_errors() -> Iterator[None]:
    """Turn failures inside SpiffWorkflow (scripts, expressions) into ScriptError for the task concerned."""
    try:
        yield
    except ScriptError:
        raise
    except SpiffWorkflowException as exc:
        cause: BaseException | None = exc
        while cause is not None and not isinstance(cause, ScriptError):
            cause = cause.__cause__ or cause.__context__
        spec = getattr(exc, "task_spec", None)
        element_id = getattr(spec, "bpmn_id", None) or getattr(spec, "name", "") or ""
        if isinstance(cause, ScriptError):
            raise ScriptError(cause.detail, element_id=element_id, line=cause.line) from exc
        raise ScriptError(str(exc.args[0] if exc.args else exc), element_id=element_id) from exc


def case_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """Return the data gathered so far in a case (the data an open task sees, else the last one's)."""
    ready = workflow.get_tasks(state=TaskState.READY, manual=True)
    if ready:
        return dict(ready[0].data)
    last = workflow.last_task.data if workflow.last_task is not None else {}
    return {**workflow.data, **last}


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


def waiting_messages(workflow: BpmnWorkflow) -> set[str]:
    """Names of the messages the case waits for."""
    return {event.name for event in workflow.waiting_events() if event.event_type == "MessageEventDefinition"}


def thrown_messages(workflow: BpmnWorkflow) -> list[tuple[str, Any]]:
    """Take the messages the case sent that no task in the case itself caught: (name, payload)."""
    return [
        (event.event_definition.name, event.payload)
        for event in workflow.get_events()
        if isinstance(event.event_definition, MessageEventDefinition)
    ]


def waiting_timers(workflow: BpmnWorkflow) -> dict[UUID, str]:
    """Return the waiting timer events of a case: task id → timer name."""
    found: dict[UUID, str] = {}
    for task in workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, TimerEventDefinition):
            found[task.id] = definition.name or task.task_spec.bpmn_name or task.task_spec.name
    return found


class CaseRuntime:
    """Creates, loads and saves workflow instances for deployed versions."""

    def __init__(self, specs: SpecCache, codec: StateCodec, script_engine: PythonScriptEngine) -> None:
        self.specs = specs
        self.codec = codec
        self.script_engine = script_engine

    def new_workflow(
        self, version: LoadedVersion, data: dict[str, Any] | None = None, *, by_message: bool = False
    ) -> BpmnWorkflow:
        """A fresh workflow whose first tasks see ``data``.

        A process may have a plain start event and message start events. SpiffWorkflow lets the first
        one that fires win, so a plain start would always win; for a start by message the plain start
        events are withdrawn before anything runs.
        """
        model = version.model
        workflow = BpmnWorkflow(model.spec, model.subprocess_specs, script_engine=self.script_engine)
        workflow.task_tree.data.update(data or {})
        if by_message:
            for task in workflow.task_tree.children[0].children if workflow.task_tree.children else []:
                if isinstance(getattr(task.task_spec, "event_definition", None), NoneEventDefinition):
                    task.cancel()
        return workflow

    def load(self, session: Session, row: ProcessInstance) -> tuple[LoadedVersion, BpmnWorkflow]:
        version = self.specs.get(session, row.version_id)
        model = version.model
        workflow = self.codec.loads(row.state, row.serializer_version, model.spec, model.subprocess_specs)
        workflow.script_engine = self.script_engine  # never serialized: re-attach on every load
        return version, workflow

    def advance(self, workflow: BpmnWorkflow) -> None:
        """Run every automatic step until the case waits for people, timers or messages."""
        with engine_errors():
            workflow.do_engine_steps()

    def deliver_message(self, workflow: BpmnWorkflow, name: str, payload: Any) -> bool:
        """Hand a message to the case if it waits for it; run on. False if it does not wait for it."""
        if name not in waiting_messages(workflow):
            return False
        with engine_errors():
            workflow.send_event(BpmnEvent(MessageEventDefinition(name), payload))
            workflow.do_engine_steps()
        return True

    def fire_timers(self, workflow: BpmnWorkflow) -> None:
        """Let timers that are due (by the engine clock) fire, then run on."""
        with engine_errors():
            workflow.refresh_timers()
            workflow.do_engine_steps()

    def complete_user_task(self, workflow: BpmnWorkflow, task: Task, data: dict[str, Any]) -> None:
        with engine_errors():
            task.data.update(data)
            task.run()
            workflow.do_engine_steps()

    def ready_task(self, workflow: BpmnWorkflow, task_uuid: str) -> Task:
        """Return the READY user task with this id.

        :raises ConflictError: if the task is no longer open in the case.
        """
        try:
            task = workflow.get_task_from_id(UUID(task_uuid))
        except Exception:
            task = None
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise ConflictError("Die Aufgabe ist nicht mehr offen – sie wurde bereits erledigt oder abgebrochen.")
        return task

    def create_row(
        self,
        session: Session,
        version: LoadedVersion,
        *,
        site: str,
        business_key: str | None,
        actor: str,
        related_key: str | None = None,
    ) -> ProcessInstance:
        """Insert the row of a new case (lock_version 0, no state yet) and give it a business key."""
        now = clock.now()
        row = ProcessInstance(
            version_id=version.id,
            process_id=version.process_id,
            business_key=business_key,
            related_key=related_key,
            site=site,
            status=RUNNING,
            state="{}",
            serializer_version=SERIALIZER_VERSION,
            lock_version=0,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        if row.business_key is None:
            row.business_key = f"VG-{now.astimezone(clock.BERLIN).year}-{row.id:06d}"
            session.flush()
        return row

    def save_new(self, session: Session, row: ProcessInstance, version: LoadedVersion, workflow: BpmnWorkflow) -> None:
        """Store the first state of a case created by ``create_row`` (lock_version becomes 1)."""
        self.save(session, row, version, workflow, expected=0)

    def save(
        self, session: Session, row: ProcessInstance, version: LoadedVersion, workflow: BpmnWorkflow, expected: int
    ) -> None:
        """Write the case if nobody else did since ``expected``.

        :raises ConflictError: if ``lock_version`` moved on.
        """
        values = self._values(row, workflow)
        values["error_message"] = None
        self._update(session, row, expected, values)
        self.sync_human_tasks(session, row, version, workflow)

    def mark_error(self, session: Session, row: ProcessInstance, expected: int, message: str) -> None:
        """Stop a case whose next step failed (status 'error' with the message) unless it moved on since
        ``expected``.

        :raises ConflictError: if ``lock_version`` moved on.
        """
        self._update(session, row, expected, {"status": ERROR, "error_message": message, "updated_at": clock.now()})

    def _update(self, session: Session, row: ProcessInstance, expected: int, values: dict[str, Any]) -> None:
        result = session.execute(
            sa.update(ProcessInstance)
            .where(ProcessInstance.id == row.id, ProcessInstance.lock_version == expected)
            .values(**values, lock_version=expected + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ConflictError(
                "Der Vorgang wurde zwischenzeitlich von jemand anderem geändert. Bitte neu laden.",
                instance_id=row.id,
                expected=expected,
            )
        session.refresh(row)

    def _values(self, row: ProcessInstance, workflow: BpmnWorkflow) -> dict[str, Any]:
        """Column values derived from the workflow (the row itself is not touched)."""
        data = case_data(workflow)
        now = clock.now()
        completed = workflow.is_completed()
        return {
            "state": self.codec.dumps(workflow),
            "serializer_version": SERIALIZER_VERSION,
            "status": COMPLETED if completed else RUNNING,
            "next_timer_at": None if completed else timers.next_timer_due(workflow),
            "applicant_name": _applicant(data),
            "claim_date": row.claim_date or _claim_date(data),
            "updated_at": now,
            "completed_at": now if completed else None,
        }

    def sync_human_tasks(
        self, session: Session, row: ProcessInstance, version: LoadedVersion, workflow: BpmnWorkflow
    ) -> None:
        """Make the inbox rows of a case match its READY user tasks (keeping claims and priorities)."""
        existing = {
            task.task_uuid: task
            for task in session.scalars(sa.select(HumanTask).where(HumanTask.instance_id == row.id))
        }
        now = clock.now()
        ready = [] if row.status != RUNNING else workflow.get_tasks(state=TaskState.READY, manual=True)
        keep: set[str] = set()
        for task in ready:
            task_uuid = str(task.id)
            keep.add(task_uuid)
            info = version.model.tasks.get(task.task_spec.bpmn_id)
            due = timers.boundary_timer_due(task)
            current = existing.get(task_uuid)
            if current is not None:
                current.due_at = due or current.due_at
                current.business_key = row.business_key
                current.applicant_name = row.applicant_name
                continue
            session.add(
                HumanTask(
                    task_uuid=task_uuid,
                    instance_id=row.id,
                    process_id=row.process_id,
                    process_name=version.name,
                    task_spec_id=task.task_spec.bpmn_id,
                    name=(info.name if info else task.task_spec.bpmn_name) or task.task_spec.bpmn_id,
                    lane=(info.lane if info else task.task_spec.lane) or "",
                    egs_role=info.egs_role if info else None,
                    form_key=info.form_key if info else None,
                    site=row.site,
                    business_key=row.business_key,
                    applicant_name=row.applicant_name,
                    due_at=due,
                    priority=NORMAL_PRIORITY,
                    created_at=now,
                )
            )
        for task_uuid, stale in existing.items():
            if task_uuid not in keep:
                session.delete(stale)
        session.flush()
