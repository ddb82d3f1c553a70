"""audit proof and retention: legal holds, removal of personal data from the trail

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01

``legal_hold``: a Löschsperre on a case or a person (applicant name), with reason, set and lifted by the audit
function. The audit trail's guards now let exactly one change through: replacing an event's details by a
removal record (``{"entfernt": …, "sha256": …}``, retention); every other UPDATE, DELETE and TRUNCATE is
still refused. The chain HMAC covers the digest of the details, so verification stays green after removal.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

MESSAGE = "audit_event is append-only"
KEPT = ("id", "occurred_at", "actor", "action", "instance_id", "task_uuid", "process_id", "chain", "prev_hash", "hash")
SQLITE_GUARD = (
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event WHEN NOT ("
    + " AND ".join(f"NEW.{column} IS OLD.{column}" for column in KEPT)
    + " AND json_extract(NEW.details, '$.entfernt') IS NOT NULL AND json_extract(OLD.details, '$.entfernt') IS NULL)"
    f" BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
)
PG_GUARD = (
    "CREATE OR REPLACE FUNCTION audit_event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP = 'UPDATE' AND ("
    + ", ".join(f"NEW.{column}" for column in KEPT)
    + ") IS NOT DISTINCT FROM ("
    + ", ".join(f"OLD.{column}" for column in KEPT)
    + ") AND NEW.details::jsonb ? 'entfernt' AND NOT (OLD.details::jsonb ? 'entfernt') THEN RETURN NEW; END IF; "
    f"RAISE EXCEPTION '{MESSAGE}'; END $$"
)
PG_OLD_GUARD = (
    "CREATE OR REPLACE FUNCTION audit_event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$"
)


def upgrade() -> None:
    op.create_table(
        "legal_hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("person", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", sa.DateTime(), nullable=False),
        sa.Column("lifted_by", sa.String(length=64), nullable=True),
        sa.Column("lifted_at", sa.DateTime(), nullable=True),
        sa.Column("lift_reason", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_hold")),
    )
    op.create_index("ix_legal_hold_instance", "legal_hold", ["instance_id", "lifted_at"])
    op.create_index("ix_legal_hold_person", "legal_hold", ["person", "lifted_at"])
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute(SQLITE_GUARD)
    elif dialect == "postgresql":
        op.execute(PG_GUARD)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute(
            "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )
    elif dialect == "postgresql":
        op.execute(PG_OLD_GUARD)
    op.drop_index("ix_legal_hold_person", table_name="legal_hold")
    op.drop_index("ix_legal_hold_instance", table_name="legal_hold")
    op.drop_table("legal_hold")
