"""Throughput of the EGS engine against raw SpiffWorkflow on the same process, interleaved case by case.

Workload: one PB Antragsannahme case along the main path of a first claim with complete documents
(start, 10 user tasks, 3 decision tables, scripts, a message that starts a TP1 case). Variants:

  raw-memory         SpiffWorkflow alone, workflow kept in memory (the upper bound)
  raw-serialized     SpiffWorkflow alone, its default (full, spec-embedding) JSON serializer: serialize after
                     the start and after every step, deserialize before every step
  raw-instance-only  the same with our instance-only codec (engine.serialization.StateCodec; the parsed spec
                     is cached and re-attached on every load) – the stricter anchor
  egs-sqlite         our engine end to end through the public Engine API, SQLite file (WAL)
  egs-postgresql     the same on PostgreSQL (with --pg URL or EGS_TEST_PG; each run works in a schema of its own,
                     ``egs_bench_run_<pid>``, in that database and drops it at the end – nothing else is touched)

The variants take turns case by case (raw-memory, raw-serialized, raw-instance-only, egs-sqlite,
egs-postgresql, then again …), so a busy machine slows all of them alike. Reported: the median time per
case (and cases/s derived from it), min and p90, and ratios of the medians.

A case in the egs variants is what a client does: ``start_case``; then per step the case's open tasks
(returned by the completion if the engine does that, else ``Engine.open_tasks``), ``claim`` (as a clerk does
in the web, so the task is in the clerk's "Meine" tab) and ``complete_task``. The case time that the ratios
use covers start, lookups and completions; the claims are timed and counted separately (raw SpiffWorkflow
has nothing like them). SQL statements are counted with SQLAlchemy events per phase; a "step" is one
completed user task (``complete_task``), the start is reported on its own. BEGIN, COMMIT and ROLLBACK count
as statements on both databases (taken from SQLAlchemy's begin/commit/rollback events: COMMIT and ROLLBACK are
never cursor executes, BEGIN is one only on SQLite); PostgreSQL's pool pre-ping (one ``SELECT 1`` per
connection checkout, not a cursor execute either) is reported beside them.

Usage: .venv/bin/python bench/run.py [--cases 500] [--pg URL] [--quick] [--show-statements]
--quick (300 cases, at most 60 s of measuring; under two minutes in all) ends with the lines
``ratio sqlite <x>``, ``statements-per-step sqlite <n>`` and, with PostgreSQL, the same for postgresql
(ratio = median egs throughput / median raw-serialized throughput). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import calendar
import functools
import gc
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pg_schema import drop_schema, fresh_schema  # noqa: E402
from engine.api import Engine  # noqa: E402
from engine.auth import system_actor  # noqa: E402
from engine.config import load_settings  # noqa: E402
from engine.inbox import InboxQuery  # noqa: E402
from engine.konfiguration import load_konfiguration  # noqa: E402
from engine.serialization import SERIALIZER_VERSION, StateCodec  # noqa: E402
from tests.support import pb  # noqa: E402

SITE = "56.4"
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
STEPS = len(STEP_DATA)
# Bench clerks, one per lane of the main path; the lookup asks them in this order (as before).
CLERKS = {"EGS": ("egs", "Bench EGS"), "TL": ("tl", "Bench TL"), "LSB": ("lsb", "Bench LSB")}
PASSWORD = "bench-passwort-2026"
PG_SCHEMA = f"egs_bench_run_{os.getpid()}"  # two runs on one database must not meet
MODELS = [p for p in sorted((ROOT / "processes").iterdir()) if p.suffix in (".bpmn", ".dmn")]

TIMED = ("start", "lookup", "complete")  # what the case time (and so the ratio) covers
PHASES = (*TIMED, "claim")
STATEMENT_KINDS = ("sql", "begin", "commit", "rollback")  # "checkout" (pre-ping) is reported apart


# --- samples -------------------------------------------------------------------------------------------------


@dataclass
class Sample:
    """One case of one variant: seconds and SQL per phase, completed steps, CPU time of this process."""

    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    cpu_seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))  # this process only
    statements: Counter[tuple[str, str]] = field(default_factory=Counter)  # (phase, kind)
    steps: int = 0
    lookups: int = 0

    @property
    def case_seconds(self) -> float:
        return sum(self.seconds[p] for p in TIMED)

    @property
    def case_cpu_seconds(self) -> float:
        return sum(self.cpu_seconds[p] for p in TIMED)

    def sql(self, phase: str) -> int:
        return sum(self.statements[phase, kind] for kind in STATEMENT_KINDS)


class Variant(Protocol):
    label: str

    def case(self, sample: Sample) -> None: ...


@contextmanager
def timed(sample: Sample, phase: str, counter: SqlCounter | None = None) -> Iterator[None]:
    if counter is not None:
        counter.phase = phase
    started, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        sample.seconds[phase] += time.perf_counter() - started
        sample.cpu_seconds[phase] += time.process_time() - cpu
        if counter is not None:
            counter.phase = "other"


# --- raw SpiffWorkflow ---------------------------------------------------------------------------------------


@functools.cache
def raw_script_engine() -> PythonScriptEngine:
    """SpiffWorkflow's own, unrestricted script engine with the helpers the models call."""
    try:
        from engine.scripting import HELPERS

        helpers: dict[str, Any] = dict(HELPERS)
    except ImportError:  # the engine moved them: the same few helpers, defined here
        from engine import clock

        helpers = {
            "date": date,
            "datetime": datetime,
            "timedelta": timedelta,
            "heute": clock.today_berlin,
            "jetzt": lambda: clock.now().astimezone(clock.BERLIN).isoformat(timespec="seconds"),
            "tage_im_monat": lambda jahr, monat: calendar.monthrange(int(jahr), int(monat))[1],
        }
    konfig = load_konfiguration(ROOT / "config" / "egs.toml")
    helpers["konfig"] = getattr(konfig, "script_value", konfig.get)
    return PythonScriptEngine(environment=TaskDataEnvironment(helpers))


class RawVariant:
    """SpiffWorkflow alone; ``persist`` None (in memory), "full" or "instance" serialization around every step."""

    def __init__(self, label: str, persist: str | None) -> None:
        self.label = label
        parser = SpiffBpmnParser()
        parser.add_bpmn_files([str(p) for p in MODELS if p.suffix == ".bpmn"])
        parser.add_dmn_files([str(p) for p in MODELS if p.suffix == ".dmn"])
        self.spec = parser.get_spec(pb.PROCESS)
        self.subprocesses = parser.get_subprocess_specs(pb.PROCESS)
        self.script_engine = raw_script_engine()
        self.persist = persist
        self.full = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
        self.codec = StateCodec()
        self.counter = 0

    def _dump(self, workflow: BpmnWorkflow) -> str:
        if self.persist == "full":
            return str(self.full.serialize_json(workflow))
        return self.codec.dumps(workflow)

    def _load(self, state: str) -> BpmnWorkflow:
        if self.persist == "full":
            workflow: BpmnWorkflow = self.full.deserialize_json(state)
        else:
            workflow = self.codec.loads(state, SERIALIZER_VERSION, self.spec, self.subprocesses)
        workflow.script_engine = self.script_engine  # never serialized
        return workflow

    def case(self, sample: Sample) -> None:
        self.counter += 1
        with timed(sample, "start"):
            workflow = BpmnWorkflow(self.spec, self.subprocesses, script_engine=self.script_engine)
            workflow.task_tree.data.update(
                {"vorgangsnummer": f"VG-{self.counter}", "standort": SITE, "gestartet_am": pb.heute()}
            )
            workflow.do_engine_steps()
            state = self._dump(workflow) if self.persist else ""
        while not workflow.is_completed():
            with timed(sample, "complete"):
                if self.persist:
                    workflow = self._load(state)
                task = workflow.get_next_task(state=TaskState.READY, manual=True)
                task.data.update(STEP_DATA[task.task_spec.bpmn_name])
                task.run()
                workflow.do_engine_steps()
                if self.persist:
                    state = self._dump(workflow)
            sample.steps += 1


# --- EGS -----------------------------------------------------------------------------------------------------


class SqlCounter:
    """Counts what an engine sends to its database, per phase; optionally keeps the statement texts."""

    def __init__(self, engine: sa.Engine) -> None:
        self.phase = "other"
        self.step = 0
        self.counts: Counter[tuple[str, str]] = Counter()
        self.trace: list[tuple[str, int, str]] | None = None
        self.pre_ping = bool(getattr(engine.pool, "_pre_ping", False))
        sa.event.listen(engine, "before_cursor_execute", self._execute)
        sa.event.listen(engine, "begin", lambda *_: self._note("begin", "BEGIN"))
        sa.event.listen(engine, "commit", lambda *_: self._note("commit", "COMMIT"))
        sa.event.listen(engine, "rollback", lambda *_: self._note("rollback", "ROLLBACK"))
        sa.event.listen(engine, "checkout", self._checkout)

    def _note(self, kind: str, text: str) -> None:
        self.counts[self.phase, kind] += 1
        if self.trace is not None:
            self.trace.append((self.phase, self.step, text))

    def _execute(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # SQLite's BEGIN IMMEDIATE is issued from the "begin" event, which is counted already.
        if not statement.lstrip().upper().startswith("BEGIN"):
            self._note("sql", statement)

    def _checkout(self, *_: Any) -> None:
        # A pooled PostgreSQL connection is pinged (SELECT 1, not a cursor execute) on every checkout.
        if self.pre_ping:
            self._note("checkout", "(pool pre-ping: SELECT 1 on checkout)")

    def total(self, phase: str) -> int:
        return sum(self.counts[phase, kind] for kind in STATEMENT_KINDS)


def _tasks_in(result: Any) -> list[Any] | None:
    """The case's next open tasks if the completion returns them (a list, or an attribute of the result)."""
    if isinstance(result, list | tuple):
        return list(result)
    for name in ("open_tasks", "next_tasks", "tasks"):
        value = getattr(result, name, None)
        if isinstance(value, list | tuple):
            return list(value)
    return None


def _status_of(result: Any) -> str | None:
    header = getattr(result, "header", result)
    status = getattr(header, "status", None)
    return status if isinstance(status, str) else None


def pg_bench_url(url: str) -> str:
    """This run's schema in the database of ``url``; the URL that works in it."""
    return fresh_schema(url, PG_SCHEMA)


def drop_pg_schema(url: str) -> None:
    drop_schema(url, PG_SCHEMA)


class EgsVariant:
    """Our engine through its public API only."""

    def __init__(self, label: str, url: str) -> None:
        self.label = label
        self.engine = Engine(load_settings({"database_url": url, "env": "test", "secret_key": "bench"}))
        self.engine.init_db()
        system = system_actor("bench")
        self.engine.deploy_paths([ROOT / "processes"], system, ROOT / "forms")
        for lane, (username, name) in CLERKS.items():
            self.engine.create_user(system, username, name, PASSWORD, [(lane, SITE)])
        self.actors = {lane: self.engine.actor(username) for lane, (username, _) in CLERKS.items()}
        self.counter = SqlCounter(self.engine.db.engine)
        complete = getattr(self.engine, "complete_task", None) or getattr(self.engine, "complete", None)
        if complete is None:
            raise SystemExit("Engine has neither complete_task nor complete")
        self.complete: Callable[..., Any] = complete
        self.mine_tab_ok: bool | None = None  # the first claimed task showed up in the clerk's "Meine" tab
        self.step_statements: list[int] = []  # statements of each completion of the last case

    def _lookup(self, sample: Sample, instance_id: int) -> list[Any]:
        """The case's open tasks, as the clerks of the three lanes see them (the web's list after a start)."""
        sample.lookups += 1
        with timed(sample, "lookup", self.counter):
            for actor in self.actors.values():
                found = self.engine.open_tasks(actor, instance_id)
                if found:
                    return list(found)
        return []

    def _check_mine_tab(self, actor: Any, task_uuid: str) -> None:
        if self.mine_tab_ok is None:
            mine = self.engine.inbox_page(actor, InboxQuery(tab="meine"))
            self.mine_tab_ok = any(row.task_uuid == task_uuid for row in mine.rows)

    def case(self, sample: Sample) -> None:
        self.counter.counts = Counter()
        self.counter.step = 0
        self.step_statements = []
        with timed(sample, "start", self.counter):
            header = self.engine.start_case(self.actors["EGS"], pb.PROCESS, site=SITE)
        instance_id = header.instance_id
        open_tasks, status = _tasks_in(header), _status_of(header)
        while status != "completed":
            if open_tasks is None:
                open_tasks = self._lookup(sample, instance_id)
            if not open_tasks:
                break
            task = open_tasks[0]
            actor = self.actors[task.lane]
            with timed(sample, "claim", self.counter):
                self.engine.claim(actor, task.task_uuid)
            self._check_mine_tab(actor, task.task_uuid)
            before = self.counter.total("complete")
            with timed(sample, "complete", self.counter):
                result = self.complete(actor, task.task_uuid, STEP_DATA[task.name])
            self.step_statements.append(self.counter.total("complete") - before)
            sample.steps += 1
            self.counter.step = sample.steps
            open_tasks, status = _tasks_in(result), _status_of(result)
        sample.statements = self.counter.counts

    def close(self) -> None:
        self.engine.close()


# --- the run -------------------------------------------------------------------------------------------------


def run_interleaved(variants: Sequence[Variant], cases: int, budget: float | None) -> dict[str, list[Sample]]:
    """Each variant one case in turn, ``cases`` rounds (fewer if ``budget`` seconds are spent)."""
    samples: dict[str, list[Sample]] = {v.label: [] for v in variants}
    started = time.perf_counter()
    for _ in range(cases):
        for variant in variants:
            sample = Sample()
            variant.case(sample)
            if sample.steps != STEPS:
                raise SystemExit(f"{variant.label}: {sample.steps} steps instead of {STEPS} – the workload broke")
            samples[variant.label].append(sample)
        if budget is not None and time.perf_counter() - started > budget:
            break
    return samples


def quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def number(value: float) -> str:
    """A plain number: at most one decimal, no trailing zero."""
    return f"{round(value, 1):g}"


@dataclass
class Figures:
    """Medians (and min/p90 of the case time) of one variant."""

    label: str
    median_ms: float
    min_ms: float
    p90_ms: float
    cpu_ms: float
    sql: dict[str, float] = field(default_factory=dict)  # per step / claim / lookup / start, pre-ping per step
    claim_ms: float = 0.0
    lookups: float = 0.0

    @property
    def per_second(self) -> float:
        return 1000 / self.median_ms


def figures(label: str, samples: list[Sample]) -> Figures:
    times = [s.case_seconds * 1000 for s in samples]
    cpu = statistics.median(s.case_cpu_seconds * 1000 for s in samples)
    result = Figures(label, statistics.median(times), min(times), quantile(times, 0.9), cpu)
    if label.startswith("egs"):
        med = statistics.median
        result.sql = {
            "step": med(s.sql("complete") / s.steps for s in samples),
            "claim": med(s.sql("claim") / s.steps for s in samples),
            "lookup": med(s.sql("lookup") / s.lookups if s.lookups else 0 for s in samples),
            "start": med(s.sql("start") for s in samples),
            "pre-ping": med(s.statements["complete", "checkout"] / s.steps for s in samples),
        }
        result.claim_ms = med(s.seconds["claim"] * 1000 / s.steps for s in samples)
        result.lookups = med(s.lookups for s in samples)
    return result


def report(results: dict[str, Figures], rounds: int, egs: Sequence[EgsVariant], load: tuple[float, float]) -> None:
    cores = len(os.sched_getaffinity(0))  # what nproc prints
    print(f"\nPB Antragsannahme, main path of a first claim (start + {STEPS} user tasks, message start of TP1)")
    print(f"{rounds} cases per variant, interleaved case by case; {date.today().isoformat()}, nproc {cores}, "
          f"load average {load[0]:.1f} before and {load[1]:.1f} after measuring")  # fmt: skip
    print("Case time: start + lookups + completions (claims apart); medians; CPU = this process only.\n")
    raw_full, raw_instance = results["raw-serialized"], results["raw-instance-only"]
    print("| variant | cases/s | ms/case | min | p90 | CPU ms | × raw-serialized | × raw-instance-only |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for f in results.values():
        print(
            f"| {f.label} | {f.per_second:.1f} | {f.median_ms:.1f} | {f.min_ms:.1f} | {f.p90_ms:.1f} | {f.cpu_ms:.1f} "
            f"| {raw_full.median_ms / f.median_ms:.2f} | {raw_instance.median_ms / f.median_ms:.2f} |"
        )
    if not egs:
        return
    print("\nStatements (BEGIN, COMMIT, ROLLBACK included; the pre-ping apart), medians over the cases:\n")
    print("| variant | per step (complete) | + pre-ping | per claim | per lookup | lookups/case | per start "
          "| claim ms |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for variant in egs:
        f = results[variant.label]
        print(
            f"| {f.label} | {number(f.sql['step'])} | {number(f.sql['pre-ping'])} | {number(f.sql['claim'])} "
            f"| {number(f.sql['lookup'])} | {number(f.lookups)} | {number(f.sql['start'])} | {f.claim_ms:.1f} |"
        )
    print()
    for variant in egs:
        mine = {True: "yes", False: "NO", None: "not checked"}[variant.mine_tab_ok]
        steps = " ".join(str(n) for n in variant.step_statements)
        print(f"{variant.label}: statements of each completion in the last case: {steps}; "
              f"claimed task in the clerk's 'Meine' tab: {mine}")  # fmt: skip


def compact(statement: str) -> str:
    """One line: parameters as ?, column lists elided."""
    text = " ".join(statement.split())
    text = re.sub(r"%\(\w+\)s(::(TIMESTAMP WITH(OUT)? TIME ZONE|[A-Z_]+(\(\d+\))?))?", "?", text)  # %(name)s::TYPE
    text = re.sub(r"^SELECT (\S+?),( \S+?,)+ (\S+?) FROM ", r"SELECT \1, … FROM ", text)
    returning = re.search(r" RETURNING .*$", text)
    text = re.sub(r"^(INSERT INTO \S+) \(.*$", r"\1 (…) VALUES (…)", text) + (returning[0] if returning else "")
    return text if len(text) <= 150 else text[:147] + "…"


def show_statements(variant: EgsVariant) -> None:
    """Print the statements of one more case: the start, the first step, and each completion that differs."""
    variant.counter.trace = []
    variant.case(Sample())
    trace, variant.counter.trace = variant.counter.trace, None
    usual = variant.step_statements[0]
    shown = {("start", 0), ("lookup", 0), ("claim", 0), ("complete", 0)}
    shown |= {("complete", n) for n, count in enumerate(variant.step_statements) if count != usual}
    print(f"\n== {variant.label}: statements of one case (start, step 1, and completions that differ)")
    current = None
    for phase, step, text in trace:
        if (phase, step) not in shown:
            continue
        if (phase, step) != current:
            print(f"-- {phase} (step {step + 1})" if phase != "start" else "-- start")
            current = (phase, step)
        print("   " + compact(text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, help="cases per variant (default 500; --quick: 300)")
    parser.add_argument("--pg", default=os.environ.get("EGS_TEST_PG") or None,
                        help="PostgreSQL URL (default: EGS_TEST_PG); the bench uses its own schema in it")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="stop measuring after 60 s (under two minutes in all)")
    parser.add_argument("--show-statements", action="store_true", help="print the SQL of one case afterwards")
    options = parser.parse_args()
    cases = options.cases or (300 if options.quick else 500)
    budget = 60.0 if options.quick else None

    variants: list[Variant] = [
        RawVariant("raw-memory", None),
        RawVariant("raw-serialized", "full"),
        RawVariant("raw-instance-only", "instance"),
    ]
    workdir = tempfile.TemporaryDirectory(prefix="egs-bench-")
    egs: list[EgsVariant] = []
    try:
        egs.append(EgsVariant("egs-sqlite", f"sqlite:///{workdir.name}/bench.sqlite3"))
        if options.pg:
            egs.append(EgsVariant("egs-postgresql", pg_bench_url(options.pg)))
        variants.extend(egs)
        run_interleaved(variants, 3, None)  # warm up: parse and cache specs, fill pools and caches
        gc.collect()
        gc.freeze()  # what exists now (specs, parsers, engines) is never scanned again by the collector
        load_before = os.getloadavg()[0]
        samples = run_interleaved(variants, cases, budget)
        results = {label: figures(label, found) for label, found in samples.items()}
        report(results, len(samples["raw-memory"]), egs, (load_before, os.getloadavg()[0]))
        if options.show_statements:
            for variant in egs:
                show_statements(variant)
    finally:
        for variant in egs:
            variant.close()
        if options.pg:
            drop_pg_schema(options.pg)
        workdir.cleanup()

    print()
    raw_full = results["raw-serialized"]
    for variant in egs:
        f, database = results[variant.label], variant.label.removeprefix("egs-")
        print(f"ratio {database} {raw_full.median_ms / f.median_ms:.2f}")
        print(f"statements-per-step {database} {number(f.sql['step'])}")


if __name__ == "__main__":
    main()
