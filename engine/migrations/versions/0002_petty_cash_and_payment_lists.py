"""petty cash books and payment lists

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

Tables written by service tasks: the Handvorschusskasse per site with its bookings, and the entries of
the monthly Sammellisten (EGZ, EQ, § 16e SGB II). Amounts are integer cents.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "petty_cash_register",
        sa.Column("site", sa.String(length=16), nullable=False),
        sa.Column("balance_cents", sa.Integer(), nullable=False),
        sa.Column("custodian", sa.String(length=64), nullable=True),
        sa.Column("deputy", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("site", name=op.f("pk_petty_cash_register")),
        sa.CheckConstraint("balance_cents >= 0", name=op.f("ck_petty_cash_register_balance_not_negative")),
    )
    op.create_table(
        "petty_cash_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("balance_after_cents", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=300), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("business_key", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_petty_cash_entry")),
        sa.CheckConstraint("balance_after_cents >= 0", name=op.f("ck_petty_cash_entry_balance_not_negative")),
    )
    op.create_index("ix_petty_cash_entry_site", "petty_cash_entry", ["site", "occurred_at"])
    op.create_table(
        "payment_list_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=16), nullable=False),
        sa.Column("measure_type", sa.String(length=8), nullable=False),
        sa.Column("pay_month", sa.String(length=7), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("business_key", sa.String(length=64), nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_list_entry")),
    )
    op.create_index("ix_payment_list_entry_list", "payment_list_entry", ["site", "measure_type", "pay_month"])


def downgrade() -> None:
    op.drop_index("ix_payment_list_entry_list", table_name="payment_list_entry")
    op.drop_table("payment_list_entry")
    op.drop_index("ix_petty_cash_entry_site", table_name="petty_cash_entry")
    op.drop_table("petty_cash_entry")
    op.drop_table("petty_cash_register")
