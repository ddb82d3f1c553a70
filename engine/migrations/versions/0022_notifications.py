"""notifications: the notices of 0010 become every kind of notification; read markers, mail choice, outbox

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01

``task_notice`` now holds every stored notification (``kind``): a task taken from someone (as before), a
task delegated or reassigned to someone, a task due tomorrow or overdue, an incident, a staffing
escalation. ``dedupe_key`` makes what the worker writes idempotent. Tasks that arrive for a group are not
stored per member: ``notice_marker`` keeps, per user and (group, site), up to when they have read them.
``notice_setting`` is a user's e-mail choice, ``notice_mail`` the outbox the worker sends and retries,
``notice_job`` the worker's marks (last incident seen, day of the due reminders). ``human_task.arrived_by``:
who took the step a task began in (written with the row, no extra statement).
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Who took the step a task began in: a task one's own step produced is no news to oneself.
    op.add_column("human_task", sa.Column("arrived_by", sa.String(length=64), nullable=True))
    with op.batch_alter_table("task_notice") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=24), nullable=False, server_default="entzogen"))
        batch.add_column(sa.Column("dedupe_key", sa.String(length=120), nullable=True))
        batch.alter_column("task_uuid", existing_type=sa.String(length=36), nullable=True)
        batch.alter_column("task_name", existing_type=sa.String(length=300), nullable=True)
        batch.alter_column("by_name", existing_type=sa.String(length=200), nullable=True)
        batch.alter_column("reason", existing_type=sa.String(length=500), nullable=True)
        batch.create_unique_constraint("uq_task_notice_user_id_dedupe_key", ["user_id", "dedupe_key"])
    op.create_index("ix_task_notice_user_created", "task_notice", ["user_id", "created_at"])
    op.create_index("ix_task_notice_user_task", "task_notice", ["user_id", "task_uuid"])
    op.create_table(
        "notice_marker",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("lane", sa.String(length=16), nullable=False),
        sa.Column("site", sa.String(length=16), nullable=False),
        sa.Column("read_until", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_notice_marker_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "lane", "site", name=op.f("pk_notice_marker")),
    )
    op.create_table(
        "notice_setting",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("mail_mode", sa.String(length=16), nullable=False),
        sa.Column("mailed_until", sa.DateTime(), nullable=True),
        sa.Column("digest_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_notice_setting_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notice_setting")),
    )
    op.create_table(
        "notice_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_try_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_notice_mail_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_mail")),
    )
    op.create_index("ix_notice_mail_due", "notice_mail", ["sent_at", "next_try_at"])
    op.create_table(
        "notice_job",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("mark_id", sa.BigInteger(), nullable=True),
        sa.Column("mark_day", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_notice_job")),
    )


def downgrade() -> None:
    op.drop_table("notice_job")
    op.drop_index("ix_notice_mail_due", table_name="notice_mail")
    op.drop_table("notice_mail")
    op.drop_table("notice_setting")
    op.drop_table("notice_marker")
    op.drop_index("ix_task_notice_user_task", table_name="task_notice")
    op.drop_index("ix_task_notice_user_created", table_name="task_notice")
    op.execute("DELETE FROM task_notice WHERE kind <> 'entzogen'")
    with op.batch_alter_table("task_notice") as batch:
        batch.drop_constraint("uq_task_notice_user_id_dedupe_key", type_="unique")
        batch.alter_column("reason", existing_type=sa.String(length=500), nullable=False)
        batch.alter_column("by_name", existing_type=sa.String(length=200), nullable=False)
        batch.alter_column("task_name", existing_type=sa.String(length=300), nullable=False)
        batch.alter_column("task_uuid", existing_type=sa.String(length=36), nullable=False)
        batch.drop_column("dedupe_key")
        batch.drop_column("kind")
    with op.batch_alter_table("human_task") as batch:
        batch.drop_column("arrived_by")
