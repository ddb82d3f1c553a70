"""The folded name every case search matches, and migration 0024 filling it for cases that existed before."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine import case_text
from engine.db import Database
from engine.db_upgrade import upgrade
from engine.models import ProcessInstance, search_name_of


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("Müller, Jürgen", "mueller, juergen\nmuller, jurgen"),
        ("MÜLLER", "mueller\nmuller"),
        ("Mu\u0308ller", "mueller\nmuller"),  # ü written as u + combining diaeresis
        ("Weiß,  Ute ", "weiss, ute"),
        ("Çelik, Ayşe", "celik, ayse"),
        ("Adler", "adler"),
        ("   ", None),
        (None, None),
    ],
)
def test_a_name_is_stored_folded_in_both_spellings(name: str | None, stored: str | None) -> None:
    assert search_name_of(name) == stored


def test_terms_are_folded_alike_and_short_ones_look_up_nothing() -> None:
    assert case_text.term(" MÜLLER ") == case_text.term("mueller") == "mueller"
    assert case_text.term("ab") == "" and case_text.term("mü") == "mue"
    assert case_text.key_term(" 07402//00 ") == "07402//00" and case_text.key_term("07") == ""
    assert len(case_text.term("x" * 500)) == case_text.MAX_TERM


def test_migration_fills_the_search_name_of_existing_cases(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'alt.sqlite3'}")
    try:
        upgrade(db, "0023")
        now = datetime(2026, 5, 4, 8, tzinfo=UTC).replace(tzinfo=None)
        with db.engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO process_version (id, process_id, version, name, content_hash, resources, forms, "
                "deployed_by, deployed_at) VALUES (1, 'p', 1, 'P', 'h', '{}', '{}', 'x', ?)", (now,))  # fmt: skip
            for number, name in ((1, "Müller, Jürgen"), (2, None), (3, "Schäfer, Ute")):
                connection.exec_driver_sql(
                    "INSERT INTO process_instance (id, version_id, process_id, business_key, site, status, state, "
                    "serializer_version, lock_version, applicant_name, created_by, created_at, updated_at, priority) "
                    "VALUES (?, 1, 'p', ?, '56.4', 'running', '{}', '1', 1, ?, 'x', ?, ?, 0)",
                    (number, f"BG-{number:04d}", name, now, now))  # fmt: skip
        upgrade(db)
        with db.engine.connect() as connection:
            names = dict(connection.execute(sa.text("SELECT id, search_name FROM process_instance")).all())
            found = connection.execute(
                sa.select(ProcessInstance.id)
                .where(sa.or_(case_text.name_contains("uelle", "sqlite"), case_text.key_contains("bg-0003", "sqlite")))
                .order_by(ProcessInstance.id)
            ).scalars()  # fmt: skip
            indexes = {index["name"] for index in sa.inspect(connection).get_indexes("process_instance")}
            assert names == {1: "mueller, juergen\nmuller, jurgen", 2: None, 3: "schaefer, ute\nschafer, ute"}
            assert list(found) == [1, 3]
            assert {"ix_process_instance_updated", "ix_process_instance_started"} <= indexes
        columns = _downgrade(db, "0023")
        assert "search_name" not in columns
    finally:
        db.dispose()


def _downgrade(db: Database, revision: str) -> list[str]:
    """Downgrade and return the columns of process_instance afterwards."""
    from alembic import command

    from engine.db_upgrade import _alembic_config

    config = _alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
    return [column["name"] for column in sa.inspect(db.engine).get_columns("process_instance")]
