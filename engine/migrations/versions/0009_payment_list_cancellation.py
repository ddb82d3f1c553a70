"""payment lists: cancelling an entry (requested with a reason, confirmed by a second person)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

A wrong payment on a Sammelliste must be taken off before the list is paid, and the printed list must
show that it was taken off: the entry stays, marked as cancelled (four-eyes rule like the entry).
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

COLUMNS = (
    ("cancel_reason", sa.String(length=500)),
    ("cancel_requested_by", sa.String(length=64)),
    ("cancel_requested_at", sa.DateTime()),
    ("cancelled_by", sa.String(length=64)),
    ("cancelled_at", sa.DateTime()),
)


def upgrade() -> None:
    with op.batch_alter_table("payment_list_entry") as batch:
        for name, type_ in COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payment_list_entry") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
