"""A large export streams: the memory it needs does not grow with the number of cases (issue 12).

Cases and their trail are bulk-inserted (no model code runs); the XES and CSV streams are consumed chunk by
chunk and thrown away, as the web response and the command line do. With batches of ``case_log.BATCH``
cases, the peak of Python allocations for 4× the cases stays about the same (measured: about 3 MB for 400
and for 1 600 cases, XES and CSV alike, while the XES grows from 0.6 to 2.3 MB).
"""

from __future__ import annotations

import tracemalloc
import uuid
from datetime import timedelta

import sqlalchemy as sa

from engine import case_log
from engine.api import Engine
from engine.models import AuditEvent, ProcessInstance, ProcessVersion
from tests.support import pb
from tests.support.event_log import T0


def add_cases(engine: Engine, count: int, first: int = 0) -> None:
    """``count`` completed PB cases with a registration claimed and completed by egs."""
    with engine.db.transaction() as session:
        version = session.scalars(sa.select(ProcessVersion).where(ProcessVersion.process_id == pb.PROCESS)).first()
        assert version is not None
        cases, events = [], []
        for number in range(first, first + count):
            at = T0 + timedelta(minutes=number)
            cases.append({"id": 100_000 + number, "version_id": version.id, "process_id": pb.PROCESS,
                          "business_key": f"VG-2026-{number:06d}", "site": "56.4", "status": "completed",
                          "state": "{}", "serializer_version": "1", "lock_version": 1, "created_by": "egs",
                          "created_at": at, "updated_at": at, "priority": 0})  # fmt: skip
            task = str(uuid.uuid4())
            claimed, done = {"task": pb.ANMELDEN}, {"task": pb.ANMELDEN, "task_id": "Task_Anmeldung"}
            for action, minutes, details in (("start", 0, {}), ("claim", 2, claimed), ("complete", 9, done)):
                events.append({"occurred_at": at + timedelta(minutes=minutes), "actor": "egs", "action": action,
                               "instance_id": 100_000 + number, "task_uuid": task if action != "start" else None,
                               "process_id": pb.PROCESS, "details": details, "chain": f"case:{100_000 + number}",
                               "prev_hash": "0" * 64, "hash": "0" * 64})  # fmt: skip
        session.execute(sa.insert(ProcessInstance), cases)
        session.execute(sa.insert(AuditEvent), events)


def peak_while_streaming(engine: Engine, name: str) -> tuple[int, int]:
    """(peak bytes allocated, bytes written) while streaming export ``name`` to nowhere."""
    result = engine.export(engine.actor("audit"), name, {"prozess": pb.PROCESS})
    written = 0
    tracemalloc.start()
    try:
        for chunk in engine.export_chunks(result):
            written += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, written


def test_memory_of_a_streamed_export_does_not_grow_with_the_cases(deployed: Engine) -> None:
    add_cases(deployed, 2 * case_log.BATCH)
    small = {name: peak_while_streaming(deployed, name) for name in ("audit-xes", "audit-csv")}
    add_cases(deployed, 6 * case_log.BATCH, first=2 * case_log.BATCH)
    large = {name: peak_while_streaming(deployed, name) for name in ("audit-xes", "audit-csv")}
    for name in small:
        (small_peak, small_size), (large_peak, large_size) = small[name], large[name]
        assert large_size > 3.5 * small_size, name  # four times the cases written …
        assert large_peak < 1.5 * small_peak, (name, small_peak, large_peak)  # … in about the same memory
