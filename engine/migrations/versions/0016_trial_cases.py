"""modeller: Probelauf (trial cases of a model draft), kept apart from real cases

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01

``trial_case``: a process owner's trial run of a draft, with the model files and forms it started with,
its state, its open tasks (its own "inbox rows", never in ``human_task``) and what happened so far. No
query over cases, tasks, reports, exports, metrics or staffing reads this table (issue 11, "Probelauf").
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trial_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("site", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("serializer_version", sa.String(length=8), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("resources", sa.JSON(), nullable=False),
        sa.Column("forms", sa.JSON(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("tasks", sa.JSON(), nullable=False),
        sa.Column("journal", sa.JSON(), nullable=False),
        sa.Column("next_timer_at", sa.DateTime(), nullable=True),
        sa.Column("started_by", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["draft_id"], ["model_draft.id"], name=op.f("fk_trial_case_draft_id_model_draft"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trial_case")),
    )
    op.create_index("ix_trial_case_draft_id", "trial_case", ["draft_id"])


def downgrade() -> None:
    op.drop_index("ix_trial_case_draft_id", table_name="trial_case")
    op.drop_table("trial_case")
