"""App-wide behaviour: health check, security headers, error pages, startup checks and the CLI."""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from engine.api import Engine
from engine.auth import system_actor
from engine.db import Database
from engine.demo import create_demo_users
from engine.errors import (
    AuthenticationError,
    ConflictError,
    EngineError,
    NotFoundError,
    PermissionDeniedError,
    SchemaOutdatedError,
    ScriptError,
)
from tests.support.engines import FORMS, PROCESSES, make_engine
from tests.support.web import start_case
from webapp import create_app
from webapp.cli import main
from webapp.security import CONTENT_SECURITY_POLICY


def test_healthz_reports_a_reachable_database(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database(client, deployed: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    # A real driver failure: nothing listens on port 1.
    unreachable = Database("postgresql+psycopg://egs@127.0.0.1:1/egs?connect_timeout=2")
    monkeypatch.setattr(deployed, "db", unreachable)
    try:
        response = client.get("/healthz")
    finally:
        unreachable.dispose()
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unavailable"}
    assert "127.0.0.1" not in response.get_data(as_text=True)


def test_security_headers_on_pages(client_for, deployed: Engine) -> None:
    egs = client_for("egs")
    url = start_case(egs)
    for path in ("/", url, "/anmelden"):
        response = egs.get(path)
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script_or_style(client_for, deployed: Engine) -> None:
    egs = client_for("egs")
    url = start_case(egs)
    case_url = re.search(r'href="(/vorgaenge/\d+)"', egs.get(url).get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    for path in ("/", "/vorgaenge/neu", url, case_url, "/gibt-es-nicht"):
        html = egs.get(path).get_data(as_text=True)
        assert "style=" not in html
        assert "<style" not in html
        # Only external scripts, and data blocks that browsers never execute.
        assert re.search(r"<script(?![^>]*\b(src=|type=\"application/json\"))", html) is None
        assert '<html lang="de">' in html


def test_session_cookie_is_http_only_and_same_site(client, app: Flask) -> None:
    from tests.support.web import login

    login(client, "egs")
    cookie = client.get_cookie("egs_session")
    assert cookie is not None
    assert cookie.http_only and cookie.same_site == "Lax"
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_production_sends_the_session_cookie_only_over_https(db_url: str) -> None:
    engine = make_engine(db_url, env="production", secret_key="x" * 32)
    try:
        assert create_app(engine=engine).config["SESSION_COOKIE_SECURE"] is True
    finally:
        engine.close()


@pytest.mark.parametrize(
    ("error", "status", "text"),
    [
        (NotFoundError("Den Vorgang gibt es nicht."), 404, "Den Vorgang gibt es nicht."),
        (PermissionDeniedError("Dafür fehlt die Berechtigung."), 403, "Dafür fehlt die Berechtigung."),
        (ConflictError("Der Vorgang wurde geändert.", instance_id=7), 409, "Der Vorgang wurde geändert."),
        (ScriptError("Division durch null", element_id="Gateway_X"), 422, "Fehler im Prozessmodell: Schritt"),
        (SchemaOutdatedError("Bitte 'egs init-db' ausführen."), 503, "Bitte &#39;egs init-db&#39; ausführen."),
        (EngineError("interne Einzelheit"), 500, "unerwarteter Fehler"),
    ],
)
def test_engine_errors_map_to_http(
    client_for, deployed: Engine, monkeypatch: pytest.MonkeyPatch, error: EngineError, status: int, text: str
) -> None:
    egs = client_for("egs")

    def fail(*_args: object) -> None:
        raise error

    monkeypatch.setattr(deployed, "inbox_page", fail)
    page = egs.get("/")
    assert page.status_code == status
    assert text in page.get_data(as_text=True)
    assert "interne Einzelheit" not in page.get_data(as_text=True)

    as_json = egs.get("/", headers={"Accept": "application/json"})
    assert as_json.status_code == status
    assert as_json.get_json()["status"] == status


def test_conflict_page_links_back_to_the_case(client_for, deployed: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    egs = client_for("egs")

    def fail(*_args: object) -> None:
        raise ConflictError("Der Vorgang wurde geändert.", instance_id=7)

    monkeypatch.setattr(deployed, "inbox_page", fail)
    assert 'href="/vorgaenge/7">Aktuellen Stand neu laden' in egs.get("/").get_data(as_text=True)


def test_authentication_error_during_a_request_leads_to_the_login(
    client_for, deployed: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    egs = client_for("egs")

    def fail(*_args: object) -> None:
        raise AuthenticationError("Benutzer unbekannt oder gesperrt.")

    monkeypatch.setattr(deployed, "inbox_page", fail)
    response = egs.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/anmelden"


def test_not_found_pages_are_german_html_or_json(client_for) -> None:
    egs = client_for("egs")
    page = egs.get("/gibt-es-nicht")
    assert page.status_code == 404
    assert "Die angeforderte Seite gibt es nicht." in page.get_data(as_text=True)
    assert egs.get("/gibt-es-nicht", headers={"Accept": "application/json"}).get_json() == {
        "status": 404,
        "error": "Nicht gefunden",
        "message": "Die angeforderte Seite gibt es nicht.",
    }
    assert egs.get("/vorgaenge/999999").status_code == 404
    missing_task = egs.get("/aufgaben/0b5c8a59-7d0e-4a53-9c5e-0e4f3d1b2a11")
    assert missing_task.status_code == 404 and "Die Aufgabe gibt es nicht." in missing_task.get_data(as_text=True)


def test_wrong_method_is_405_with_allow_header(client) -> None:
    response = client.get("/abmelden")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert "Diese Aktion ist auf dieser Seite nicht möglich." in response.get_data(as_text=True)


def test_unexpected_errors_leak_nothing(deployed: Engine, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app({"TESTING": True, "PROPAGATE_EXCEPTIONS": False}, engine=deployed)

    def boom() -> str:
        raise RuntimeError("Steuer-ID 36574261809 von Jana Probstfeld")

    app.add_url_rule("/boom", "boom", boom)
    with caplog.at_level(logging.DEBUG):
        response = app.test_client().get("/boom")

    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Es ist ein unerwarteter Fehler aufgetreten." in html
    for secret in ("Probstfeld", "36574261809", "Traceback"):
        assert secret not in html
        assert secret not in caplog.text
    assert "RuntimeError" in caplog.text, "operators still learn what kind of error happened"
    assert all(record.exc_info is None for record in caplog.records)


def test_app_refuses_to_start_on_an_outdated_schema(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'leer.sqlite3'}")
    try:
        with pytest.raises(SchemaOutdatedError):
            create_app(engine=engine)
    finally:
        engine.close()


def test_cli_serve_refuses_an_outdated_schema(tmp_path: Path) -> None:
    env = {"EGS_DATABASE_URL": f"sqlite:///{tmp_path / 'leer.sqlite3'}", "EGS_ENV": "test", "EGS_SECRET_KEY": "x"}
    result = CliRunner().invoke(main, ["serve"], env=env)
    assert result.exit_code == 2
    assert result.stderr.startswith("Fehler: Das Datenbankschema ist nicht aktuell")


def test_cli_serve_answers_http_and_fires_due_timers(tmp_path: Path) -> None:
    """The real `egs serve` process: the web app answers and the embedded worker fires a due timer."""
    from engine import clock
    from tests.support import pb
    from tests.support.pb import case_waiting_for_documents
    from tests.support.records import timer_events

    url = f"sqlite:///{tmp_path / 'serve.sqlite3'}"
    engine = make_engine(url)
    engine.init_db()
    engine.deploy_paths([PROCESSES], system_actor("test"), FORMS)
    create_demo_users(engine)
    with clock.frozen(clock.now() - timedelta(days=20)):
        instance_id = case_waiting_for_documents(engine, frist_tage=14)  # overdue by five days
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "EGS_DATABASE_URL": url, "EGS_ENV": "test", "EGS_SECRET_KEY": "x",
           "EGS_WORKER_INTERVAL": "0.2"}  # fmt: skip
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "egs"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        health = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    health = json.load(response)
                if timer_events(engine, instance_id):
                    break
            except OSError:
                pass
            time.sleep(0.2)
        assert health == {"status": "ok", "database": "ok"}
        assert len(timer_events(engine, instance_id)) == 1
        assert pb.open_task(engine, engine.actor("egs"), instance_id).name == pb.ERINNERN
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
        engine.close()
    assert "Traceback" not in output
    assert output.count("VZÄ-Anteile") == 1, "the configuration warning belongs once in the start-up log"


def test_cli_has_engine_commands_and_serve() -> None:
    result = CliRunner().invoke(main, ["--help"])
    for command in ("init-db", "deploy", "demo", "worker", "verify-audit", "serve"):
        assert command in result.output


def test_wsgi_module_builds_the_app_from_settings(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EGS_DATABASE_URL", db_url)
    monkeypatch.setenv("EGS_ENV", "test")
    monkeypatch.setenv("EGS_SECRET_KEY", "x")
    monkeypatch.delitem(sys.modules, "webapp.wsgi", raising=False)
    module = importlib.import_module("webapp.wsgi")
    try:
        assert module.app.test_client().get("/healthz").status_code == 200
    finally:
        module.app.extensions["egs_engine"].close()
        sys.modules.pop("webapp.wsgi", None)
