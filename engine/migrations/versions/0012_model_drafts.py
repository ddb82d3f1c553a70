"""modeller: drafts of process models, and the comment of a deployed version

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

Process owners keep drafts of a model on the server (not live) until they deploy one; a deploy from the
modeller carries a comment, shown with the version on the "Modelle" page.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("bpmn_xml", sa.Text(), nullable=False),
        sa.Column("forms", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_draft")),
    )
    op.create_index(op.f("ix_model_draft_process_id"), "model_draft", ["process_id"])
    op.add_column("process_version", sa.Column("comment", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("process_version") as batch:
        batch.drop_column("comment")
    op.drop_index(op.f("ix_model_draft_process_id"), table_name="model_draft")
    op.drop_table("model_draft")
