"""Storing cases: create a case row, save what a step produced, load a case for reading.

The caller owns the transaction. This module is the single place that writes a case row: ``create_row``
inserts it, ``save`` and ``mark_error`` bump ``lock_version`` through ``case_rows.update_case``
(a stale caller gets ``ConflictError``); ``save`` also rewrites the inbox rows and stores the next timer due
time. ``engine.incidents`` changes the status of a case when a person retries or cancels it. Steps
themselves run in the jail (``engine.steps``); the workflows loaded here are for reading and
cannot run model code.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from . import audit, case_rows, clock, incidents, task_labels
from .errors import EngineError
from .models import NO_DUE_DATE, HumanTask, ProcessInstance, search_text_of
from .serialization import SERIALIZER_VERSION, StateCodec
from .stepping import ReadyTask, StepResult
from .versions import LoadedVersion, SpecCache
from .vocabulary import COMPLETED, ERROR, NORMAL_PRIORITY, RUNNING

# The inbox table itself (Core statements: the step path needs none of the ORM's bookkeeping), and its row
# UPDATE built once (the SET clause comes from the parameters of each execution).
INBOX: sa.Table = HumanTask.__table__  # type: ignore[assignment]
_UPDATE_INBOX_ROW = sa.update(INBOX).where(INBOX.c.id == sa.bindparam("b_row"))
STUCK = "Der Vorgang kam zum Stillstand, ohne ein Endereignis zu erreichen."


class _ReadOnlyScripts(PythonScriptEngine):  # type: ignore[misc]
    """Attached to workflows loaded for reading: model code never runs in the web or worker process."""

    def evaluate(self, task: Any, expression: str, external_context: Any = None) -> Any:
        raise EngineError("Interner Fehler: Modellcode läuft nur im Jail-Prozess.")

    def execute(self, task: Any, script: str, external_context: Any = None) -> Any:
        raise EngineError("Interner Fehler: Modellcode läuft nur im Jail-Prozess.")


READ_ONLY_SCRIPTS = _ReadOnlyScripts()


class CaseRuntime:
    """Creates, loads and saves workflow instances for deployed versions."""

    def __init__(self, specs: SpecCache, codec: StateCodec) -> None:
        self.specs = specs
        self.codec = codec

    def load(self, session: Session, row: ProcessInstance) -> tuple[LoadedVersion, BpmnWorkflow]:
        """The case's workflow, for reading only (steps run in the jail; this one cannot run model code)."""
        version = self.specs.get(session, row.version_id)
        model = version.model
        workflow = self.codec.loads(row.state, row.serializer_version, model.spec, model.subprocess_specs)
        workflow.script_engine = READ_ONLY_SCRIPTS  # never serialized: re-attach on every load
        return version, workflow

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

    def save_new(
        self, session: Session, row: ProcessInstance, version: LoadedVersion, result: StepResult, by: str | None = None
    ) -> None:
        """Store the first state of a case created by ``create_row`` (lock_version becomes 1)."""
        self.save(session, row, version, result, expected=0, by=by)

    def save(
        self,
        session: Session,
        row: ProcessInstance,
        version: LoadedVersion,
        result: StepResult,
        expected: int,
        inbox: Sequence[HumanTask] | None = None,
        by: str | None = None,
    ) -> None:
        """Write the case after a step if nobody else did since ``expected``; ``by``: who took the step (tasks
        that begin in it are not news to them, ``engine.notifications``).

        A case whose step left nothing to do without reaching an end event is not 'completed': it is
        stored with status 'error' (an incident for the process owners). ``inbox``: the case's inbox rows
        if the caller read them already (else they are read here).

        :raises ConflictError: if ``lock_version`` moved on.
        """
        now = clock.now()
        if row.error_message is not None:
            incidents.resolve_open(session, row.id, "Durch einen erfolgreichen Schritt behoben")
        values: dict[str, Any] = {
            "state": result.state,
            "serializer_version": SERIALIZER_VERSION,
            "status": COMPLETED if result.completed else ERROR if result.stuck else RUNNING,
            "next_timer_at": result.next_timer_at,
            "applicant_name": result.applicant_name,
            "claim_date": row.claim_date or result.claim_date,
            "updated_at": now,
            "completed_at": now if result.completed else None,
            "error_message": STUCK if result.stuck else None,
        }
        if row.version_id != version.id:  # the case moved to another version (``engine.case_migration``)
            values["version_id"] = version.id
        head = audit.take_head(session, row.id)
        if head is not None:
            values["audit_head"] = head
        self._update(session, row, expected, values)
        if result.stuck:
            incidents.record(session, row.id, "step", EngineError(STUCK))
        if inbox is None:
            inbox = list(session.scalars(sa.select(HumanTask).where(HumanTask.instance_id == row.id)))
        sync_inbox(session, row, version, result.ready if row.status == RUNNING else [], inbox, by)

    def mark_error(self, session: Session, row: ProcessInstance, expected: int, message: str) -> None:
        """Stop a case whose next step failed (status 'error' with the message) unless it moved on since
        ``expected``.

        :raises ConflictError: if ``lock_version`` moved on.
        """
        self._update(session, row, expected, {"status": ERROR, "error_message": message, "updated_at": clock.now()})

    def _update(self, session: Session, row: ProcessInstance, expected: int, values: dict[str, Any]) -> None:
        """``UPDATE … WHERE lock_version = expected``; the row object takes the new values (no re-read)."""
        for key, value in case_rows.update_case(session, row.id, expected, values).items():
            set_committed_value(row, key, value)


def sync_inbox(
    session: Session,
    row: ProcessInstance,
    version: LoadedVersion,
    ready: Sequence[ReadyTask],
    existing: Sequence[HumanTask],
    by: str | None = None,
) -> None:
    """Make the inbox rows of a case match its open user tasks, in as few statements as possible.

    Rows of tasks still open keep their claim and priority (and are only written if the case's key, name or
    the task's due time changed). A task that begins starts with the case's priority and is due at the
    earlier of its model deadline (a timer on the task, which fires then whatever a lead set) and the case's
    due date set by a lead (``due_by``): a lead can bring a deadline forward, not past the model's. A row
    whose task ended is reused for a task that began (one UPDATE instead of DELETE + INSERT); what is left
    over is deleted or inserted in one statement each.
    """
    now = clock.now()
    by_uuid = {task.task_uuid: task for task in existing}
    wanted = {task.task_uuid for task in ready}
    free = [task.id for task in existing if task.task_uuid not in wanted]
    new_rows: list[dict[str, Any]] = []
    for task in ready:
        current = by_uuid.get(task.task_uuid)
        if current is None:
            new_rows.append(_inbox_row(row, version, task, now, by))
            continue
        due = due_by(task.due_at, current.due_at)
        if (current.business_key, current.applicant_name, current.due_at) != (
            row.business_key,
            row.applicant_name,
            due,
        ):
            columns = _case_columns(row) | {"due_at": due, "due_sort": due or NO_DUE_DATE}
            session.execute(_UPDATE_INBOX_ROW, {"b_row": current.id, **columns})
    while free and new_rows:
        session.execute(_UPDATE_INBOX_ROW, {"b_row": free.pop(), **new_rows.pop()})
    if free:
        session.execute(sa.delete(INBOX).where(INBOX.c.id.in_(free)))
    if new_rows:
        session.execute(sa.insert(INBOX), new_rows)


def due_by(*moments: datetime | None) -> datetime | None:
    """The earliest of the given due times, None if there is none."""
    return min((moment for moment in moments if moment is not None), default=None)


def _case_columns(row: ProcessInstance) -> dict[str, Any]:
    return {
        "business_key": row.business_key,
        "applicant_name": row.applicant_name,
        "search_text": search_text_of(row.business_key, row.applicant_name),
    }


def task_label(version: LoadedVersion, task: ReadyTask) -> str | None:
    """The label of a task that just became open, from its ``egsLabel`` and data (``engine.task_labels``)."""
    info = version.model.tasks.get(task.spec_id)
    if info is None or not info.label_template:
        return None
    return task_labels.render(info.label_template, task.label_values, version.forms)


def _inbox_row(
    row: ProcessInstance, version: LoadedVersion, task: ReadyTask, now: datetime, by: str | None = None
) -> dict[str, Any]:
    """All columns of the inbox row of a task that just became open: unclaimed, with the case's priority and
    due date, and who took the step it began in (``sync_inbox``)."""
    info = version.model.tasks.get(task.spec_id)
    due = due_by(task.due_at, row.due_at)
    return {
        "task_uuid": task.task_uuid,
        "instance_id": row.id,
        "process_id": row.process_id,
        "process_name": version.name,
        "task_spec_id": task.spec_id,
        "name": (info.name if info else task.name) or task.spec_id,
        "label": task_label(version, task),
        "lane": (info.lane if info else task.lane) or "",
        "egs_role": info.egs_role if info else None,
        "form_key": info.form_key if info else None,
        "site": row.site,
        "assignee_id": None,
        "due_at": due,
        "due_sort": due or NO_DUE_DATE,
        "priority": row.priority or NORMAL_PRIORITY,
        "created_at": now,
        "arrived_by": by,
        **_case_columns(row),
    }
