"""Shared fixtures: every database test runs on SQLite and, with EGS_TEST_PG set, on PostgreSQL.

Without EGS_TEST_PG the PostgreSQL variants are skipped with a visible reason; with it, an unreachable
server is an error, not a skip.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine import schema
from engine.auth import Actor, create_user, hash_password, system_actor
from engine.config import load_settings
from engine.db import Database
from engine.demo import create_demo_users
from engine.models import Base
from engine.service import Engine
from tests.element_coverage import ModelUniverse, Reached, record_engine, report

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"
DATA = Path(__file__).resolve().parent / "data"
PG_URL = os.environ.get("EGS_TEST_PG", "")
PG_SKIP = "PostgreSQL-Tests übersprungen: EGS_TEST_PG ist nicht gesetzt"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating per test would be slow)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    db = Database(f"sqlite:///{path}")
    schema.upgrade(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """The PostgreSQL test database, rebuilt once per session with the migrations."""
    if not PG_URL:
        pytest.skip(PG_SKIP)
    db = Database(PG_URL)
    with db.engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    schema.upgrade(db)
    db.dispose()
    yield PG_URL


def _truncate_pg(url: str) -> None:
    db = Database(url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with db.engine.begin() as connection:
        # The audit table refuses TRUNCATE by trigger; replica mode lets the test harness reset it.
        connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A clean, migrated database URL for one test, once per database kind."""
    if request.param == "sqlite":
        path = tmp_path / "egs.sqlite3"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_database")
    _truncate_pg(url)
    return url


def make_engine(db_url: str, **overrides: object) -> Engine:
    settings = load_settings(
        {
            "database_url": db_url,
            "env": "test",
            "secret_key": "test-secret",
            "forms_dir": FORMS,
            "processes_dir": PROCESSES,
            "config_file": ROOT / "config" / "egs.toml",
            **overrides,
        }
    )
    return Engine(settings)


@contextmanager
def engine_with_config(db_url: str, tmp_path: Path, **literals: str) -> Iterator[Engine]:
    """A second engine on the same database whose config/egs.toml has ``key = literal`` replaced.

    Each key must occur once in the file; values are TOML literals, e.g. ``doxis_start='"2025-07-01"'``.
    Cases it runs count for the element coverage report (the ``deployed`` engine records them).
    """
    text = (ROOT / "config" / "egs.toml").read_text(encoding="utf-8")
    for key, literal in literals.items():
        line = f"{key} = {literal}"
        text, count = re.subn(rf"(?m)^{re.escape(key)} = .*$", lambda _match, line=line: line, text)
        assert count == 1, f"{key} kommt nicht genau einmal in config/egs.toml vor"
    path = tmp_path / "egs-test.toml"
    path.write_text(text, encoding="utf-8")
    changed = make_engine(db_url, config_file=path)
    try:
        yield changed
    finally:
        changed.close()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on an empty database."""
    instance = make_engine(db_url)
    yield instance
    instance.close()


@pytest.fixture
def deployed(engine: Engine) -> Iterator[Engine]:
    """An engine with the models of processes/ deployed and the demo users created.

    What its cases executed counts towards the element coverage report.
    """
    engine.deploy_paths([PROCESSES], system_actor("test"))
    create_demo_users(engine)
    yield engine
    record_engine(engine, UNIVERSE, REACHED)


UNIVERSE = ModelUniverse.read(PROCESSES)
REACHED = Reached()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int) -> None:
    """Print the element coverage of processes/ (and enforce it when EGS_REQUIRE_ELEMENT_COVERAGE=1)."""
    if not REACHED.nodes:
        return
    lines, node_hit, node_total, branch_hit, branch_total = report(UNIVERSE, REACHED)
    terminalreporter.section("Element-Abdeckung der Modelle (processes/)")
    terminalreporter.write_line(
        f"Flussknoten: {node_hit}/{node_total} erreicht ({100 * node_hit / max(node_total, 1):.1f} %); "
        f"Verzweigungen (Gateway- und Randereignis-Flüsse): {branch_hit}/{branch_total} genommen"
    )
    for line in lines:
        terminalreporter.write_line(line)
    if lines and os.environ.get("EGS_REQUIRE_ELEMENT_COVERAGE") == "1":
        terminalreporter.write_line("FEHLER: EGS_REQUIRE_ELEMENT_COVERAGE=1 und nicht alles erreicht.")
        terminalreporter._session.exitstatus = pytest.ExitCode.TESTS_FAILED


def user_factory(engine: Engine):  # type: ignore[no-untyped-def]
    """A function creating users with password 'pw' and (group, site) grants; it returns their Actor."""
    password_hash = hash_password("pw")

    def factory(username: str, *grants: tuple[str, str]) -> Actor:
        with engine.db.transaction() as session:
            create_user(session, username, username.title(), "pw", list(grants), password_hash=password_hash)
        return engine.actor(username)

    return factory


@pytest.fixture
def make_user(engine: Engine):  # type: ignore[no-untyped-def]
    """Factory: create a user with (group, site) grants and return the Actor."""
    return user_factory(engine)


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(html: str) -> str:
    """Extract the CSRF token from a rendered page."""
    match = CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)
