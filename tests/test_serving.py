"""The production web server withstands slow clients (issue 9).

Starts the Dockerfile's own command (``gunicorn -c gunicorn.conf.py``) as a real process on a free
loopback port, against a SQLite file prepared like production's migrate service (``egs init-db``,
``egs deploy processes/``, plus ``egs demo``), in production mode. Then it opens many connections that
trickle their request a byte every half second – request heads, and POST bodies after a complete head,
more of them than the server has threads – and checks that ``/healthz`` keeps answering fast on fresh
connections meanwhile. gunicorn's old setup (three sync workers) fails this test, and so do gthread
workers: a request read in a worker or pool thread holds it while it trickles. The server is the same on
PostgreSQL, so this runs on SQLite only.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.support.engines import ROOT
from tests.support.serving import (
    RunningServer,
    clean_environment,
    egs_command,
    free_port,
    get,
    production_server,
)
from webapp.serving import BufferedWSGI, Message

SLOW_HEADS = 16
SLOW_BODIES = 32  # more than workers × threads in gunicorn.conf.py: a body read in a pool thread would starve it
TRICKLE_SECONDS = 0.5
HEALTHZ_BOUND = 2.0  # seconds; unloaded, /healthz answers in a few milliseconds
HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: trickle\r\nAccept: */*\r\n\r\n"
BODY = b"username=egs&password=demo&csrf_token=" + b"x" * 40
POST_HEAD = (
    b"POST /anmelden HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n"
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    env = clean_environment(
        EGS_DATABASE_URL=f"sqlite:///{tmp_path / 'egs.sqlite3'}", EGS_SECRET_KEY="slow-client-test", EGS_ENV="test"
    )
    egs_command(env, "init-db")
    egs_command(env, "deploy", "processes/")
    egs_command(env, "demo")  # refused in production, so prepared in the test environment
    env["EGS_ENV"] = "production"
    with production_server(env, tmp_path / "server.log") as running:
        yield running


@dataclass
class Trickler:
    """Connections that each send their request one byte every TRICKLE_SECONDS, driven by one thread."""

    port: int
    sockets: list[tuple[socket.socket, bytes]] = field(default_factory=list)
    sent: int = 0
    broken: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def open(self, count: int, payload: bytes, sent_at_once: bytes = b"") -> None:
        """Open ``count`` connections that send ``sent_at_once`` now and then trickle ``payload``."""
        for _ in range(count):
            connection = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            connection.sendall(sent_at_once)
            self.sockets.append((connection, payload))

    def run(self) -> None:
        position = 0
        while not self.stop.is_set():
            for connection, payload in self.sockets:
                if position < len(payload):
                    try:
                        connection.sendall(payload[position : position + 1])
                    except OSError as exc:
                        self.broken.append(type(exc).__name__)
            position += 1
            self.sent = position
            self.stop.wait(TRICKLE_SECONDS)

    def close(self) -> None:
        self.stop.set()
        for connection, _ in self.sockets:
            connection.close()


def test_healthz_answers_fast_while_many_clients_trickle(server: RunningServer) -> None:
    trickler = Trickler(server.port)
    trickler.open(SLOW_HEADS, HEAD)
    trickler.open(SLOW_BODIES, BODY, sent_at_once=POST_HEAD)
    thread = threading.Thread(target=trickler.run, daemon=True)
    thread.start()
    try:
        # Time for every slow connection to be accepted and stuck mid-request.
        time.sleep(3 * TRICKLE_SECONDS)
        timings: list[float] = []
        for _ in range(6):
            try:
                status, seconds = get(server.port, "/healthz", HEALTHZ_BOUND + 1)
            except TimeoutError:
                status, seconds = 0, float("inf")
            timings.append(round(seconds, 3))
            assert status == 200 and seconds <= HEALTHZ_BOUND, (
                f"/healthz: status {status} after {seconds:.2f} s with {SLOW_HEADS + SLOW_BODIES} slow clients"
                f" connected; timings {timings}\n{server.output()}"
            )
            time.sleep(TRICKLE_SECONDS)
        # The slow clients were still mid-request, and connected, throughout.
        assert trickler.sent < min(len(HEAD), len(BODY)), "the slow requests completed before the checks ended"
        assert not trickler.broken, f"slow connections were dropped: {trickler.broken[:5]}"
        assert server.process.poll() is None
    finally:
        trickler.close()
        thread.join(timeout=5)


def test_compose_runs_the_image_command() -> None:
    """docker compose's web service keeps the Dockerfile's CMD, so the settings stay in gunicorn.conf.py."""
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    web = re.search(r"^  web:\n((?:    .*\n|\s*\n)*)", compose, re.M)
    assert web, "docker-compose.yml has no web service"
    assert not re.search(r"^\s+command:", web.group(1), re.M), "web overrides the image's command"
    assert re.search(r"^COPY .*\bgunicorn\.conf\.py\b", (ROOT / "Dockerfile").read_text(encoding="utf-8"), re.M)


# --- the bridge from the event loop to the Flask app ------------------------------------------------------------


def _call(app: BufferedWSGI, messages: list[dict[str, Any]], headers: list[tuple[bytes, bytes]]) -> list[Message]:
    """Run one request through the ASGI app; return what it sent."""
    scope = {
        "type": "http", "method": "POST", "path": "/pfad/ä", "root_path": "", "query_string": b"a=1",
        "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 5555),
        "headers": headers,
    }  # fmt: skip
    pending = list(messages)
    sent: list[Message] = []

    async def receive() -> Message:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    # A loop of its own, in a thread of its own: a browser test before this one in the same worker may have
    # left Playwright's event loop running in this thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()
    return sent


def _echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A WSGI app that answers with what it saw of the request."""
    seen: dict[str, Any] = {
        key: environ[key]
        for key in ("PATH_INFO", "QUERY_STRING", "CONTENT_LENGTH", "CONTENT_TYPE", "HTTP_X_FORWARDED_FOR")
        if key in environ
    }
    seen["body"] = environ["wsgi.input"].read().decode()
    start_response("201 Created", [("Content-Type", "application/json"), ("X-Thread", "pool")])
    return [json.dumps(seen).encode(), b"\n"]


def test_the_app_gets_the_whole_body_and_hands_back_the_whole_response() -> None:
    app = BufferedWSGI(_echo, threads=2)
    parts = [{"type": "http.request", "body": part, "more_body": True} for part in (b"a=1", b"&b=", b"2")]
    sent = _call(
        app,
        [*parts, {"type": "http.request", "body": b"", "more_body": False}],
        [(b"content-type", b"application/x-www-form-urlencoded"), (b"transfer-encoding", b"chunked")],
    )
    assert sent[0] == {
        "type": "http.response.start",
        "status": 201,
        "headers": [(b"content-type", b"application/json"), (b"x-thread", b"pool")],
    }
    assert json.loads(sent[1]["body"]) == {
        "PATH_INFO": "/pfad/ä".encode().decode("latin-1"),
        "QUERY_STRING": "a=1",
        "CONTENT_LENGTH": "7",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "body": "a=1&b=2",
    }
    assert len(sent) == 2 and not sent[1].get("more_body")


def test_header_names_with_underscores_cannot_pose_as_others() -> None:
    sent = _call(
        BufferedWSGI(_echo, threads=1),
        [{"type": "http.request", "body": b""}],
        [(b"x_forwarded_for", b"10.0.0.1")],
    )
    assert "HTTP_X_FORWARDED_FOR" not in json.loads(sent[1]["body"])


def test_a_body_over_the_limit_is_refused_and_the_app_never_runs() -> None:
    def never(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise AssertionError("the app must not run")

    chunk = {"type": "http.request", "body": b"x" * 600, "more_body": True}
    sent = _call(BufferedWSGI(never, threads=1, max_body=1000), [chunk, chunk, chunk], [])
    assert sent[0]["status"] == 413
    assert sent[1]["body"].decode() == "Die gesendeten Daten sind zu groß."


def test_a_client_that_leaves_mid_body_runs_nothing() -> None:
    def never(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise AssertionError("the app must not run")

    assert _call(BufferedWSGI(never, threads=1), [{"type": "http.request", "body": b"a", "more_body": True}], []) == []


def test_access_log_lines_leave_out_query_values_and_the_client() -> None:
    """Inbox searches put names and case numbers into the query string; the access log must not keep them."""
    from webapp.serving import AccessLogFilter

    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
                               ("10.4.0.17:5", "GET", "/?suche=Probstfeld", "1.1", 200), None)  # fmt: skip
    assert AccessLogFilter().filter(record)
    assert record.getMessage() == '- - "GET /?suche=… HTTP/1.1" 200'


# --- issue 10: production headers, access log, login throttle across processes; the development server ---------

WRONG = "Benutzername oder Passwort ist falsch."
THROTTLED = "Zu viele fehlgeschlagene Anmeldeversuche."


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One production server (gunicorn, 4 worker processes, EGS_ENV=production) for the checks below."""
    folder = tmp_path_factory.mktemp("production")
    env = clean_environment(
        EGS_DATABASE_URL=f"sqlite:///{folder / 'egs.sqlite3'}", EGS_SECRET_KEY="issue-10-test", EGS_ENV="test"
    )
    egs_command(env, "init-db")
    egs_command(env, "deploy", "processes/")
    egs_command(env, "demo")
    env["EGS_ENV"] = "production"
    with production_server(env, folder / "server.log") as running:
        yield running


def request(port: int, method: str, path: str, body: str = "", headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """One request on a new connection (so requests spread over the worker processes); (status, headers, text)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body or None, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def wait_for(server: RunningServer, text: str, seconds: float = 5.0) -> str:
    deadline = time.monotonic() + seconds
    while text not in server.output(100_000) and time.monotonic() < deadline:
        time.sleep(0.05)
    return server.output(100_000)


def test_production_sends_hsts_and_no_server_header(production: RunningServer) -> None:
    for path in ("/healthz", "/anmelden", "/", "/gibt-es-nicht"):
        status, headers, _ = request(production.port, "GET", path)
        assert "server" not in {name.lower() for name in headers}, (path, dict(headers))
        assert headers["Strict-Transport-Security"] == "max-age=31536000", path


def test_production_access_log_keeps_no_query_values_and_no_client_address(production: RunningServer) -> None:
    assert request(production.port, "GET", "/?suche=Probstfeld&tab=gruppe")[0] == 302
    assert request(production.port, "GET", "/anmelden?next=%2F%3Fsuche%3DHagedorn")[0] == 200
    log = wait_for(production, "GET /anmelden?next=…")
    assert "Probstfeld" not in log and "Hagedorn" not in log, log[-2000:]
    lines = [line for line in log.splitlines() if '"GET /?suche=' in line]
    assert lines and all(line.startswith('- - "GET /?suche=…&tab=… HTTP/1.1" 302') for line in lines), lines


def test_the_login_throttle_holds_across_the_worker_processes(production: RunningServer) -> None:
    """The old throttle counted per process: gunicorn's three sync workers allowed 15 tries in 30 s."""
    outcomes = []
    for attempt in range(15):
        status, headers, page = request(production.port, "GET", "/anmelden")
        cookie = headers["Set-Cookie"].split(";", 1)[0]
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert token, page
        body = urlencode({"csrf_token": token.group(1), "username": "egs", "password": f"geraten{attempt}"})
        status, _, page = request(production.port, "POST", "/anmelden", body, {
            "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        outcomes.append("geprüft" if WRONG in page else "gesperrt" if status == 429 and THROTTLED in page else page)
    assert set(outcomes) == {"geprüft", "gesperrt"}, outcomes
    assert outcomes.count("geprüft") <= 6, outcomes  # 5 free, one more only if 15 tries outlasted the 2 s block


@pytest.fixture
def dev_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """``egs serve`` (werkzeug's threaded development server) on a free port."""
    env = clean_environment(
        EGS_DATABASE_URL=f"sqlite:///{tmp_path / 'egs.sqlite3'}", EGS_SECRET_KEY="dev-test", EGS_ENV="test"
    )
    egs_command(env, "init-db")
    port, log = free_port(), tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-c", "from webapp.cli import main; main()", "serve", "--port", str(port), "--no-worker"],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if get(port, "/healthz", 2.0)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield port, log
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def test_the_development_server_names_no_server_and_logs_no_query_values(dev_server: tuple[int, Path]) -> None:
    port, log = dev_server
    for path in ("/healthz", "/anmelden", "/?suche=Probstfeld"):
        status, headers, _ = request(port, "GET", path)
        assert "server" not in {name.lower() for name in headers}, (path, dict(headers))
    deadline = time.monotonic() + 5
    while "GET /?suche=" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    text = log.read_text()
    assert "Probstfeld" not in text, text
    assert "- - [" in text and '"GET /?suche=… HTTP/1.1" 302' in text, text
    assert "127.0.0.1 - -" not in text, "no client address in request lines"
