"""Shared fixtures: every database test runs on SQLite and, with EGS_TEST_PG set, on PostgreSQL.

Without EGS_TEST_PG the PostgreSQL variants are skipped with a visible reason; with it, an unreachable
server is an error, not a skip. Helpers live in ``tests/support``; this file only holds fixtures and the
element coverage report (merged from every pytest-xdist worker).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.api import Engine
from tests.support.databases import (
    PG_SKIP,
    PG_URL,
    PostgresWorkspace,
    SqliteTemplates,
    build_sqlite_templates,
    worker_name,
)
from tests.support.element_coverage import ModelUniverse, Reached, record_engine, report
from tests.support.engines import PROCESSES, make_engine
from tests.support.users import UserFactory, user_factory


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    """The empty and the deployed SQLite template, built once per session (per worker)."""
    return build_sqlite_templates(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def pg_workspace() -> Iterator[PostgresWorkspace]:
    """This worker's schemas in the PostgreSQL test database, migrated and deployed once per session."""
    if not PG_URL:
        pytest.skip(PG_SKIP)
    workspace = PostgresWorkspace.create(PG_URL, worker_name())
    yield workspace
    workspace.drop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_templates: SqliteTemplates) -> str:
    """A clean, migrated database URL for one test, once per database kind.

    A test that uses ``deployed`` starts from the deployed template (models and demo users in place).
    """
    deployed = "deployed" in request.fixturenames
    if request.param == "sqlite":
        return sqlite_templates.copy(tmp_path / "egs.sqlite3", deployed=deployed)
    workspace: PostgresWorkspace = request.getfixturevalue("pg_workspace")
    return workspace.reset(deployed=deployed)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on an empty database."""
    instance = make_engine(db_url)
    yield instance
    instance.close()


@pytest.fixture
def deployed(engine: Engine) -> Iterator[Engine]:
    """An engine with the models of processes/ deployed and the demo users created (from the template).

    What its cases executed counts towards the element coverage report.
    """
    yield engine
    record_engine(engine, UNIVERSE, REACHED)


@pytest.fixture
def make_user(engine: Engine) -> UserFactory:
    """Factory: create a user with (group, site) grants and return the Actor."""
    return user_factory(engine)


UNIVERSE = ModelUniverse.read(PROCESSES)
REACHED = Reached()
COVERAGE_KEY = "egs_element_coverage"


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On an xdist worker: hand what its tests reached to the controller."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[COVERAGE_KEY] = REACHED.to_json()


def pytest_testnodedown(node, error) -> None:  # type: ignore[no-untyped-def]
    """On the xdist controller: merge a finished worker's element coverage."""
    data = getattr(node, "workeroutput", {}).get(COVERAGE_KEY)
    if data:
        REACHED.merge(Reached.from_json(data))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int) -> None:
    """Print the element coverage of processes/ (and enforce it when EGS_REQUIRE_ELEMENT_COVERAGE=1)."""
    if not REACHED.nodes or hasattr(terminalreporter.config, "workeroutput"):
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
