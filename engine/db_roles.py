"""PostgreSQL: the role the application runs as (least privilege for the audit trail).

The migration role (``egs init-db``) owns every table. The application role may read and write the working
tables, but on ``audit_event`` only SELECT and INSERT – plus UPDATE of the ``details`` column, which the table's
trigger lets through solely as retention's removal record. It may not UPDATE other columns, DELETE, TRUNCATE,
ALTER the table or disable its triggers (only the owner may), nor bypass them (``session_replication_role``
needs a superuser). Run it as the owner after every ``init-db``: new tables get their grants too.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from .db import Database
from .errors import ConfigurationError

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def grant_application_role(db: Database, role: str, password: str | None = None) -> None:
    """Create ``role`` if missing (LOGIN with ``password`` when given) and set its grants in the current schema.

    :raises ConfigurationError: not PostgreSQL, or an unusable role name.
    """
    if db.is_sqlite:
        raise ConfigurationError("Rollen und Rechte gibt es nur unter PostgreSQL.")
    if not ROLE_NAME.match(role):
        raise ConfigurationError("Rollenname: Kleinbuchstaben, Ziffern und _, höchstens 63 Zeichen.")
    with db.engine.begin() as connection:
        # Grants on the database row are not safe to run side by side (two migrate runs): one at a time.
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('egs_grant_application_role'))"))
        exists = connection.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
        if exists is None:
            connection.exec_driver_sql(f"CREATE ROLE {role} NOINHERIT")
        if password:
            connection.exec_driver_sql(f"ALTER ROLE {role} LOGIN PASSWORD {_literal(password)}")
        schema = connection.execute(sa.text("SELECT current_schema()")).scalar_one()
        database = connection.execute(sa.text("SELECT current_database()")).scalar_one()
        for statement in (
            f'GRANT CONNECT ON DATABASE "{database}" TO {role}',
            f'GRANT USAGE ON SCHEMA "{schema}" TO {role}',
            f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM {role}',
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO {role}',
            f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO {role}',
            f'REVOKE ALL ON "{schema}".audit_event FROM {role}',
            f'GRANT SELECT, INSERT ON "{schema}".audit_event TO {role}',
            f'GRANT UPDATE (details) ON "{schema}".audit_event TO {role}',
            f'REVOKE INSERT, UPDATE, DELETE ON "{schema}".alembic_version FROM {role}',
        ):
            connection.exec_driver_sql(statement)
