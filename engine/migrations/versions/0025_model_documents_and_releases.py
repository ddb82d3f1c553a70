"""modeller: other tools' models as documentation, and deploys released by a second process owner

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-01

``model_document``: a BPMN file from another tool (Camunda, Signavio, the interchange test suite), kept for
viewing with the reasons why it cannot run; never deployed. ``model_release``: a deploy of a draft waiting for
a second process owner (``[modelle] freigabe_durch_zweite_person`` in config/egs.toml), one per draft.
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("bpmn_xml", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_document")),
    )
    op.create_table(
        "model_release",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(length=100), nullable=False),
        sa.Column("draft_lock_version", sa.Integer(), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("rejected_by", sa.String(length=64), nullable=True),
        sa.Column("rejected_at", sa.DateTime(), nullable=True),
        sa.Column("reject_reason", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["draft_id"], ["model_draft.id"], name=op.f("fk_model_release_draft_id_model_draft"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_release")),
        sa.UniqueConstraint("draft_id", name=op.f("uq_model_release_draft_id")),
    )


def downgrade() -> None:
    op.drop_table("model_release")
    op.drop_table("model_document")
