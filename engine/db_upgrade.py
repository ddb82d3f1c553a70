"""Database schema upgrades (Alembic): bring the tables to the newest revision, refuse to run on an older one."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from .db import Database
from .errors import SchemaOutdatedError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """Return the revision the code expects."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found")
    return head


def current_revision(db: Database) -> str | None:
    """Return the revision the database is at (None for an empty database)."""
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the database schema to ``revision`` (default: newest). Safe to run repeatedly.

    Return the revisions before and after (before is None for an empty database).
    """
    before = current_revision(db)
    config = _alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return before, current_revision(db)


def ensure_current(db: Database) -> None:
    """Raise if the database schema is missing or older/newer than this code.

    :raises SchemaOutdatedError: with the command that fixes it.
    """
    current, head = current_revision(db), head_revision()
    if current != head:
        found = current or "leer"
        raise SchemaOutdatedError(
            f"Das Datenbankschema ist nicht aktuell (gefunden: {found}, erwartet: {head}). "
            "Bitte 'egs init-db' ausführen."
        )
