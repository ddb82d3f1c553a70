"""inbox: due-date sort column and indexes for every tab

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

"Due first" sorted on COALESCE(due_at, …) cannot use an index, so the inbox sorted every visible row.
``due_sort`` holds due_at or 9999-12-31 and the indexes match the tabs: the group queue (unclaimed, by
group and site), overdue, mine, and a lead's sites. On PostgreSQL a trigram index serves the search.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

NO_DUE_DATE = "9999-12-31 00:00:00"
SEARCH_TEXT = "lower(coalesce(business_key, '') || ' ' || coalesce(applicant_name, ''))"


def upgrade() -> None:
    with op.batch_alter_table("human_task") as batch:
        batch.add_column(sa.Column("due_sort", sa.DateTime(), nullable=True))
    op.execute(f"UPDATE human_task SET due_sort = COALESCE(due_at, '{NO_DUE_DATE}')")
    with op.batch_alter_table("human_task") as batch:
        batch.alter_column("due_sort", existing_type=sa.DateTime(), nullable=False)
        batch.drop_index("ix_human_task_queue")
        batch.drop_index("ix_human_task_assignee")
        batch.drop_index("ix_human_task_due")
        batch.create_index("ix_human_task_group_queue", ["lane", "site", "assignee_id", "due_sort", "created_at", "id"])
        batch.create_index("ix_human_task_due_sort", ["lane", "site", "due_sort"])
        batch.create_index("ix_human_task_mine", ["assignee_id", "due_sort"])
        batch.create_index("ix_human_task_site_due", ["site", "due_sort"])
    if op.get_bind().dialect.name == "postgresql":
        # Trigram index for the inbox search (substring of business key or name).
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(f"CREATE INDEX ix_human_task_search ON human_task USING gin (({SEARCH_TEXT}) gin_trgm_ops)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_human_task_search")
    with op.batch_alter_table("human_task") as batch:
        batch.drop_index("ix_human_task_site_due")
        batch.drop_index("ix_human_task_mine")
        batch.drop_index("ix_human_task_due_sort")
        batch.drop_index("ix_human_task_group_queue")
        batch.create_index("ix_human_task_due", ["lane", "site", "due_at"])
        batch.create_index("ix_human_task_assignee", ["assignee_id", "created_at"])
        batch.create_index("ix_human_task_queue", ["lane", "site", "created_at"])
        batch.drop_column("due_sort")
