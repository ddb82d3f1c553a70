"""The auditor's case search (workbench) at 100 000 cases and 300 000 audit events, SQLite and PostgreSQL.

Seeds cheaply by direct inserts (one real case's state copied into every row; three events per case by 50
clerks, no hash chain – the search never reads it), then measures, interleaved between the databases and
repeated in rounds:

  engine  Workbench.search_cases (the search query and the audit record of the view, one transaction)
  page    GET /revision/vorgaenge over HTTP against a real threaded server (session, purpose, templates)

and prints p50/p95 per round and the median of the rounds. Nothing is asserted: speed is measured, not tested.

Usage: .venv/bin/python bench/audit_search.py [--cases 100000] [--runs 100] [--rounds 3] [--pg URL]
(PostgreSQL: a schema of its own, ``bench_audit``, is created and dropped.)
"""

from __future__ import annotations

import argparse
import http.cookiejar
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pg_schema import drop_schema, fresh_schema  # noqa: E402

from engine import clock  # noqa: E402
from engine.api import Engine  # noqa: E402
from engine.audit_search import CaseQuery  # noqa: E402
from engine.auth import system_actor  # noqa: E402
from engine.config import load_settings  # noqa: E402
from engine.demo import create_demo_users  # noqa: E402
from engine.models import AuditEvent, ProcessInstance  # noqa: E402
from engine.vocabulary import SITES  # noqa: E402

SURNAMES = ("Adler", "Brandt", "Celik", "Dietz", "Ernst", "Fuchs", "Graf", "Hahn", "Iwanow", "Jung")
FIRST = ("Anna", "Bert", "Cem", "Dora", "Emil", "Fatma", "Gero", "Hanna", "Ilse", "Jonas")
STATUSES = ("running", "running", "completed", "cancelled")
ACTIONS = ("start", "claim", "complete")
VARIANTS = {
    "all, newest change first": CaseQuery(),
    "applicant name contains": CaseQuery(name="celik4242"),
    "site + status, oldest first": CaseQuery(site="56.6", status="completed", sort="alt"),
    "worked by + action": CaseQuery(person="clerk7", action="complete"),
    "process + period": CaseQuery(process_id="pb_antragsannahme", von=clock.today_berlin() - timedelta(days=20),
                                  bis=clock.today_berlin() - timedelta(days=10)),
}  # fmt: skip
PAGES = {"page: all": "", "page: name": "name=celik4242", "page: worked by + action": "person=clerk7&aktion=complete"}


def build(engine: Engine, cases: int) -> None:
    engine.init_db()
    engine.deploy_paths([ROOT / "processes"], system_actor("bench"), ROOT / "forms")
    create_demo_users(engine)
    template = engine.start_case(system_actor("bench"), "pb_antragsannahme", site="56.4", system=True)
    with engine.db.transaction() as session:
        row = session.get(ProcessInstance, template.instance_id)
        assert row is not None
        state, version_id = row.state, row.version_id
    now = clock.now()
    batch = 5000
    with engine.db.engine.begin() as connection:
        for start in range(0, cases, batch):
            rows = [
                {"version_id": version_id, "process_id": "pb_antragsannahme", "business_key": f"07402//{n:07d}",
                 "site": SITES[n % len(SITES)], "status": STATUSES[n % len(STATUSES)], "state": state,
                 "serializer_version": "1.5", "lock_version": 1,
                 "applicant_name": f"{SURNAMES[n % 10]}{n}, {FIRST[(n // 10) % 10]}", "created_by": "bench",
                 "created_at": now - timedelta(minutes=3 * n + 60), "updated_at": now - timedelta(minutes=3 * n)}
                for n in range(start, min(start + batch, cases))
            ]  # fmt: skip
            ids = connection.execute(sa.insert(ProcessInstance).returning(ProcessInstance.id), rows).scalars().all()
            events = [
                {"occurred_at": now - timedelta(minutes=3 * (cases - i) - k), "actor": f"clerk{(i + k) % 50}",
                 "action": action, "instance_id": i, "task_uuid": None, "process_id": "pb_antragsannahme",
                 "details": {"task": "Schritt"}, "chain": f"case:{i}", "prev_hash": "0" * 64, "hash": "1" * 64}
                for i in ids
                for k, action in enumerate(ACTIONS)
            ]  # fmt: skip
            connection.execute(sa.insert(AuditEvent), events)
    with engine.db.engine.connect() as connection:
        if engine.db.is_sqlite:
            connection.exec_driver_sql("ANALYZE")
        else:
            autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
            autocommit.exec_driver_sql("VACUUM ANALYZE process_instance")
            autocommit.exec_driver_sql("VACUUM ANALYZE audit_event")


def timed(call: Callable[[], object], runs: int) -> tuple[float, float]:
    call()  # warm up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


class Bench:
    """One database: its engine, a signed-in auditor with a purpose, and an HTTP server on it."""

    def __init__(self, label: str, url: str, cases: int) -> None:
        import logging

        from werkzeug.serving import make_server

        from webapp import create_app

        self.label = label
        self.engine = Engine(load_settings({"database_url": url, "env": "test", "secret_key": "bench"}))
        started = time.perf_counter()
        build(self.engine, cases)
        print(f"{label}: {cases} cases, {3 * cases} events built in {time.perf_counter() - started:.0f} s")
        signed_in = self.engine.login("audit", "demo")
        self.actor, self.token = signed_in.actor, signed_in.token
        self.engine.workbench.state_purpose(self.actor, self.token, "pruefung", "Messung")
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.server = make_server("127.0.0.1", 0, create_app(engine=self.engine), threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self._post("/anmelden", {"username": "audit", "password": "demo"})
        self._post("/revision/zweck", {"zweck": "pruefung", "aktenzeichen": "Messung"})

    def _post(self, path: str, data: dict[str, str]) -> None:
        page = self.opener.open(self.base + path).read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert token, path
        body = urllib.parse.urlencode({"csrf_token": token.group(1), **data}).encode()
        self.opener.open(self.base + path, data=body).read()

    def measure(self, runs: int) -> dict[str, tuple[float, float]]:
        found: dict[str, tuple[float, float]] = {}
        for name, query in VARIANTS.items():
            found[name] = timed(lambda q=query: self.engine.workbench.search_cases(self.actor, self.token, q), runs)
        second = self.engine.workbench.search_cases(self.actor, self.token, CaseQuery()).next_cursor or ""
        found["all, second page (cursor)"] = timed(
            lambda: self.engine.workbench.search_cases(self.actor, self.token, CaseQuery(cursor=second)), runs
        )
        for name, args in PAGES.items():
            found[name] = timed(lambda a=args: self.opener.open(f"{self.base}/revision/vorgaenge?{a}").read(), runs)
        return found

    def close(self) -> None:
        self.server.shutdown()
        self.engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pg", help="PostgreSQL URL (a schema bench_audit is created in it and dropped)")
    options = parser.parse_args()
    benches = [Bench("SQLite", f"sqlite:///{tempfile.mkdtemp()}/audit.sqlite3", options.cases)]
    if options.pg:
        benches.append(Bench("PostgreSQL", fresh_schema(options.pg, "bench_audit"), options.cases))
    results: dict[str, dict[str, list[tuple[float, float]]]] = {b.label: {} for b in benches}
    try:
        for round_ in range(options.rounds):
            for bench in benches:  # interleaved: the databases take turns
                for name, figures in bench.measure(options.runs).items():
                    results[bench.label].setdefault(name, []).append(figures)
                    print(
                        f"round {round_ + 1} {bench.label:<10} {name:<32} p50 {figures[0]:6.1f}  p95 {figures[1]:6.1f}"
                    )
    finally:
        for bench in benches:
            bench.close()
        if options.pg:
            drop_schema(options.pg, "bench_audit")
    print(f"\n| variant | {' | '.join(f'{b.label} p50 / p95 ms' for b in benches)} |")
    print(f"|---|{'---:|' * len(benches)}")
    for name in results[benches[0].label]:
        cells = []
        for bench in benches:
            rounds = results[bench.label][name]
            cells.append(
                f"{statistics.median(r[0] for r in rounds):.1f} / {statistics.median(r[1] for r in rounds):.1f}"
            )
        print(f"| {name} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
