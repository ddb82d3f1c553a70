"""staffing: staff, absences, the share decision, escalation episodes, redeployments; grants that start later

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01

Issue 13 (§ 6/§ 7 of the concept). ``user_grant.valid_from`` lets a redeployment's EGS grant start on its first
day; together with ``valid_until`` it is checked on every request (``engine.auth.load_actor``).
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_grant") as batch:
        batch.add_column(sa.Column("valid_from", sa.DateTime(), nullable=True))
    op.create_table(
        "staff_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("function", sa.String(length=8), nullable=False),
        sa.Column("weekly_hours", sa.Numeric(5, 2), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_member")),
    )
    op.create_index(op.f("ix_staff_member_site"), "staff_member", ["site"])
    op.create_table(
        "staff_absence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_member.id"], name=op.f("fk_staff_absence_staff_id_staff_member"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_absence")),
    )
    op.create_index(op.f("ix_staff_absence_staff_id"), "staff_absence", ["staff_id"])
    op.create_table(
        "site_share_decision",
        sa.Column("site", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("site", name=op.f("pk_site_share_decision")),
    )
    op.create_table(
        "escalation_episode",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("reasons", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_episode")),
    )
    op.create_index(op.f("ix_escalation_episode_site"), "escalation_episode", ["site"])
    op.create_table(
        "redeployment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=16), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.Column("from_function", sa.String(length=8), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("end_recorded_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_member.id"], name=op.f("fk_redeployment_staff_id_staff_member")),
        sa.ForeignKeyConstraint(
            ["grant_id"], ["user_grant.id"], name=op.f("fk_redeployment_grant_id_user_grant"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redeployment")),
    )
    op.create_index(op.f("ix_redeployment_site"), "redeployment", ["site"])


def downgrade() -> None:
    op.drop_table("redeployment")
    op.drop_table("escalation_episode")
    op.drop_table("site_share_decision")
    op.drop_table("staff_absence")
    op.drop_table("staff_member")
    with op.batch_alter_table("user_grant") as batch:
        batch.drop_column("valid_from")
