"""A PostgreSQL schema of its own for one benchmark run, so that runs on one database never meet."""

from __future__ import annotations

import sys

import sqlalchemy as sa


def fresh_schema(url: str, schema: str) -> str:
    """(Re)create ``schema`` in the database of ``url``; return the URL that works in it."""
    admin = sa.create_engine(url)
    with admin.begin() as connection:
        if connection.execute(sa.text("SELECT to_regclass('public.alembic_version')")).scalar() is not None:
            sys.exit("The public schema of this database holds EGS tables, which would shadow the bench's own schema.")
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('egs-test-setup'))"))
        connection.execute(sa.text("CREATE SCHEMA IF NOT EXISTS public"))
        connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
        connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    # pg_trgm's operator classes live in public, so public stays on the search path (after ours).
    scoped = sa.make_url(url).update_query_dict({"options": f"-csearch_path={schema},public"})
    return scoped.render_as_string(hide_password=False)


def drop_schema(url: str, schema: str) -> None:
    admin = sa.create_engine(url)
    with admin.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()
