"""inbox: a label per task from the case's data (which document a per-document task is about)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

Tasks of one model element have one name ("Eingang der Unterlage erfassen" once per requested document);
the label (model property ``egsLabel``) is computed when the task becomes ready and shown next to the name.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("human_task", sa.Column("label", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("human_task") as batch:
        batch.drop_column("label")
