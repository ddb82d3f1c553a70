"""Throughput of the EGS engine against raw SpiffWorkflow on the same process.

Workload: one PB Antragsannahme case along the main path of a first claim with complete documents
(start, 10 user tasks, 3 decision tables, scripts, a message to TP1). Measured:

  raw-memory      SpiffWorkflow alone, workflow kept in memory (the upper bound)
  raw-serialized  SpiffWorkflow alone, full JSON serialize + deserialize around every step
                  (what any persistent engine must at least do)
  egs-sqlite      our engine: permission checks, form validation, sandboxed scripts, optimistic
                  locking, inbox rows and audit events, persisted in SQLite (file, WAL)
  egs-postgresql  the same against PostgreSQL (only with --pg URL)

Usage: .venv/bin/python bench/run.py [--cases 200] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/bench]
The PostgreSQL database is wiped. Prints absolute figures and ratios; nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TODAY = date.today().isoformat()

from engine.api import Engine  # noqa: E402
from engine.auth import system_actor  # noqa: E402
from engine.config import load_settings  # noqa: E402
from engine.demo import create_demo_users  # noqa: E402
from engine.konfiguration import load_konfiguration  # noqa: E402
from engine.scripting import HELPERS  # noqa: E402
from tests.support import pb  # noqa: E402

# The main path of a first claim with complete documents: every step with the data a clerk enters.
STEP_DATA: dict[str, dict[str, Any]] = {
    pb.ANMELDEN: pb.anmeldung(),
    pb.ANNEHMEN: pb.ANTRAGSANNAHME,
    pb.BG_ERFASSEN: pb.BEDARFSGEMEINSCHAFT,
    pb.VORRANG_HINWEISEN: pb.vorrang(),
    pb.NEU_ANLEGEN: pb.neuanlage(),
    pb.PAPIERAKTE_ANLEGEN: pb.papierakte(),
    pb.VOLLSTAENDIGKEIT_PRUEFEN: pb.VOLLSTAENDIG,
    pb.TERMINE_DOKUMENTIEREN: pb.termine(),
    pb.VERTEILEN: pb.VERTEILUNG,
    pb.UEBERNEHMEN: pb.UEBERNAHME,
}
USER_BY_LANE = {"EGS": "egs", "TL": "tl", "LSB": "lsb"}
MODELS = [p for p in sorted((ROOT / "processes").iterdir()) if p.suffix in (".bpmn", ".dmn")]


def per_second(run_one: Callable[[], int], cases: int) -> tuple[float, float]:
    """Run ``cases`` cases; return (cases per second, median ms per case)."""
    durations = []
    started = time.perf_counter()
    for _ in range(cases):
        t0 = time.perf_counter()
        run_one()
        durations.append(time.perf_counter() - t0)
    total = time.perf_counter() - started
    return cases / total, statistics.median(durations) * 1000


def raw_runner(serialize: bool) -> Callable[[], int]:
    parser = SpiffBpmnParser()
    parser.add_bpmn_files([str(p) for p in MODELS if p.suffix == ".bpmn"])
    parser.add_dmn_files([str(p) for p in MODELS if p.suffix == ".dmn"])
    spec = parser.get_spec(pb.PROCESS)
    subprocesses = parser.get_subprocess_specs(pb.PROCESS)
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    # SpiffWorkflow's own, unrestricted engine – with the helpers the models use.
    konfig = load_konfiguration(ROOT / "config" / "egs.toml")
    helpers = {**HELPERS, "konfig": konfig.get}
    script_engine = PythonScriptEngine(environment=TaskDataEnvironment(helpers))

    def one() -> int:
        workflow = BpmnWorkflow(spec, subprocesses, script_engine=script_engine)
        workflow.task_tree.data.update({"vorgangsnummer": "VG-1", "standort": "56.4", "gestartet_am": TODAY})
        workflow.do_engine_steps()
        steps = 0
        while not workflow.is_completed():
            if serialize:
                workflow = serializer.deserialize_json(serializer.serialize_json(workflow))
                workflow.script_engine = script_engine
            task = workflow.get_next_task(state=TaskState.READY, manual=True)
            task.data.update(STEP_DATA[task.task_spec.bpmn_name])
            task.run()
            workflow.do_engine_steps()
            steps += 1
        if serialize:
            serializer.serialize_json(workflow)
        return steps

    return one


class StatementCounter:
    def __init__(self, engine: sa.Engine) -> None:
        self.count = 0
        sa.event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *args: Any) -> None:
        self.count += 1


def egs_runner(url: str) -> tuple[Callable[[], int], Engine, StatementCounter]:
    engine = Engine(load_settings({"database_url": url, "env": "test", "secret_key": "bench"}))
    engine.init_db()
    engine.deploy_paths([ROOT / "processes"], system_actor("bench"), ROOT / "forms")
    create_demo_users(engine)
    actors = {lane: engine.actor(name) for lane, name in USER_BY_LANE.items()}
    counter = StatementCounter(engine.db.engine)

    def one() -> int:
        header = engine.start_case(actors["EGS"], pb.PROCESS, site="56.4")
        steps = 0
        while header.status != "completed":
            open_tasks = engine.open_tasks(actors["EGS"], header.instance_id) or [
                t for lane in ("TL", "LSB") for t in engine.open_tasks(actors[lane], header.instance_id)
            ]
            task = open_tasks[0]
            header = engine.complete_task(actors[task.lane], task.task_uuid, STEP_DATA[task.name], header.lock_version)
            steps += 1
        return steps

    return one, engine, counter


def wipe_pg(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    args.add_argument("--cases", type=int, default=200)
    args.add_argument("--pg", help="PostgreSQL URL (the database is wiped)")
    options = args.parse_args()
    results: dict[str, tuple[float, float]] = {}
    for label, serialize in (("raw-memory", False), ("raw-serialized", True)):
        runner = raw_runner(serialize)
        runner()  # warm up
        results[label] = per_second(runner, options.cases)

    statements: dict[str, float] = {}
    targets = [("egs-sqlite", f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3")]
    if options.pg:
        wipe_pg(options.pg)
        targets.append(("egs-postgresql", options.pg))
    for label, url in targets:
        runner, engine, counter = egs_runner(url)
        runner()  # warm up (parses and caches the spec)
        counter.count = 0
        results[label] = per_second(runner, options.cases)
        # Per case: 1 start + 10 completions, each after looking up the case's open tasks.
        statements[label] = counter.count / options.cases
        engine.close()

    print(f"PB Antragsannahme, main path of a first claim (start + 10 user tasks), {options.cases} cases each\n")
    print(f"{'variant':<16} {'cases/s':>9} {'ms/case (median)':>17} {'SQL/case':>9}")
    for label, (rate, median) in results.items():
        sql = f"{statements[label]:.1f}" if label in statements else "-"
        print(f"{label:<16} {rate:>9.1f} {median:>17.2f} {sql:>9}")
    print()
    raw_mem, raw_ser = results["raw-memory"][0], results["raw-serialized"][0]
    for label in (k for k in results if k.startswith("egs")):
        rate = results[label][0]
        print(f"{label}: {rate / raw_mem:.2f}× raw in-memory, {rate / raw_ser:.2f}× raw serialize-per-step")


if __name__ == "__main__":
    main()
