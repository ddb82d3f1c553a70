"""related cases

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

A case started by a message from another case remembers that case's business key, so that the case
page can show both directions (e.g. the visitor registration and the PB case it started).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_instance") as batch:
        batch.add_column(sa.Column("related_key", sa.String(length=64), nullable=True))
        batch.create_index("ix_process_instance_related_key", ["related_key"])


def downgrade() -> None:
    with op.batch_alter_table("process_instance") as batch:
        batch.drop_index("ix_process_instance_related_key")
        batch.drop_column("related_key")
