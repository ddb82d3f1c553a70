"""Streaming of the audit function's event-log exports at 100 000 cases (SQLite or PostgreSQL).

Bulk-inserts completed PB cases with a trail of start, claim and completion of three tasks each (no model
code runs), then streams ``audit-xes`` and ``audit-csv`` to nowhere, as the web response does, and prints
the time, the size written and the growth of the resident memory (VmRSS sampled every 500 chunks, minus
the value before the export). Nothing is asserted: the test tests/test_audit_exports_streaming.py checks
that memory does not grow with the cases.

Usage: .venv/bin/python bench/audit_export.py [--cases 100000] [--pg URL]   (the PG database is wiped)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.api import Engine  # noqa: E402
from engine.auth import system_actor  # noqa: E402
from engine.config import load_settings  # noqa: E402
from engine.demo import create_demo_users  # noqa: E402
from engine.models import AuditEvent, ProcessInstance, ProcessVersion  # noqa: E402

T0 = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
TASKS = (("Task_Anmeldung", "Besucher anmelden und Anliegen erfassen"),
         ("Task_Antragsannahme", "Antrag annehmen und Identität prüfen"),
         ("Task_Bedarfsgemeinschaft", "Bedarfsgemeinschaft erfassen"))  # fmt: skip


def build(engine: Engine, cases: int) -> None:
    engine.init_db()
    engine.deploy_paths([ROOT / "processes"], system_actor("bench"), ROOT / "forms")
    create_demo_users(engine)
    with engine.db.transaction() as session:
        newest = sa.select(ProcessVersion.id).where(ProcessVersion.process_id == "pb_antragsannahme")
        version_id = session.scalar(newest)
    for first in range(0, cases, 5000):
        rows, events = [], []
        for number in range(first, min(cases, first + 5000)):
            at = T0 + timedelta(minutes=number)
            rows.append({"id": number + 1, "version_id": version_id, "process_id": "pb_antragsannahme",
                         "business_key": f"VG-2026-{number + 1:06d}", "site": ("56.4", "56.5", "56.6")[number % 3],
                         "status": "completed", "state": "{}", "serializer_version": "1", "lock_version": 1,
                         "created_by": "egs", "created_at": at, "updated_at": at, "priority": 0})  # fmt: skip
            events.append(_event(number, at, "start", None, {}))
            for step, (task_id, name) in enumerate(TASKS):
                task = str(uuid.uuid4())
                events.append(_event(number, at + timedelta(minutes=10 * step + 2), "claim", task, {"task": name}))
                events.append(_event(number, at + timedelta(minutes=10 * step + 9), "complete", task,
                                     {"task": name, "task_id": task_id}))  # fmt: skip
        with engine.db.transaction() as session:
            session.execute(sa.insert(ProcessInstance), rows)
            session.execute(sa.insert(AuditEvent), events)


def _event(number: int, at: datetime, action: str, task: str | None, details: dict[str, str]) -> dict[str, object]:
    return {"occurred_at": at, "actor": "egs", "action": action, "instance_id": number + 1, "task_uuid": task,
            "process_id": "pb_antragsannahme", "details": details, "chain": f"case:{number + 1}",
            "prev_hash": "0" * 64, "hash": "0" * 64}  # fmt: skip


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def measure(engine: Engine, name: str) -> None:
    result = engine.export(engine.actor("audit"), name, {})
    base, grown, written, chunks = rss_kb(), 0, 0, 0
    started = time.perf_counter()
    for chunk in engine.export_chunks(result):
        written += len(chunk.encode("utf-8"))
        chunks += 1
        if chunks % 500 == 0:
            grown = max(grown, rss_kb() - base)
    seconds = time.perf_counter() - started
    grown = max(grown, rss_kb() - base)
    print(f"{name}: {result.rows} Vorgänge, {written / 1e6:.1f} MB in {seconds:.1f} s "
          f"({result.rows / seconds:.0f} Vorgänge/s), RSS-Zuwachs höchstens {grown / 1024:.1f} MB")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--pg", help="PostgreSQL URL (wiped)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.pg or f"sqlite:///{tmp}/bench.sqlite3"
        if args.pg:
            wipe = sa.create_engine(args.pg)
            with wipe.begin() as connection:
                connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            wipe.dispose()
        engine = Engine(load_settings({"database_url": url, "env": "test", "secret_key": "bench"}))
        started = time.perf_counter()
        build(engine, args.cases)
        print(f"{'PostgreSQL' if args.pg else 'SQLite'}: {args.cases} Vorgänge angelegt in "
              f"{time.perf_counter() - started:.0f} s")  # fmt: skip
        for name in ("audit-xes", "audit-csv"):
            measure(engine, name)
        engine.close()


if __name__ == "__main__":
    main()
