"""Inbox speed at 100 000 cases with 300 000 open tasks across five sites (SQLite and PostgreSQL).

Builds the data set once per database (real deployed process, real serialized case state copied into
every case row, three inbox rows per case in different groups, due dates, claims, priorities), then
measures for an EGS clerk at site 56.4:

  query   Engine.inbox_page (the SQL of one inbox tab incl. the four tab counts), several variants
  page    GET / over HTTP against a real threaded server (login cookie, CSRF, templates, everything)

and prints p50/p95 in ms plus the query plans. Nothing is asserted: speed is measured, not tested.

Usage: .venv/bin/python bench/inbox.py [--cases 100000] [--runs 200] [--pg URL]   (the PG database is wiped)
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

from engine import clock  # noqa: E402
from engine.api import Engine  # noqa: E402
from engine.auth import system_actor  # noqa: E402
from engine.config import load_settings  # noqa: E402
from engine.demo import create_demo_users  # noqa: E402
from engine.inbox import InboxQuery, _base, _filters, _order, _tab_condition  # noqa: E402
from engine.models import NO_DUE_DATE, HumanTask, ProcessInstance, User, search_text_of  # noqa: E402
from engine.vocabulary import SITES  # noqa: E402

LANES = ("EGS", "TL", "LSB")
SURNAMES = ("Adler", "Brandt", "Celik", "Dietz", "Ernst", "Fuchs", "Graf", "Hahn", "Iwanow", "Jung")
FIRST = ("Anna", "Bert", "Cem", "Dora", "Emil", "Fatma", "Gero", "Hanna", "Ilse", "Jonas")


def build(engine: Engine, cases: int) -> None:
    """Create the data set: one real case as a template, then bulk rows."""
    engine.init_db()
    engine.deploy_paths([ROOT / "processes"], system_actor("bench"), ROOT / "forms")
    create_demo_users(engine)
    template = engine.start_case(system_actor("bench"), "pb_antragsannahme", site="56.4", system=True)
    with engine.db.transaction() as session:
        row = session.get(ProcessInstance, template.instance_id)
        assert row is not None
        state, version_id = row.state, row.version_id
        egs_id = session.scalar(sa.select(User.id).where(User.username == "egs"))
    now = clock.now()
    batch = 5000
    with engine.db.engine.begin() as connection:
        for start in range(0, cases, batch):
            instances = []
            for number in range(start, min(start + batch, cases)):
                instances.append(
                    {
                        "version_id": version_id,
                        "process_id": "pb_antragsannahme",
                        "business_key": f"07402//{number:07d}",
                        "site": SITES[number % len(SITES)],
                        "status": "running",
                        "state": state,
                        "serializer_version": "1.5",
                        "lock_version": 1,
                        "applicant_name": f"{SURNAMES[number % 10]}{number}, {FIRST[(number // 10) % 10]}",
                        "created_by": "bench",
                        "created_at": now - timedelta(minutes=number),
                        "updated_at": now,
                    }
                )
            ids = connection.execute(
                sa.insert(ProcessInstance).returning(ProcessInstance.id, ProcessInstance.business_key,
                                                     ProcessInstance.site, ProcessInstance.applicant_name),
                instances,
            ).all()  # fmt: skip
            tasks = []
            for instance_id, key, site, name in ids:
                for offset, lane in enumerate(LANES):
                    due = None if instance_id % 3 else now + timedelta(hours=(instance_id % 400) - 100)
                    tasks.append(
                        {
                            "task_uuid": f"{instance_id:08d}-0000-4000-8000-{offset:012d}",
                            "instance_id": instance_id,
                            "process_id": "pb_antragsannahme",
                            "process_name": "PB – Antragsannahme (Erstantrag und sonstige Anträge)",
                            "task_spec_id": f"Task_{lane}",
                            "name": f"Schritt {lane}",
                            "lane": lane,
                            "egs_role": "Durchführender",
                            "form_key": "pb_anmeldung.json",
                            "site": site,
                            "business_key": key,
                            "applicant_name": name,
                            "search_text": search_text_of(key, name),
                            "assignee_id": egs_id
                            # every 10th EGS task at 56.4 (the row's site follows from its number, so a plain
                            # "instance_id % 50 == 0" never met a 56.4 row and left the "Meine" tab empty)
                            if lane == "EGS" and site == "56.4" and (instance_id // len(SITES)) % 10 == 0
                            else None,
                            "due_at": due,
                            "due_sort": due or NO_DUE_DATE,
                            "priority": instance_id % 4 if instance_id % 7 == 0 else 0,
                            "created_at": now - timedelta(minutes=instance_id),
                        }
                    )
            connection.execute(sa.insert(HumanTask), tasks)
    with engine.db.engine.connect() as connection:
        if engine.db.is_sqlite:
            connection.exec_driver_sql("ANALYZE")
        else:
            # Steady state as autovacuum leaves it (visibility map set for index-only counts).
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE human_task")


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def timed(call: Callable[[], object], runs: int) -> tuple[float, float]:
    call()  # warm up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def plan(engine: Engine, query: InboxQuery) -> str:
    actor = engine.actor("egs")
    now = clock.now()
    statement = (
        _base()
        .where(_tab_condition(actor, query.tab, now), *_filters(query, now, engine.db.engine.dialect.name))
        .order_by(*_order(query.sort))
        .limit(51)
    )
    compiled = statement.compile(engine.db.engine, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN QUERY PLAN " if engine.db.is_sqlite else "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) "
    with engine.db.engine.connect() as connection:
        rows = connection.exec_driver_sql(prefix + str(compiled)).all()
    return "\n".join("    " + " | ".join(str(c) for c in r) for r in rows)


def http_page(engine: Engine, runs: int) -> tuple[float, float]:
    import logging

    from werkzeug.serving import make_server

    from webapp import create_app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log lines in the output
    server = make_server("127.0.0.1", 0, create_app(engine=engine), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    login = opener.open(base + "/anmelden").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login)
    assert token
    data = urllib.parse.urlencode({"csrf_token": token.group(1), "username": "egs", "password": "demo"}).encode()
    opener.open(base + "/anmelden", data=data).read()
    try:
        return timed(lambda: opener.open(base + "/").read(), runs)
    finally:
        server.shutdown()


def run(label: str, url: str, cases: int, runs: int) -> None:
    engine = Engine(load_settings({"database_url": url, "env": "test", "secret_key": "bench"}))
    started = time.perf_counter()
    build(engine, cases)
    with engine.db.reading() as session:
        tasks = session.scalar(sa.select(sa.func.count()).select_from(HumanTask))
    print(f"\n== {label}: {cases} cases, {tasks} open tasks (built in {time.perf_counter() - started:.0f} s)")
    actor = engine.actor("egs")
    variants = {
        "group tab, due first": InboxQuery(),
        "mine tab": InboxQuery(tab="meine"),
        "overdue tab": InboxQuery(tab="ueberfaellig"),
        "search name": InboxQuery(search="celik12"),
        "filter due today, priority sort": InboxQuery(due="heute", sort="prioritaet"),
    }
    print(f"{'inbox query (incl. 4 tab counts)':<40} {'p50 ms':>8} {'p95 ms':>8}")
    for name, query in variants.items():
        p50, p95 = timed(lambda q=query: engine.inbox_page(actor, q), runs)
        print(f"{name:<40} {p50:>8.1f} {p95:>8.1f}")
    p50, p95 = http_page(engine, runs)
    print(f"{'GET / over HTTP (full page)':<40} {p50:>8.1f} {p95:>8.1f}")
    print("query plan, group tab:\n" + plan(engine, InboxQuery()))
    print("query plan, search:\n" + plan(engine, InboxQuery(search="celik12")))
    engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--pg", help="PostgreSQL URL (wiped)")
    options = parser.parse_args()
    run("SQLite", f"sqlite:///{tempfile.mkdtemp()}/inbox.sqlite3", options.cases, options.runs)
    if options.pg:
        engine = sa.create_engine(options.pg)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
        run("PostgreSQL", options.pg, options.cases, options.runs)


if __name__ == "__main__":
    main()
