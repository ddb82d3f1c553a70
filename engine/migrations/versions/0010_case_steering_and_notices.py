"""steering: a case's priority and due date, and notices to people a lead took a task from

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

Leads set priority and due date for the case: every task that begins in it starts with them. When a lead
takes a task from the person holding it, that person gets a notice with the reason.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("process_instance", sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("process_instance", sa.Column("due_at", sa.DateTime(), nullable=True))
    op.create_table(
        "task_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("task_uuid", sa.String(length=36), nullable=False),
        sa.Column("task_name", sa.String(length=300), nullable=False),
        sa.Column("business_key", sa.String(length=64), nullable=True),
        sa.Column("by_name", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_task_notice_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_notice")),
    )
    op.create_index(op.f("ix_task_notice_user_id"), "task_notice", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_task_notice_user_id"), table_name="task_notice")
    op.drop_table("task_notice")
    with op.batch_alter_table("process_instance") as batch:
        batch.drop_column("due_at")
        batch.drop_column("priority")
