"""The auditor's case search (workbench) at 100 000 cases and 1 000 000 audit events, SQLite and PostgreSQL.

Seeds cheaply by direct inserts (one real case's state copied into every row; ten events per case – start,
three steps with claims, a draft, views – by the ten clerks of the case's site, no hash chain: the search never
reads it), then measures every filter set of ``VARIANTS``, interleaved between the databases, in rounds:

  engine  Workbench.search_cases (the search query and the audit record of the view, one transaction)
  page    GET /revision/vorgaenge over HTTP against a real threaded server (session, purpose, templates)

and prints p50/p95 of the wall clock and of the CPU spent per call (this process, plus the PostgreSQL server
processes of its connections: on a shared machine the CPU shows the work, the wall clock the wait under the
load of the moment), per round and as the median of the rounds. Nothing is asserted.

Usage: .venv/bin/python bench/audit_search.py [--cases 100000] [--runs 50] [--rounds 3] [--pg URL]
       [--measure engine,page] [--only 1,4,5] [--keep DIR [--reuse]]
(PostgreSQL: a schema of its own, ``bench_audit``, is created and, without ``--keep``, dropped.)
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

from engine import clock, models  # noqa: E402
from engine.api import Engine  # noqa: E402
from engine.audit_search import CaseQuery  # noqa: E402
from engine.auth import system_actor  # noqa: E402
from engine.config import load_settings  # noqa: E402
from engine.demo import create_demo_users  # noqa: E402
from engine.models import AuditEvent, ProcessInstance  # noqa: E402
from engine.vocabulary import SITES  # noqa: E402

SURNAMES = ("Adler", "Brandt", "Çelik", "Dietz", "Ernst", "Fuchs", "Graf", "Hahn", "Müller", "Jung")
STATUSES = ("running", "running", "completed", "cancelled")
FIRST = ("Anna", "Bert", "Cem", "Dora", "Emil", "Fatma", "Gero", "Hanna", "Ilse", "Jonas")
# Per case: started, three steps claimed and completed (one with a look at the task first), a draft, a view of
# the case; every 199th case also a lead's reassignment. 10–11 events per case, by the 10 clerks of its site.
EVENTS = ("start", "claim", "task_viewed", "complete", "claim", "draft_saved", "complete", "case_viewed", "claim",
          "complete")  # fmt: skip
TODAY = clock.today_berlin()
VARIANTS: dict[str, tuple[CaseQuery, str]] = {  # engine query, and the same as the page's query string
    "all, newest change first": (CaseQuery(), ""),
    "all, oldest first": (CaseQuery(sort="alt"), "sortierung=alt"),
    "all, second page (cursor)": (CaseQuery(), "CURSOR"),
    "name, one case (müller4242)": (CaseQuery(name="Müller4242"), "name=M%C3%BCller4242"),
    "name, 10 % of cases (mueller)": (CaseQuery(name="mueller"), "name=mueller"),
    "name 10 % + site + status, newest started": (
        CaseQuery(name="müller", site="56.7", status="completed", sort="neu"),
        "name=m%C3%BCller&standort=56.7&status=completed&sortierung=neu"),
    "name 10 % + a site without them (no hit)": (CaseQuery(name="müller", site="56.6"),
                                                 "name=m%C3%BCller&standort=56.6"),
    "Geschäftszeichen part": (CaseQuery(nummer="0042424"), "nummer=0042424"),
    "Vorgangsnummer": (CaseQuery(nummer="4242"), "nummer=4242"),
    "site + status, oldest first": (CaseQuery(site="56.6", status="completed", sort="alt"),
                                    "standort=56.6&status=completed&sortierung=alt"),
    "status rare (error), newest change": (CaseQuery(status="error"), "status=error"),
    "process + version": (CaseQuery(process_id="pb_antragsannahme", version=1), "prozess=pb_antragsannahme&version=1"),
    "period (10 days, 20 days ago)": (
        CaseQuery(von=TODAY - timedelta(days=20), bis=TODAY - timedelta(days=10)),
        f"von={(TODAY - timedelta(days=20)):%d.%m.%Y}&bis={(TODAY - timedelta(days=10)):%d.%m.%Y}"),
    "worked by (busy clerk)": (CaseQuery(person="clerk27"), "person=clerk27"),
    "worked by + action": (CaseQuery(person="clerk27", action="complete"), "person=clerk27&aktion=complete"),
    "worked by, rare (lead), oldest first": (CaseQuery(person="tl3", sort="alt"), "person=tl3&sortierung=alt"),
    "worked by nobody (no hit)": (CaseQuery(person="niemand"), "person=niemand"),
    "action rare (reassign) + site": (CaseQuery(action="reassign", site="56.7"), "aktion=reassign&standort=56.7"),
}  # fmt: skip


def _search_name(name: str) -> dict[str, str | None]:
    """The folded name where the schema has it (the bench also measures the code before migration 0024)."""
    folded = getattr(models, "search_name_of", None)
    return {"search_name": folded(name)} if folded is not None and "search_name" in ProcessInstance.__table__.c else {}


def _name(n: int) -> str:
    return f"{SURNAMES[n % 10]}{n}, {FIRST[(n // 10) % 10]}"


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
    first = now - timedelta(minutes=3 * cases)  # one case every 3 minutes, ids in the order of their start
    batch = 5000
    with engine.db.engine.begin() as connection:
        for start in range(0, cases, batch):
            rows = []
            for n in range(start, min(start + batch, cases)):
                created = first + timedelta(minutes=3 * n)
                updated = min(now, created + timedelta(minutes=(n * 7919) % (60 * 24 * 20)))
                status = "error" if n % 997 == 0 else STATUSES[n % len(STATUSES)]
                rows.append({"version_id": version_id, "process_id": "pb_antragsannahme",
                             "business_key": f"07402//{n:07d}", "site": SITES[n % len(SITES)], "status": status,
                             "state": state, "serializer_version": "1.5", "lock_version": 1,
                             "applicant_name": _name(n), **_search_name(_name(n)),
                             "created_by": "bench", "created_at": created, "updated_at": updated})  # fmt: skip
            ids = connection.execute(sa.insert(ProcessInstance).returning(ProcessInstance.id), rows).scalars().all()
            events = []
            for row, instance_id in zip(rows, ids, strict=True):
                site = SITES.index(row["site"])
                step = (row["updated_at"] - row["created_at"]) / len(EVENTS)
                actions = [*EVENTS, "reassign"] if instance_id % 199 == 0 else EVENTS
                for k, action in enumerate(actions):
                    actor = f"tl{site}" if action == "reassign" else f"clerk{site}{(instance_id + k // 3) % 10}"
                    events.append({"occurred_at": row["created_at"] + step * k, "actor": actor, "action": action,
                                   "instance_id": instance_id, "task_uuid": None, "process_id": "pb_antragsannahme",
                                   "details": {"task": "Schritt"}, "chain": f"case:{instance_id}",
                                   "prev_hash": "0" * 64, "hash": "1" * 64})  # fmt: skip
            connection.execute(sa.insert(AuditEvent), events)
    with engine.db.engine.connect() as connection:
        if engine.db.is_sqlite:
            connection.exec_driver_sql("ANALYZE")
        else:
            autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
            autocommit.exec_driver_sql("VACUUM ANALYZE process_instance")
            autocommit.exec_driver_sql("VACUUM ANALYZE audit_event")


Figures = tuple[float, float, float, float]  # wall p50, p95; CPU p50, p95 (ms)


def timed(call: Callable[[], object], runs: int, cpu: Callable[[], float]) -> Figures:
    """Wall-clock and CPU time per call: the machine is shared, so the CPU spent (this process – the page's
    server thread and the client – plus, on PostgreSQL, the server processes of the bench's connections) shows
    the work the page costs, the wall clock what a user waited under the load of the moment."""
    call()  # warm up
    walls, cpus = [], []
    for _ in range(runs):
        started, spent = time.perf_counter(), cpu()
        call()
        walls.append((time.perf_counter() - started) * 1000)
        cpus.append((cpu() - spent) * 1000)

    def p50_p95(samples: list[float]) -> tuple[float, float]:
        ordered = sorted(samples)
        return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]

    return (*p50_p95(walls), *p50_p95(cpus))


class Bench:
    """One database: its engine, a signed-in auditor with a purpose, and an HTTP server on it."""

    def __init__(self, label: str, url: str, cases: int, reuse: bool) -> None:
        import logging

        from werkzeug.serving import make_server

        from webapp import create_app

        self.label = label
        self.engine = Engine(load_settings({"database_url": url, "env": "test", "secret_key": "bench"}))
        started = time.perf_counter()
        if not reuse:
            build(self.engine, cases)
        with self.engine.db.reading() as session:
            counted = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
        print(f"{label}: {cases} cases, {counted} events ready in {time.perf_counter() - started:.0f} s", flush=True)
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
        self.backends: list[int] = []
        self.backends = self._backends()

    def _post(self, path: str, data: dict[str, str]) -> None:
        page = self.opener.open(self.base + path).read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert token, path
        body = urllib.parse.urlencode({"csrf_token": token.group(1), **data}).encode()
        self.opener.open(self.base + path, data=body).read()

    def cpu(self) -> float:
        """Seconds of CPU spent so far by this process and the database server processes serving it."""
        total = time.process_time()
        for pid in self.backends:
            try:
                with open(f"/proc/{pid}/schedstat") as stat:
                    total += int(stat.read().split()[0]) / 1e9
            except OSError:
                pass
        return total

    def _backends(self) -> list[int]:
        if self.engine.db.is_sqlite:
            return []
        with self.engine.db.engine.connect() as connection:  # the pool's connections, this one included
            query = "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            return list(connection.execute(sa.text(query)).scalars())

    def _page(self, args: str) -> None:
        with self.opener.open(f"{self.base}/revision/vorgaenge?{args}") as response:
            assert response.status == 200
            response.read()

    def measure(self, runs: int, variants: list[str], what: tuple[str, ...]) -> dict[str, Figures]:
        found: dict[str, Figures] = {}
        self.backends = self._backends()
        second = self.engine.workbench.search_cases(self.actor, self.token, CaseQuery()).next_cursor or ""
        for name in variants:
            query, args = VARIANTS[name]
            if args == "CURSOR":
                query, args = CaseQuery(cursor=second), urllib.parse.urlencode({"nach": second})
            if "engine" in what:
                found[f"engine: {name}"] = timed(
                    lambda q=query: self.engine.workbench.search_cases(self.actor, self.token, q), runs, self.cpu
                )
            if "page" in what:
                found[f"page: {name}"] = timed(lambda a=args: self._page(a), runs, self.cpu)
        return found

    def close(self) -> None:
        self.server.shutdown()
        self.engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pg", help="PostgreSQL URL (a schema bench_audit is created in it and dropped)")
    parser.add_argument("--only", default="", help="comma-separated variant numbers (1-based) to measure")
    parser.add_argument("--measure", default="engine,page", help="engine, page or both")
    parser.add_argument("--keep", help="keep the databases: SQLite file in this directory, PostgreSQL schema")
    parser.add_argument("--reuse", action="store_true", help="measure the databases kept by --keep, no build")
    parser.add_argument("--pg-only", action="store_true", help="measure PostgreSQL only")
    options = parser.parse_args()
    names = list(VARIANTS)
    variants = [names[int(i) - 1] for i in options.only.split(",")] if options.only else names
    what = tuple(options.measure.split(","))
    folder = options.keep or tempfile.mkdtemp()
    benches = (
        [] if options.pg_only else [Bench("SQLite", f"sqlite:///{folder}/audit.sqlite3", options.cases, options.reuse)]
    )
    if options.pg:
        url = fresh_schema(options.pg, "bench_audit") if not options.reuse else _scoped(options.pg)
        benches.append(Bench("PostgreSQL", url, options.cases, options.reuse))
    results: dict[str, dict[str, list[Figures]]] = {b.label: {} for b in benches}
    try:
        for round_ in range(options.rounds):
            for bench in benches:  # interleaved: the databases take turns
                for name, figures in bench.measure(options.runs, variants, what).items():
                    results[bench.label].setdefault(name, []).append(figures)
                    print(f"round {round_ + 1} {bench.label:<10} {name:<56} p50 {figures[0]:6.1f}  "
                          f"p95 {figures[1]:6.1f}  CPU p50 {figures[2]:6.1f}  p95 {figures[3]:6.1f}",
                          flush=True)  # fmt: skip
    finally:
        for bench in benches:
            bench.close()
        if options.pg and not options.keep:
            drop_schema(options.pg, "bench_audit")
    heads = " | ".join(f"{b.label} wall p50 / p95 | {b.label} CPU p50 / p95" for b in benches)
    print(f"\n| variant (ms, median of the rounds) | {heads} |")
    print(f"|---|{'---:|' * 2 * len(benches)}")
    for name in results[benches[0].label]:
        cells = []
        for bench in benches:
            rounds = results[bench.label][name]
            for first in (0, 2):
                p50 = statistics.median(r[first] for r in rounds)
                cells.append(f"{p50:.1f} / {statistics.median(r[first + 1] for r in rounds):.1f}")
        print(f"| {name} | {' | '.join(cells)} |")


def _scoped(url: str) -> str:
    scoped = sa.make_url(url).update_query_dict({"options": "-csearch_path=bench_audit,public"})
    return scoped.render_as_string(hide_password=False)


if __name__ == "__main__":
    main()
