"""The egs command line: deploy, start, tasks, worker, demo, verify-audit, init-db and its schema guard."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from engine.cli import cli
from engine.db import Database
from engine.db_upgrade import upgrade
from engine.models import AuditEvent
from tests.support.engines import ANCHOR_MINUTES, DATA, FORMS, PROCESSES


def run(db_url: str, *args: str, env: dict[str, str] | None = None) -> Result:
    environment = {"EGS_DATABASE_URL": db_url, "EGS_ENV": "test", "EGS_SECRET_KEY": "x", "EGS_FORMS_DIR": str(FORMS),
                   "EGS_AUDIT_ANCHOR_DIR": tempfile.mkdtemp(prefix="egs-anker-"),
                   "EGS_AUDIT_ANCHOR_MINUTES": str(ANCHOR_MINUTES)}  # as make_engine  # fmt: skip
    environment.update(env or {})
    return CliRunner().invoke(cli, list(args), env=environment, catch_exceptions=False)


def test_deploy_prints_process_ids_and_versions(db_url: str) -> None:
    first = run(db_url, "deploy", str(PROCESSES))
    assert first.exit_code == 0, first.output
    assert "pb_antragsannahme\tVersion 1\t(neu)" in first.output
    again = run(db_url, "deploy", str(PROCESSES))
    assert "pb_antragsannahme\tVersion 1\t(unverändert)" in again.output


def test_deploy_of_a_hostile_file_exits_2_with_german_message(db_url: str, tmp_path: Path) -> None:
    hostile = tmp_path / "xxe.bpmn"
    hostile.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')
    result = run(db_url, "deploy", str(hostile))
    assert result.exit_code == 2
    assert "Fehler: xxe.bpmn, Zeile 1: DOCTYPE- und ENTITY-Deklarationen sind nicht erlaubt." in result.output
    assert "Traceback" not in result.output


def test_deploy_lists_all_lint_problems(db_url: str, tmp_path: Path) -> None:
    result = run(db_url, "deploy", str(DATA / "script_step.bpmn"), "--forms", str(tmp_path))
    assert result.exit_code == 2
    assert "Problem(e) in den Modellen" in result.output
    assert "test_eingabe.json: Das Formular existiert nicht." in result.output
    assert "test_leer.json: Das Formular existiert nicht." in result.output


def test_start_tasks_demo_and_worker(db_url: str) -> None:
    assert run(db_url, "deploy", str(PROCESSES)).exit_code == 0
    demo = run(db_url, "demo")
    assert demo.exit_code == 0 and "Demo-Benutzer angelegt: egs, lsb" in demo.output
    assert "keine (schon vorhanden)" in run(db_url, "demo").output
    started = run(db_url, "start", "pb_antragsannahme", "--key", "07402//0094744", "--site", "56.5")
    assert started.exit_code == 0 and "07402//0094744 (Standort 56.5)" in started.output
    listing = run(db_url, "tasks")
    assert "07402//0094744\t56.5\tEGS\tBesucher anmelden und Anliegen erfassen" in listing.output
    mine = run(db_url, "tasks", "--user", "egs")
    assert "07402//0094744" not in mine.output, "egs works at 56.4 only"
    assert run(db_url, "worker", "--once", "--interval", "0").exit_code == 0
    verified = run(db_url, "verify-audit")
    assert verified.exit_code == 0 and "unverändert" in verified.output


def test_start_of_unknown_process_is_a_clear_error(db_url: str) -> None:
    result = run(db_url, "start", "gibt_es_nicht")
    assert result.exit_code == 2
    assert "Prozess 'gibt_es_nicht' ist nicht bereitgestellt." in result.output


def test_demo_is_refused_in_production(db_url: str) -> None:
    result = run(db_url, "demo", env={"EGS_ENV": "production", "EGS_AUDIT_KEY": "k"})
    assert result.exit_code == 2
    assert "nicht angelegt" in result.output


def test_outdated_schema_is_refused_until_init_db(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'leer.sqlite3'}"
    refused = run(url, "tasks")
    assert refused.exit_code == 2
    assert "Das Datenbankschema ist nicht aktuell (gefunden: leer" in refused.output
    assert "'egs init-db'" in refused.output
    created = run(url, "init-db")
    assert created.exit_code == 0
    assert created.output.startswith("Datenbankschema angelegt (Revision ")
    again = run(url, "init-db")
    assert again.exit_code == 0, "init-db is idempotent"
    assert again.output.startswith("Datenbankschema ist aktuell (Revision ")
    assert run(url, "tasks").output.strip() == "Keine offenen Aufgaben."


def test_init_db_says_it_upgraded_an_older_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'alt.sqlite3'}"
    db = Database(url)
    try:
        upgrade(db, "0001")
    finally:
        db.dispose()
    result = run(url, "init-db")
    assert result.exit_code == 0
    assert result.output.startswith("Datenbankschema aktualisiert (Revision 0001 → ")


def test_the_vzae_warning_is_not_repeated_by_every_command(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    for args in (("init-db",), ("deploy", str(PROCESSES)), ("demo",), ("tasks",)):
        result = run(db_url, *args)
        assert result.exit_code == 0, result.output
        assert "VZÄ" not in result.output
    assert not [r for r in caplog.records if "VZÄ" in r.getMessage()]


def test_engine_does_not_import_the_web_layer() -> None:
    code = (
        "import sys, engine.api, engine.cli, engine.demo\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'werkzeug', 'webapp', 'jinja2')]\n"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy())
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", ["EGS_SCRIPT_TIMEOUT", "EGS_MAX_MODEL_BYTES"])
def test_invalid_settings_are_reported(tmp_path: Path, name: str) -> None:
    result = run(f"sqlite:///{tmp_path / 'x.sqlite3'}", "init-db", env={name: "viel"})
    assert result.exit_code == 2
    assert f"Ungültiger Wert für {name.removeprefix('EGS_').lower()}" in result.output


def test_database_url_is_used(db_url: str) -> None:
    assert run(db_url, "init-db").exit_code == 0
    Database(db_url).dispose()


def test_add_user_creates_a_login_with_grants(db_url: str) -> None:
    from engine.auth import authenticate

    result = run(db_url, "add-user", "mmuster", "--name", "Max Muster", "--grant", "LSB@56.5", "--grant",
                 "tl@56.5", "--password", "ein-langes-passwort")  # fmt: skip
    assert result.exit_code == 0, result.output
    database = Database(db_url)
    try:
        from sqlalchemy.orm import Session

        with Session(database.engine) as session:
            actor = authenticate(session, "mmuster", "ein-langes-passwort")
        assert actor.grants == frozenset({("LSB", "56.5"), ("TL", "56.5")})
    finally:
        database.dispose()
    twice = run(
        db_url, "add-user", "mmuster", "--name", "X", "--grant", "EGS@56.4", "--password", "ein-langes-passwort"
    )
    assert twice.exit_code == 2 and "Benutzername bereits vergeben" in twice.output
    bad = run(db_url, "add-user", "y", "--name", "Y", "--grant", "CHEF@56.4", "--password", "ein-langes-passwort")
    assert bad.exit_code == 2 and "Unbekannte Gruppe: CHEF" in bad.output
    short = run(db_url, "add-user", "z", "--name", "Z", "--grant", "EGS@56.4", "--password", "kurz")
    assert short.exit_code == 2 and "mindestens 12 Zeichen" in short.output
    database = Database(db_url)
    try:
        with database.reading() as session:
            trail = session.execute(
                sa.select(AuditEvent.action, AuditEvent.actor, AuditEvent.details)
                .where(AuditEvent.action.in_(("user_created", "grant_added")))
                .order_by(AuditEvent.id)
            ).all()
    finally:
        database.dispose()
    assert [(action, actor, details.get("group"), details.get("site")) for action, actor, details in trail] == [
        ("user_created", "cli", None, None),
        ("grant_added", "cli", "LSB", "56.5"),
        ("grant_added", "cli", "TL", "56.5"),
    ], "creating a user and each grant is audited; refused attempts create nothing"


def test_raci_matrix_as_table_and_csv(db_url: str) -> None:
    assert "Keine Prozesse" in run(db_url, "raci").output
    run(db_url, "deploy", str(PROCESSES))
    table = run(db_url, "raci").output.splitlines()
    assert table[0].split()[:2] == ["Prozess", "Version"]
    assert any("Vollständigkeit prüfen" in line and "EGS" in line and "Durchführender" in line for line in table)
    csv_lines = run(db_url, "raci", "--csv").output.splitlines()
    assert csv_lines[0] == "Prozess;Version;Schritt;Art;Durchführende Einheit;Rolle des EGS;Aufgabenbereich (§ 6)"
    assert (
        "PB – Antragsannahme (Erstantrag und sonstige Anträge);1;Fall in Verteilungsliste aufnehmen;"
        "Benutzeraufgabe;TL;Mitwirkender;Neuantragsbearbeitung"
    ) in csv_lines


def test_export_writes_a_registered_export_and_refuses_unknown_ones(db_url: str, tmp_path: Path) -> None:
    run(db_url, "deploy", str(PROCESSES))
    target = tmp_path / "raci.csv"
    written = run(db_url, "export", "raci", "--datei", str(target))
    assert written.exit_code == 0, written.output
    text = target.read_text(encoding="utf-8")
    assert text.startswith(
        "\ufeffProzess;Version;Schritt;Art;Durchführende Einheit;Rolle des EGS;Aufgabenbereich (§ 6)\n"
    )
    listing = run(db_url, "export", "sammelliste", "standort=56.4", "art=EGZ", "monat=2025-05")
    assert listing.exit_code == 0 and listing.output.splitlines()[-1] == ";;;;Summe;0,00;;"
    unknown = run(db_url, "export", "gibt_es_nicht")
    assert unknown.exit_code == 2 and "Den Export „gibt_es_nicht“ gibt es nicht" in unknown.output
    bad = run(db_url, "export", "sammelliste", "standort=56.4", "art=ABM", "monat=Mai")
    assert bad.exit_code == 2 and "Bitte den Monat als JJJJ-MM angeben." in bad.output
    malformed = run(db_url, "export", "raci", "ohne-gleichheitszeichen")
    assert malformed.exit_code == 2 and "NAME=WERT" in malformed.output


def test_gunicorn_master_logs_the_vzae_warning_once_at_start_up() -> None:
    hooks = runpy.run_path(str(Path(__file__).resolve().parents[1] / "gunicorn.conf.py"))
    logged: list[str] = []

    class Server:
        log = SimpleNamespace(warning=logged.append)

    hooks["when_ready"](Server())
    assert len(logged) == 1 and "VZÄ-Anteile" in logged[0] and "1,15 statt 1,00" in logged[0]


def test_konfig_shows_version_and_the_vzae_warning(db_url: str) -> None:
    output = run(db_url, "konfig").output
    assert "Konfiguration 2026-12-01.1" in output
    assert "Warnung: Die VZÄ-Anteile einer Vollzeitstelle ergeben 0,45 + 0,55 + 0,15 = 1,15 statt 1,00" in output


def test_end_sessions_and_set_password_take_effect_at_once(db_url: str) -> None:
    """``egs end-sessions`` and ``egs set-password`` (issue 10): a session ended here is over on its next request."""
    from engine.errors import SessionEndedError
    from tests.support.engines import make_engine

    run(
        db_url,
        "add-user",
        "mmuster",
        "--name",
        "Max Muster",
        "--grant",
        "EGS@56.4",
        "--password",
        "ein-langes-passwort",
    )
    engine = make_engine(db_url)
    try:
        first = engine.login("mmuster", "ein-langes-passwort").token
        assert engine.session_actor(first).username == "mmuster"

        ended = run(db_url, "end-sessions", "mmuster")
        assert ended.exit_code == 0 and "Sitzungen von mmuster beendet: 1" in ended.output
        with pytest.raises(SessionEndedError, match="Ihre Sitzung wurde beendet"):
            engine.session_actor(first)

        second = engine.login("mmuster", "ein-langes-passwort").token
        changed = run(db_url, "set-password", "mmuster", "--password", "noch-ein-langes-passwort")
        assert changed.exit_code == 0 and "1 Sitzung(en) beendet" in changed.output
        with pytest.raises(SessionEndedError, match="Das Passwort wurde geändert"):
            engine.session_actor(second)
        assert engine.login("mmuster", "noch-ein-langes-passwort").actor.username == "mmuster"
        short = run(db_url, "set-password", "mmuster", "--password", "kurz")
        assert short.exit_code == 2 and "mindestens 12 Zeichen" in short.output
        unknown = run(db_url, "end-sessions", "niemand")
        assert unknown.exit_code == 2 and "Diesen Benutzer gibt es nicht." in unknown.output
    finally:
        engine.close()


def test_audit_anchor_and_verify_audit_find_a_cut_off_tail(db_url: str, tmp_path: Path) -> None:
    """``egs audit anchor`` publishes the heads; ``egs verify-audit`` exits 1 when the newest events are gone."""
    import sqlalchemy as sa

    from tests.support.engines import make_engine
    from tests.support.tampering import bypassing_guards, global_events

    anchors = {"EGS_AUDIT_ANCHOR_DIR": str(tmp_path / "anker")}
    assert run(db_url, "deploy", str(PROCESSES)).exit_code == 0
    anchored = run(db_url, "audit", "anchor", env=anchors)
    assert anchored.exit_code == 0 and "bis Ereignis" in anchored.output and "Prüfprotokoll" in anchored.output
    assert len(list((tmp_path / "anker").glob("pruefprotokoll-*.txt"))) == 1
    clean = run(db_url, "verify-audit", env=anchors)
    assert clean.exit_code == 0 and "unverändert" in clean.output
    assert run(db_url, "retention").output.startswith("Personenbezogene Daten von 0 ")
    engine = make_engine(db_url)
    try:
        newest = global_events(engine)[-3:]
        with bypassing_guards(engine) as session:
            session.execute(sa.delete(AuditEvent).where(AuditEvent.id.in_([e.id for e in newest])))
    finally:
        engine.close()
    found = run(db_url, "verify-audit", env=anchors)
    assert found.exit_code == 1 and "Kette global, Ereignis" in found.output and "verankert am" in found.output
