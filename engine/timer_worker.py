"""The timer worker: fire the timers that are due, one case per transaction, and stop cases whose step fails.

On PostgreSQL, rows another worker holds are skipped (``FOR UPDATE SKIP LOCKED``); every save goes through
the runtime's ``lock_version`` check, so a timer can never fire twice.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa

from . import audit, clock
from .audit import Action
from .casework import Casework
from .db import Database
from .errors import ConflictError, ScriptError
from .models import ProcessInstance
from .vocabulary import RUNNING

log = logging.getLogger("egs.engine")
SYSTEM = "system"


class StopSignal(Protocol):
    """What ends the worker loop (a ``threading.Event``)."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


def fire_due_timers(db: Database, casework: Casework, now: datetime | None = None, limit: int = 100) -> int:
    """Fire every timer due at ``now`` (default: the clock); return how many cases moved on.

    A case whose next step fails is set to status 'error' (and skipped from then on).
    """
    moment = now or clock.now()
    fired = 0
    with clock.frozen(moment):
        with db.reading() as session:
            due = list(
                session.scalars(
                    sa.select(ProcessInstance.id)
                    .where(ProcessInstance.status == RUNNING, ProcessInstance.next_timer_at <= moment)
                    .order_by(ProcessInstance.next_timer_at)
                    .limit(limit)
                )
            )
        for instance_id in due:
            try:
                fired += _fire_case_timers(db, casework, instance_id, moment)
            except ScriptError as exc:
                _stop_case(db, casework, instance_id, exc)
    return fired


def _fire_case_timers(db: Database, casework: Casework, instance_id: int, moment: datetime) -> int:
    with db.transaction() as session:
        query = sa.select(ProcessInstance).where(
            ProcessInstance.id == instance_id,
            ProcessInstance.status == RUNNING,
            ProcessInstance.next_timer_at <= moment,
        )
        if not db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        row = session.scalar(query)
        if row is None:
            return 0  # another worker has it, or it moved on
        version = casework.specs.get(session, row.version_id)
        with casework.acting_for(session, row, SYSTEM), casework.steps.session(version) as step:
            result = step.fire_timers(row.state, row.serializer_version)
        fired_names = result.fired
        if fired_names:
            audit.record(
                session,
                Action.TIMER_FIRED,
                SYSTEM,
                instance_id=row.id,
                process_id=row.process_id,
                details={"timers": fired_names, "due_at": moment.isoformat()},
            )
        casework.settle(session, row, version, result, row.lock_version, SYSTEM)
        return 1 if fired_names else 0


def _stop_case(db: Database, casework: Casework, instance_id: int, exc: ScriptError) -> None:
    """Record the failure and set the case to 'error' through the runtime (unless it moved on meanwhile)."""
    try:
        with db.transaction() as session:
            row = session.get(ProcessInstance, instance_id)
            if row is None:
                return
            casework.runtime.mark_error(session, row, row.lock_version, exc.message)
            audit.record(session, Action.SCRIPT_ERROR, SYSTEM, instance_id=instance_id, details={"reason": exc.message})
    except ConflictError:
        log.info("case %s moved on before its failed timer step could be recorded; next round retries", instance_id)
        return
    log.warning("case %s stopped with a script error in %s", instance_id, exc.element_id)


def run_worker(
    db: Database,
    casework: Casework,
    interval: float,
    stop: StopSignal | None = None,
    max_rounds: int | None = None,
) -> None:
    """Fire due timers in a loop (``egs worker``) until ``stop`` is set or ``max_rounds`` have run."""
    rounds = 0
    while not (stop is not None and stop.is_set()):
        fired = fire_due_timers(db, casework)
        if fired:
            log.info("fired timers in %d cases", fired)
        rounds += 1
        if max_rounds is not None and rounds >= max_rounds:
            return
        if stop is not None:
            stop.wait(interval)
        else:
            time.sleep(interval)
