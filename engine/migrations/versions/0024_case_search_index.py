"""case search: a folded name column and substring indexes on both databases, index orders for the lists

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01

``process_instance.search_name`` holds the applicant name folded for search ("Müller" → "mueller" and
"muller", ``models.search_name_of``); the engine writes it in the statement that writes the name, this
migration fills it for existing cases. Substrings: PostgreSQL gets a pg_trgm GIN index on ``search_name``
(``lower(business_key)`` has one since 0017) for rare terms; on both databases the list indexes carry name and
Geschäftszeichen, so a walk in the list's order checks them there. (An FTS5 trigram table on SQLite was measured
and left out: a common Geschäftszeichen prefix such as "07402//00" costs it 140 ms of CPU, the index walk at most
a pass over the index.)

pg_trgm: ``CREATE EXTENSION`` needs a role allowed to create it (pg_trgm is a trusted extension since
PostgreSQL 13: the database owner may; else a superuser once, before ``egs init-db``).
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

BATCH = 2000
# B-tree indexes of the case lists (``engine.audit_search``, ``engine.case_search``), one per sort order: newest
# change first and by number (begun). Each carries every column the filters check – the folded name and the
# Geschäftszeichen too –, so that a walk in that order checks them in the index alone (SQLite: always; PostgreSQL:
# an index-only scan) and reads only the page's rows from the wide table.
LIST_COLUMNS = ["site", "status", "process_id", "version_id"]
TEXT_COLUMNS = ["search_name", "business_key"]
INDEXES = {
    "ix_process_instance_updated": ["updated_at", "id", *LIST_COLUMNS, "created_at", *TEXT_COLUMNS],
    "ix_process_instance_started": ["id", *LIST_COLUMNS, "created_at", "updated_at", *TEXT_COLUMNS],
}
OLD_UPDATED = ["updated_at", "id", "applicant_name", "business_key"]
# "Who worked it" answered from the index alone (the person's events with their case and action).
ACTOR = ["actor", "id", "action", "instance_id"]
OLD_ACTOR = ["actor", "id"]


def _backfill() -> None:
    from engine.models import search_name_of  # the one definition of the folded name

    bind = op.get_bind()
    cases = sa.table("process_instance", sa.column("id"), sa.column("applicant_name"), sa.column("search_name"))
    update = sa.update(cases).where(cases.c.id == sa.bindparam("b_id")).values(search_name=sa.bindparam("b_name"))
    last = 0
    while True:
        rows = bind.execute(
            sa.select(cases.c.id, cases.c.applicant_name)
            .where(cases.c.id > last, cases.c.applicant_name.is_not(None))
            .order_by(cases.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        bind.execute(update, [{"b_id": row.id, "b_name": search_name_of(row.applicant_name)} for row in rows])
        last = rows[-1].id


def upgrade() -> None:
    with op.batch_alter_table("process_instance") as batch:
        batch.add_column(sa.Column("search_name", sa.String(length=500), nullable=True))
    _backfill()
    op.drop_index("ix_process_instance_updated", table_name="process_instance")
    for name, columns in INDEXES.items():
        op.create_index(name, "process_instance", columns)
    op.drop_index("ix_audit_event_actor", table_name="audit_event")
    op.create_index("ix_audit_event_actor", "audit_event", ACTOR)
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("DROP INDEX IF EXISTS ix_process_instance_applicant_name_trgm")
        op.execute(
            "CREATE INDEX ix_process_instance_search_name ON process_instance USING gin (search_name gin_trgm_ops)"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_process_instance_search_name")
        op.execute(
            "CREATE INDEX ix_process_instance_applicant_name_trgm ON process_instance "
            "USING gin ((lower(applicant_name)) gin_trgm_ops)"
        )
    op.drop_index("ix_audit_event_actor", table_name="audit_event")
    op.create_index("ix_audit_event_actor", "audit_event", OLD_ACTOR)
    for name in INDEXES:
        op.drop_index(name, table_name="process_instance")
    op.create_index("ix_process_instance_updated", "process_instance", OLD_UPDATED)
    with op.batch_alter_table("process_instance") as batch:
        batch.drop_column("search_name")
