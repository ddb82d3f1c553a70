"""The timer worker: fire the timers that are due, one case per transaction; a failing case never stops it.

Whatever goes wrong with one case (its model code, a value it cannot store, a missing service, a bug)
becomes an incident on that case and the worker goes on with the next. A case whose step failed is
stopped (status 'error') until someone retries it; a transient failure (database) keeps the case running
and is retried after a growing pause. On PostgreSQL, rows another worker holds are skipped
(``FOR UPDATE SKIP LOCKED``); every save goes through the runtime's ``lock_version`` check, so a timer can
never fire twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa

from . import audit, clock, incidents
from .audit import Action
from .casework import Casework
from .db import Database
from .errors import ConflictError
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

    A case whose next step fails gets an incident and is stopped (status 'error'), unless the failure is
    transient; the others fire all the same.
    """
    moment = now or clock.now()
    fired = 0
    with clock.frozen(moment):
        with db.reading() as session:
            due = list(
                session.scalars(
                    sa.select(ProcessInstance.id)
                    .where(
                        ProcessInstance.status == RUNNING,
                        ProcessInstance.next_timer_at <= moment,
                        ~incidents.waiting_for_retry(moment),
                    )
                    .order_by(ProcessInstance.next_timer_at)
                    .limit(limit)
                )
            )
        for instance_id in due:
            try:
                fired += _fire_case_timers(db, casework, instance_id, moment)
            except ConflictError:
                continue  # the case moved on meanwhile; the next round looks again
            except Exception as exc:  # any failure of one case is an incident of that case, never of the worker
                _record_failure(db, casework, instance_id, exc)
    return fired


def _fire_case_timers(db: Database, casework: Casework, instance_id: int, moment: datetime) -> int:
    return db.optimistically(lambda optimistic: _fire_in(db, casework, instance_id, moment, optimistic))


def _fire_in(db: Database, casework: Casework, instance_id: int, moment: datetime, optimistic: bool) -> int:
    with db.transaction(optimistic=optimistic) as session:
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
        with casework.step_on(session, row, version, SYSTEM) as step:
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


def _record_failure(db: Database, casework: Casework, instance_id: int, exc: Exception) -> None:
    """Open an incident and stop the case (a transient failure only waits for its retry)."""
    try:
        with db.transaction() as session:
            row = session.get(ProcessInstance, instance_id)
            if row is None:
                return
            incident = incidents.record(session, instance_id, "timer", exc)
            if not incident.transient:
                casework.runtime.mark_error(session, row, row.lock_version, incident.message)
                audit.record(session, Action.SCRIPT_ERROR, SYSTEM, instance_id=instance_id,
                             details={"reason": incident.message, "element": incident.element_id})  # fmt: skip
    except ConflictError:
        log.info("case %s moved on before its failed timer step could be recorded; next round retries", instance_id)
        return
    except Exception as failure:  # e.g. the database is gone: the worker must still go on
        log.error("case %s: timer step failed (%s) and the incident could not be stored (%s)",
                  instance_id, type(exc).__name__, type(failure).__name__)  # fmt: skip
        return
    log.warning("case %s: timer step failed (%s), incident opened", instance_id, type(exc).__name__)


def run_worker(
    db: Database,
    casework: Casework,
    interval: float,
    stop: StopSignal | None = None,
    max_rounds: int | None = None,
    housekeeping: Callable[[], object] | None = None,
) -> None:
    """Fire due timers in a loop (``egs worker``) until ``stop`` is set or ``max_rounds`` have run; run
    ``housekeeping`` (the engine's: login summaries, old sessions) once a round."""
    rounds = 0
    while not (stop is not None and stop.is_set()):
        try:
            fired = fire_due_timers(db, casework)
        except Exception as exc:  # e.g. the database is unreachable for a moment: try again next round
            log.error("timer round failed: %s", type(exc).__name__)
            fired = 0
        if housekeeping is not None:
            try:
                housekeeping()
            except Exception as exc:  # same: the next round tries again
                log.error("housekeeping failed: %s", type(exc).__name__)
        if fired:
            log.info("fired timers in %d cases", fired)
        rounds += 1
        if max_rounds is not None and rounds >= max_rounds:
            return
        if stop is not None:
            stop.wait(interval)
        else:
            time.sleep(interval)
