"""task drafts and inbox indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

Drafts of task forms per user (saved without completing), and indexes for the inbox tabs:
overdue/due-date ordering within a group and site, and the "claimed by me" tab.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_uuid", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("saved_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_task_draft_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_draft")),
        sa.UniqueConstraint("task_uuid", "user_id", name="uq_task_draft_task_uuid_user_id"),
    )
    op.create_index(op.f("ix_task_draft_task_uuid"), "task_draft", ["task_uuid"])
    op.create_index("ix_human_task_due", "human_task", ["lane", "site", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_human_task_due", table_name="human_task")
    op.drop_index(op.f("ix_task_draft_task_uuid"), table_name="task_draft")
    op.drop_table("task_draft")
