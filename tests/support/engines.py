"""Engines for tests: the project's folders, an engine on a database URL, and one with changed configuration."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.api import Engine
from engine.auth import system_actor
from engine.config import load_settings
from engine.demo import create_demo_users

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"
CONFIG = ROOT / "config" / "egs.toml"
DATA = ROOT / "tests" / "data"
ANCHOR_MINUTES = 24 * 60


def make_engine(db_url: str, **overrides: object) -> Engine:
    """An engine in the test environment on ``db_url`` (settings may be overridden)."""
    settings = load_settings(
        {
            "database_url": db_url,
            "env": "test",
            "secret_key": "test-secret",
            "forms_dir": FORMS,
            "processes_dir": PROCESSES,
            "config_file": CONFIG,
            "audit_key": "egs-test-audit-key",  # also when a test switches to production
            "audit_anchor_dir": Path(tempfile.mkdtemp(prefix="egs-anker-")),  # each engine its own anchors
            # Events older than the interval must be anchored (``audit_verify.AnchorDue``); the template's events
            # are as old as the test session, so a long session must not make them due. Tests of it move the clock.
            "audit_anchor_minutes": ANCHOR_MINUTES,
            **overrides,
        }
    )
    return Engine(settings)


def deploy_models(db_url: str) -> None:
    """Deploy processes/ and create the demo users: the starting point of the ``deployed`` fixture."""
    engine = make_engine(db_url)
    try:
        engine.deploy_paths([PROCESSES], system_actor("test"))
        create_demo_users(engine)
    finally:
        engine.close()


@contextmanager
def engine_with_config(db_url: str, tmp_path: Path, **literals: str) -> Iterator[Engine]:
    """A second engine on the same database whose config/egs.toml has ``key = literal`` replaced.

    Each key must occur once in the file; values are TOML literals, e.g. ``doxis_start='"2025-07-01"'``.
    """
    text = CONFIG.read_text(encoding="utf-8")
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
