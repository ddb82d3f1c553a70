"""HTTP load on the production web server: clerks log in, search their inbox, open a task, complete it.

Per run: a fresh database (a new SQLite file, or a new schema egs_load_<pid> in the PostgreSQL database of
--pg, dropped at the end), the models deployed, N clerk accounts (EGS at 56.4) and enough PB
Antragsannahme cases for each, with business keys of their own. Then the production server starts as a
real process on a free loopback port – the Dockerfile's command ``gunicorn -c gunicorn.conf.py`` (setup
"new"), or gunicorn's former 3 sync workers ("old") – in production mode, and every clerk, one thread with
one keep-alive connection:

  logs in (GET the login form for its CSRF token, POST it),
  then until the time is up: searches the inbox for their own cases (group tab, process filter, search
  term), opens the first task, completes it with valid data (POST with the CSRF token and lock_version),
  with the think time before each request.

The eight EGS steps of a first claim follow each other in a case (registration … Termine dokumentieren),
so clerks work the whole EGS part of the main path, including DMN decisions and the message that starts a
TP1 case. Logins happen before the clock starts (spread over one think time) and are listed separately;
after --warmup seconds of work (caches of every server process filled) the measured window of --duration
seconds begins; requests started in it count. Latency is taken at the client, from sending a request to
the end of its response. Loopback only, bounded in time, nothing asserted. The clients run on the same
machine as the server; every run prints how many cores the server, the clients and everything else (the
database, other users of the machine) kept busy.

Usage: .venv/bin/python bench/load.py [--clerks 100] [--think 1] [--duration 30] [--server new,old]
                                      [--pg postgresql+psycopg://postgres@127.0.0.1:5432/egs_bench]
--think and --server take comma-separated lists; every combination is one run. --repeat N makes N runs
of each, the setups taking turns, and adds a table of the median runs. A setup may carry gunicorn
options: --server 'new,new:--threads 4' (--gunicorn '…' appends options to every setup).
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import platform
import random
import re
import shlex
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pg_schema import drop_schema, fresh_schema  # noqa: E402
from engine.api import Engine  # noqa: E402
from engine.auth import create_user, hash_password, system_actor  # noqa: E402
from engine.config import load_settings  # noqa: E402
from tests.support import pb  # noqa: E402
from tests.support.serving import clean_environment, production_server  # noqa: E402
from tests.support.web import CSRF, LOCK  # noqa: E402

PASSWORD = "last-und-leistung"
SECRET = "bench-load-secret"
SITE = "56.4"
# gunicorn options appended to the production command; "new" is gunicorn.conf.py as it is.
SERVERS: dict[str, list[str]] = {
    "new": [],
    "old": ["--worker-class", "sync", "--workers", "3", "--threads", "1"],  # the setup before issue 9
    "gthread": ["--worker-class", "gthread"],  # gunicorn.conf.py's processes and threads, gthread workers
}
TASK_LINK = re.compile(r'href="/aufgaben/([0-9a-f-]{36})">([^<]+)<')
EGS_STEPS_PER_CASE = 8
KINDS = ("login", "inbox", "task", "complete")
MEASURED = ("inbox", "task", "complete")
DAY = "03.02.2025"

# What a clerk enters in the EGS steps of a first claim with complete documents (as the web forms send it).
FORM_DATA: dict[str, list[tuple[str, str]]] = {
    pb.ANMELDEN: [
        ("vorname", "Jana"),
        ("nachname", "Probstfeld"),
        ("geburtsdatum", "12.04.1988"),
        ("anliegen", "erstantrag"),
        ("tag_der_antragstellung", DAY),
    ],
    pb.ANNEHMEN: [
        ("antragsart", "hauptantrag"),
        ("anlagen", "KDU"),
        ("anlagen", "EK"),
        ("ausweisart", "personalausweis"),
        ("ausweisnummer", "L01X00T47"),
        ("ausweis_gueltig_bis", "31.12.2030"),
        ("identitaet_geprueft", "on"),
        ("keine_ausweiskopie", "on"),
        ("compass_stand", "nicht_erfasst"),
    ],
    pb.BG_ERFASSEN: [
        ("anzahl_personen_bg", "1"),
        ("rollen_in_bg", "antragsteller"),
        ("anzahl_erwerbsfaehige", "1"),
        ("anzahl_kinder_unter_15", "0"),
        ("anzahl_kinder_15_bis_24", "0"),
        ("weitere_personen_haushalt", "0"),
    ],
    pb.VORRANG_HINWEISEN: [
        *[(key, "nicht_einschlaegig") for key in pb.VORRANGIGE_LEISTUNGEN_KEYS if key != "vorrang_wohngeld"],
        ("vorrang_wohngeld", "hinweis_gegeben"),
        ("hinweise_erteilt_am", DAY),
    ],
    pb.NEU_ANLEGEN: [("bg_nummer", "07402//0094744"), ("open_prosoz_angelegt_am", DAY), ("open_prosoz_angelegt", "on")],
    pb.PAPIERAKTE_ANLEGEN: [("papierakte_angelegt_am", DAY), ("papierakte_angelegt", "on")],
    pb.VOLLSTAENDIGKEIT_PRUEFEN: [("unterlagen_vollstaendig", "on")],
    pb.TERMINE_DOKUMENTIEREN: [
        ("termine_egs", "vorsprache"),
        ("termine_egs", "antragsannahme"),
        ("letzter_termin_am", DAY),
        ("termine_vermerk", "Antrag angenommen."),
        ("termine_dokumentiert", "on"),
    ],
}


def clerk_name(number: int) -> str:
    return f"last{number:03d}"


def case_key(clerk: int, case: int) -> str:
    return f"LT-{clerk:03d}-{case:03d}"


def search_term(clerk: int) -> str:
    return f"LT-{clerk:03d}-"


# --- data ---------------------------------------------------------------------------------------------------


PG_SCHEMA = f"egs_load_{os.getpid()}"


def fresh_pg_schema(url: str) -> str:
    """This run's schema in the database of ``url``; the URL that works in it."""
    return fresh_schema(url, PG_SCHEMA)


def drop_pg_schema(url: str) -> None:
    drop_schema(url, PG_SCHEMA)


def prepare(url: str, clerks: int, cases_per_clerk: int) -> float:
    """Migrate, deploy, create the clerks and their cases; return the seconds it took."""
    started = time.perf_counter()
    settings = load_settings(
        {
            "database_url": url,
            "env": "test",
            "secret_key": SECRET,
            "processes_dir": ROOT / "processes",
            "forms_dir": ROOT / "forms",
            "config_file": ROOT / "config" / "egs.toml",
        }
    )
    engine = Engine(settings)
    try:
        engine.init_db()
        engine.deploy_paths([ROOT / "processes"], system_actor("bench"), ROOT / "forms")
        shared_hash = hash_password(PASSWORD)
        with engine.db.transaction() as session:
            for number in range(clerks):
                name = clerk_name(number)
                create_user(session, name, f"Lastprobe {number}", PASSWORD, [("EGS", SITE)], password_hash=shared_hash)
        bench = system_actor("bench")
        for case in range(cases_per_clerk):
            for number in range(clerks):
                engine.start_case(bench, pb.PROCESS, site=SITE, business_key=case_key(number, case), system=True)
    finally:
        engine.close()
    return time.perf_counter() - started


# --- clerks -------------------------------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    seconds: float
    started: float
    error: str | None  # None: the expected answer (200, or 302 after a POST)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Shared:
    port: int
    think: float
    start: threading.Event = field(default_factory=threading.Event)
    started_at: float = 0.0
    deadline: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    samples: list[Sample] = field(default_factory=list)
    ran_dry: int = 0


class Clerk(threading.Thread):
    """One clerk on one keep-alive connection, with the session cookie kept by hand.

    The production app marks its cookie Secure; a browser would not send it over plain HTTP, but the server
    sits behind a TLS proxy in production, and here the client talks to it directly on loopback.
    """

    def __init__(self, number: int, shared: Shared, login_at: float) -> None:
        super().__init__(name=f"clerk-{number}", daemon=True)
        self.number = number
        self.shared = shared
        self.login_at = login_at
        self.cookie = ""
        self.connection = http.client.HTTPConnection("127.0.0.1", shared.port, timeout=60)
        self.logged_in = False
        self.login_done = False
        self.reused = False  # the connection has answered before and was kept alive

    def call(self, kind: str, method: str, path: str, form: list[tuple[str, str]] | None = None) -> tuple[int, str]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.monotonic()
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                html = response.read().decode("utf-8", "replace")
                break
            except (OSError, http.client.HTTPException) as exc:
                self.connection.close()
                # A kept-alive connection the server closed while the clerk was thinking fails before any
                # answer; browsers then send the request again on a new connection, and so does the clerk.
                if attempt == 1 and self.reused and isinstance(exc, http.client.RemoteDisconnected | BrokenPipeError):
                    self.reused = False
                    continue
                self.record(kind, started, f"{kind}: {type(exc).__name__}")
                return 0, ""
        self.reused = not response.will_close
        for header in response.headers.get_all("Set-Cookie") or []:
            if header.startswith("egs_session="):
                self.cookie = header.split(";", 1)[0]
        expected = 302 if method == "POST" else 200
        self.record(kind, started, None if response.status == expected else f"{kind}: HTTP {response.status}")
        return response.status, html

    def record(self, kind: str, started: float, error: str | None) -> None:
        sample = Sample(kind, time.monotonic() - started, started, error)
        with self.shared.lock:
            self.shared.samples.append(sample)

    def think(self) -> bool:
        """Wait the think time; False once the time is up."""
        if self.shared.think:
            time.sleep(self.shared.think)
        return time.monotonic() < self.shared.deadline

    def login(self) -> None:
        time.sleep(max(0.0, self.login_at - time.monotonic()))
        _, page = self.call("login", "GET", "/anmelden")
        token = CSRF.search(page)
        if token is None:
            self.login_done = True
            return
        status, _ = self.call(
            "login",
            "POST",
            "/anmelden",
            [("csrf_token", token.group(1)), ("username", clerk_name(self.number)), ("password", PASSWORD)],
        )
        self.logged_in = status == 302
        self.login_done = True

    def run(self) -> None:
        self.login()
        self.shared.start.wait()
        if not self.logged_in:
            return
        # Clerks do not start in lockstep: the first action comes somewhere within one think time.
        time.sleep(random.uniform(0, self.shared.think))
        query = urllib.parse.urlencode({"tab": "gruppe", "prozess": pb.PROCESS, "suche": search_term(self.number)})
        while time.monotonic() < self.shared.deadline:
            status, inbox = self.call("inbox", "GET", f"/?{query}")
            if status != 200:
                if not self.think():
                    break
                continue
            link = next((m for m in TASK_LINK.finditer(inbox) if m.group(2) in FORM_DATA), None)
            if link is None:
                with self.shared.lock:
                    self.shared.ran_dry += 1
                return
            if not self.think():
                break
            task_path = f"/aufgaben/{link.group(1)}"
            status, page = self.call("task", "GET", task_path)
            token, lock = CSRF.search(page), LOCK.search(page)
            if status != 200 or token is None or lock is None:
                if not self.think():
                    break
                continue
            if not self.think():
                break
            form = [("csrf_token", token.group(1)), ("lock_version", lock.group(1)), *FORM_DATA[link.group(2)]]
            self.call("complete", "POST", task_path, form)
            if not self.think():
                break
        self.connection.close()


# --- CPU accounting: the machine is shared, so every run says who used the cores -----------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def tree_ticks(root: int) -> int:
    """CPU ticks used so far by the live processes under ``root``: the server, its workers, their jails."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])  # ppid
        ticks[int(entry.name)] = int(fields[11]) + int(fields[12])  # utime + stime
    total = 0
    for pid in ticks:
        ancestor = pid
        while ancestor not in (root, 0, 1) and ancestor in parents:
            ancestor = parents[ancestor]
        if ancestor == root:
            total += ticks[pid]
    return total


# --- one run ------------------------------------------------------------------------------------------------


@dataclass
class Result:
    database: str
    server: str
    clerks: int
    think: float
    duration: float
    requests: int
    completions: int
    errors: int
    percentiles: dict[str, tuple[float, float, float, int]]  # kind → p50, p95, p99 (ms), count
    client_cpu: float  # cores the load generator used in the window
    server_cpu: float  # cores the server's processes used
    machine_cpu: float  # cores busy on the whole machine (server, client, database and anything else)
    ran_dry: int
    error_kinds: dict[str, int]

    @property
    def per_second(self) -> float:
        return self.completions / self.duration

    @property
    def other_cpu(self) -> float:
        """Cores busy with anything but the server and the load generator (the database, other users)."""
        return max(0.0, self.machine_cpu - self.server_cpu - self.client_cpu)


def percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def summarize(samples: list[Sample], kinds: tuple[str, ...]) -> tuple[float, float, float, int]:
    values = sorted(s.seconds * 1000 for s in samples if s.kind in kinds)
    return percentile(values, 0.50), percentile(values, 0.95), percentile(values, 0.99), len(values)


def run_once(
    database: str,
    url: str,
    server: str,
    gunicorn_options: list[str],
    clerks: int,
    think: float,
    duration: float,
    warmup: float,
    cases_per_clerk: int,
) -> Result:
    if database == "PostgreSQL":
        url = fresh_pg_schema(url)
    seconds = prepare(url, clerks, cases_per_clerk)
    print(f"  prepared {clerks} clerks, {clerks * cases_per_clerk} cases in {seconds:.0f} s", flush=True)
    env = clean_environment(EGS_DATABASE_URL=url, EGS_SECRET_KEY=SECRET, EGS_ENV="production")
    with (
        tempfile.TemporaryDirectory() as folder,
        production_server(env, Path(folder) / "server.log", gunicorn_options) as running,
    ):
        shared = Shared(running.port, think)
        ramp = max(think, 1.0)
        now = time.monotonic()
        team = [Clerk(n, shared, now + ramp * n / clerks) for n in range(clerks)]
        for clerk in team:
            clerk.start()
        time.sleep(ramp + 0.2)
        while any(c.is_alive() and not c.login_done for c in team) and time.monotonic() < now + ramp + 60:
            time.sleep(0.05)  # wait for the last logins
        logins = list(shared.samples)
        shared.samples.clear()
        shared.started_at = time.monotonic() + warmup
        shared.deadline = shared.started_at + duration
        shared.start.set()
        time.sleep(warmup)
        cpu_before, server_before, machine_before = (
            time.process_time(),
            tree_ticks(running.process.pid),
            machine_ticks(),
        )
        time.sleep(max(0.0, shared.deadline - time.monotonic()))
        cpu = (time.process_time() - cpu_before) / duration
        server_cpu = (tree_ticks(running.process.pid) - server_before) / TICKS / duration
        busy, total = (after - before for after, before in zip(machine_ticks(), machine_before, strict=True))
        machine_cpu = busy / total * (os.cpu_count() or 1)
        for clerk in team:
            clerk.join(timeout=90)
        assert running.process.poll() is None, running.output()
    window = [s for s in shared.samples if shared.started_at <= s.started < shared.deadline]
    errors: dict[str, int] = defaultdict(int)
    for sample in [*logins, *window]:
        if sample.error:
            errors[sample.error] += 1
    completions = sum(1 for s in window if s.kind == "complete" and s.ok and s.started + s.seconds <= shared.deadline)
    percentiles = {kind: summarize(window, (kind,)) for kind in MEASURED}
    percentiles["login"] = summarize(logins, ("login",))
    percentiles["all"] = summarize(window, MEASURED)
    return Result(
        database=database,
        server=server,
        clerks=clerks,
        think=think,
        duration=duration,
        requests=len(window),
        completions=completions,
        errors=sum(errors.values()),
        percentiles=percentiles,
        client_cpu=cpu,
        server_cpu=server_cpu,
        machine_cpu=machine_cpu,
        ran_dry=shared.ran_dry,
        error_kinds=dict(errors),
    )


def print_result(result: Result) -> None:
    print(f"  {'request':<10} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for kind in (*KINDS, "all"):
        p50, p95, p99, count = result.percentiles[kind]
        label = kind if kind != "all" else "all*"
        print(f"  {label:<10} {count:>7} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f}")
    print(
        f"  completions/s {result.per_second:.1f}, requests {result.requests}, errors {result.errors}"
        f" {result.error_kinds or ''}\n  cores busy: server {result.server_cpu:.2f}, load generator"
        f" {result.client_cpu:.2f}, everything else (database, other users) {result.other_cpu:.2f}"
        f" of {os.cpu_count()}" + (f", {result.ran_dry} clerk(s) ran out of tasks" if result.ran_dry else ""),
        flush=True,
    )


def markdown(results: list[Result]) -> str:
    lines = [
        "| database | server | clerks | think s | completions/s | p50 ms | p95 ms | p99 ms | p95 complete ms"
        " | requests | errors | cores: server / other |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        p50, p95, p99, _ = r.percentiles["all"]
        lines.append(
            f"| {r.database} | {r.server} | {r.clerks} | {r.think:g} | {r.per_second:.1f} | {p50:.0f} | {p95:.0f}"
            f" | {p99:.0f} | {r.percentiles['complete'][1]:.0f} | {r.requests} | {r.errors}"
            f" | {r.server_cpu:.1f} / {r.other_cpu:.1f} |"
        )
    return "\n".join(lines)


def machine() -> str:
    memory = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores ({cpu}), {memory} memory, Python {platform.python_version()}"


def cases_needed(clerks: int, think: float, duration: float, cases: int | None) -> int:
    """Cases per clerk so that nobody runs dry: a cycle is three requests and three think times."""
    if cases:
        return cases
    if think > 0:
        per_clerk = duration / (3 * think) + 2
    else:
        per_clerk = 250 * duration / clerks  # well above what two cores complete per second
    return math.ceil(per_clerk / EGS_STEPS_PER_CASE) + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clerks", type=int, default=100)
    parser.add_argument("--think", default="1", help="seconds before each request; a comma-separated list runs each")
    parser.add_argument("--duration", type=float, default=30.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load before the measurement")
    parser.add_argument(
        "--server",
        default="new",
        help=f"comma-separated, of: {', '.join(SERVERS)}; NAME:OPTIONS appends gunicorn options, e.g. new:--threads 4",
    )
    parser.add_argument("--pg", help="PostgreSQL URL (the bench works in a schema of its own); without it: SQLite")
    parser.add_argument("--cases", type=int, help="cases per clerk (default: enough for the run)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per setup, interleaved; prints the medians too")
    parser.add_argument("--gunicorn", default="", help="more gunicorn options for every run, e.g. '--threads 4'")
    options = parser.parse_args()
    servers = [s.strip() for s in options.server.split(",") if s.strip()]
    unknown = [s for s in servers if s.split(":", 1)[0] not in SERVERS]
    if unknown:
        parser.error(f"unknown server setup: {', '.join(unknown)}")
    thinks = [float(t) for t in options.think.split(",")]
    database = "PostgreSQL" if options.pg else "SQLite"
    extra = shlex.split(options.gunicorn)
    print(f"machine: {machine()}; database: {database}")
    results: list[Result] = []
    try:
        for think in thinks:
            for server in [s for _ in range(options.repeat) for s in servers]:  # interleaved: new, old, new, old …
                name, _, own = server.partition(":")
                label = f"{name} {own} {options.gunicorn}".strip()
                print(f"\n== {database}, server {label}, {options.clerks} clerks, think {think:g} s", flush=True)
                with tempfile.TemporaryDirectory() as folder:
                    url = options.pg or f"sqlite:///{folder}/load.sqlite3"
                    cases = cases_needed(options.clerks, think, options.warmup + options.duration, options.cases)
                    gunicorn_options = [*SERVERS[name], *shlex.split(own), *extra]
                    result = run_once(
                        database, url, label, gunicorn_options, options.clerks, think, options.duration,
                        options.warmup, cases,
                    )  # fmt: skip
                print_result(result)
                results.append(result)
    finally:
        if options.pg:
            drop_pg_schema(options.pg)
    print(f"\nmachine: {machine()}")
    print("all* = inbox search, task page and completion in the measured window (logins are listed above);")
    print("cores: CPU the server's processes used / everything but server and load generator used\n")
    print(markdown(results))
    if options.repeat > 1:
        print(f"\nmedian of {options.repeat} interleaved runs (by p95 with think time, else by completions/s):\n")
        print(markdown(medians(results)))


def medians(results: list[Result]) -> list[Result]:
    """Per (think time, server), the median run: by p95 with think time, by completions/s without."""
    groups: dict[tuple[float, str], list[Result]] = defaultdict(list)
    for result in results:
        groups[(result.think, result.server)].append(result)
    chosen = []
    for (think, _), group in groups.items():
        group.sort(key=(lambda r: r.percentiles["all"][1]) if think else (lambda r: r.per_second))
        chosen.append(group[(len(group) - 1) // 2])
    return chosen


if __name__ == "__main__":
    main()
