"""audit key rotation: every event names the key that signed it

Revision ID: 0020
Revises: 0017
Create Date: 2026-12-01

``audit_event.key_id``: the id of the HMAC key that signed the event (``engine.audit_keys``), so that the keys
can be rotated (``egs audit rotate-key``) and every event is verified with its own key. Events written before
carry no id: they were signed with the first key. The table's guards now keep this column unchanged as well.
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0017"
branch_labels = None
depends_on = None

MESSAGE = "audit_event is append-only"
KEPT = ("id", "occurred_at", "actor", "action", "instance_id", "task_uuid", "process_id", "chain", "prev_hash", "hash")


def _sqlite_guard(kept: tuple[str, ...]) -> str:
    return (
        "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event WHEN NOT ("
        + " AND ".join(f"NEW.{column} IS OLD.{column}" for column in kept)
        + " AND json_extract(NEW.details, '$.entfernt') IS NOT NULL"
        " AND json_extract(OLD.details, '$.entfernt') IS NULL)"
        f" BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
    )


def _pg_guard(kept: tuple[str, ...]) -> str:
    return (
        "CREATE OR REPLACE FUNCTION audit_event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF TG_OP = 'UPDATE' AND ("
        + ", ".join(f"NEW.{column}" for column in kept)
        + ") IS NOT DISTINCT FROM ("
        + ", ".join(f"OLD.{column}" for column in kept)
        + ") AND NEW.details::jsonb ? 'entfernt' AND NOT (OLD.details::jsonb ? 'entfernt') THEN RETURN NEW; END IF; "
        f"RAISE EXCEPTION '{MESSAGE}'; END $$"
    )


def _guard(kept: tuple[str, ...]) -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute(_sqlite_guard(kept))
    elif dialect == "postgresql":
        op.execute(_pg_guard(kept))


def upgrade() -> None:
    op.add_column("audit_event", sa.Column("key_id", sa.String(length=16), nullable=True))  # no table rebuild
    _guard((*KEPT, "key_id"))


def downgrade() -> None:
    _guard(KEPT)
    op.execute("ALTER TABLE audit_event DROP COLUMN key_id")  # SQLite ≥ 3.35: no rebuild, the triggers stay
