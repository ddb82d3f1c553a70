"""Test databases: migrated and deployed once per session, then copied for every test.

Deploying processes/ for every test used to take most of the suite's time. Now each session (each
pytest-xdist worker) builds two starting points once, *empty* (migrated) and *deployed* (models and demo
users), and every test starts from a copy:

- SQLite: two template files; a test copies one into its own temporary folder.
- PostgreSQL: every worker works in its own schema of the test database (``search_path`` in the URL), so
  workers never see each other's rows; the deployed rows are kept in a second schema and copied back
  after the tables were emptied (milliseconds).
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from engine import db_upgrade
from engine.db import Database
from engine.models import Base

from .engines import deploy_models

PG_URL = os.environ.get("EGS_TEST_PG", "")
PG_SKIP = "PostgreSQL-Tests übersprungen: EGS_TEST_PG ist nicht gesetzt"
TABLES = [table.name for table in Base.metadata.sorted_tables]
SERIAL_TABLES = {table.name for table in Base.metadata.sorted_tables if "id" in table.c}


@dataclass(frozen=True)
class SqliteTemplates:
    """Migrated SQLite files built once per session: ``empty``, and ``deployed`` (models and demo users)."""

    empty: Path
    deployed: Path

    def copy(self, target: Path, *, deployed: bool) -> str:
        """Copy a template to ``target``; return its database URL."""
        shutil.copy(self.deployed if deployed else self.empty, target)
        return f"sqlite:///{target}"


def build_sqlite_templates(folder: Path) -> SqliteTemplates:
    empty, deployed = folder / "empty.sqlite3", folder / "deployed.sqlite3"
    db = Database(f"sqlite:///{empty}")
    db_upgrade.upgrade(db)
    db.dispose()
    shutil.copy(empty, deployed)
    deploy_models(f"sqlite:///{deployed}")
    return SqliteTemplates(empty, deployed)


def worker_name() -> str:
    """The pytest-xdist worker ('gw0', 'gw1' …), or 'main' without xdist."""
    return re.sub(r"[^a-z0-9]", "", os.environ.get("PYTEST_XDIST_WORKER", "main").lower()) or "main"


@dataclass(frozen=True)
class PostgresWorkspace:
    """This worker's schemas in the PostgreSQL test database: the one tests use and the deployed template."""

    url: str
    schema: str
    template_schema: str

    @classmethod
    def create(cls, base_url: str, worker: str) -> PostgresWorkspace:
        """Build both schemas from scratch: migrate, deploy, keep a copy of the deployed rows."""
        schema_name, template = f"egs_test_{worker}", f"egs_test_{worker}_template"
        # pg_trgm's operator classes live in public, so public stays on the search path (after ours).
        url = sa.make_url(base_url).update_query_dict({"options": f"-csearch_path={schema_name},public"})
        workspace = cls(url.render_as_string(hide_password=False), schema_name, template)
        admin = Database(base_url)
        with admin.engine.begin() as connection:
            # Workers start at once: one at a time here, so CREATE EXTENSION cannot race.
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('egs-test-setup'))"))
            connection.execute(sa.text("CREATE SCHEMA IF NOT EXISTS public"))
            connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
            # Tables an older test run left in public would shadow a schema that has not got them yet.
            for table in [*TABLES, "alembic_version"]:
                connection.execute(sa.text(f"DROP TABLE IF EXISTS public.{table} CASCADE"))
            for name in (template, schema_name):
                connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
                connection.execute(sa.text(f"CREATE SCHEMA {name}"))
        admin.dispose()
        db = Database(workspace.url)
        db_upgrade.upgrade(db)
        deploy_models(workspace.url)
        with db.engine.begin() as connection:
            for table in TABLES:
                connection.execute(sa.text(f"CREATE TABLE {template}.{table} AS SELECT * FROM {schema_name}.{table}"))
        db.dispose()
        return workspace

    def reset(self, *, deployed: bool) -> str:
        """Empty every table (for ``deployed``, copy the template rows back); restart the id sequences."""
        db = Database(self.url)
        with db.engine.begin() as connection:
            # The audit table refuses DELETE by trigger; replica mode lets the test harness reset it.
            connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
            for table in reversed(TABLES):
                connection.execute(sa.text(f"DELETE FROM {table}"))
            for table in TABLES:
                if deployed:
                    connection.execute(sa.text(f"INSERT INTO {table} SELECT * FROM {self.template_schema}.{table}"))
                if table in SERIAL_TABLES:
                    connection.execute(
                        sa.text(
                            f"SELECT setval(pg_get_serial_sequence('{self.schema}.{table}', 'id'), "
                            f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
                        )
                    )
        db.dispose()
        return self.url

    def drop(self) -> None:
        admin = Database(PG_URL)
        with admin.engine.begin() as connection:
            for name in (self.template_schema, self.schema):
                connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        admin.dispose()
