"""audit workbench: the purpose of a sitting on the session, indexes for searching cases and the trail

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01

``user_session.purpose*``: an auditor states why they read personal data (§ 67 ff. SGB X) once per
sitting; every access in that sitting is recorded with it (issue 12, "Purpose first"). The indexes serve
the workbench's paged case search (newest change first; on PostgreSQL trigram indexes for "contains")
and the person views (events of one user or one action).
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_session") as batch:
        batch.add_column(sa.Column("purpose", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("purpose_reference", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("purpose_at", sa.DateTime(), nullable=True))
    # Newest change first; the name and number ride along so that "contains" is checked in the index and
    # only hits are read from the (wide) case rows.
    op.create_index(
        "ix_process_instance_updated", "process_instance", ["updated_at", "id", "applicant_name", "business_key"]
    )
    op.create_index("ix_audit_event_actor", "audit_event", ["actor", "id"])
    # "Which cases had this action (by this person)": answered from the index alone.
    op.create_index("ix_audit_event_action", "audit_event", ["action", "actor", "instance_id"])
    if op.get_bind().dialect.name == "postgresql":  # "contains" on names and Geschäftszeichen (pg_trgm: 0004)
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in ("applicant_name", "business_key"):
            op.execute(
                f"CREATE INDEX ix_process_instance_{column}_trgm ON process_instance "
                f"USING gin ((lower({column})) gin_trgm_ops)"
            )


def downgrade() -> None:
    for column in ("applicant_name", "business_key"):
        op.execute(f"DROP INDEX IF EXISTS ix_process_instance_{column}_trgm")
    op.drop_index("ix_audit_event_action", table_name="audit_event")
    op.drop_index("ix_audit_event_actor", table_name="audit_event")
    op.drop_index("ix_process_instance_updated", table_name="process_instance")
    with op.batch_alter_table("user_session") as batch:
        batch.drop_column("purpose_at")
        batch.drop_column("purpose_reference")
        batch.drop_column("purpose")
