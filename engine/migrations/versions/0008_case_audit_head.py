"""audit: the head of each case's hash chain kept on the case row

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

A step already locks and updates its case row; keeping the hash of the case's last audit event there
saves the lookup of the predecessor (and PostgreSQL's advisory lock) on every step.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("process_instance", sa.Column("audit_head", sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE process_instance SET audit_head = (SELECT e.hash FROM audit_event e "
        "WHERE e.chain = 'case:' || process_instance.id ORDER BY e.id DESC LIMIT 1)"
    )


def downgrade() -> None:
    with op.batch_alter_table("process_instance") as batch:
        batch.drop_column("audit_head")
