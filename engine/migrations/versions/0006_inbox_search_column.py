"""inbox search: a search column with a trigram index on both databases

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26

``search_text`` holds business key and applicant name in lower case (kept by the engine). PostgreSQL
indexes it with pg_trgm (replacing 0004's expression index); SQLite gets an FTS5 table with the trigram
tokenizer, kept in step by triggers, so a substring search no longer scans the clerk's whole queue.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TEXT = "lower(coalesce(business_key, '') || ' ' || coalesce(applicant_name, ''))"
SQLITE_TRIGGERS = (
    "CREATE TRIGGER human_task_fts_insert AFTER INSERT ON human_task BEGIN "
    "INSERT INTO human_task_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER human_task_fts_delete AFTER DELETE ON human_task BEGIN "
    "INSERT INTO human_task_fts(human_task_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER human_task_fts_update AFTER UPDATE OF search_text ON human_task BEGIN "
    "INSERT INTO human_task_fts(human_task_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO human_task_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
)


def upgrade() -> None:
    with op.batch_alter_table("human_task") as batch:
        batch.add_column(sa.Column("search_text", sa.String(length=270), nullable=True))
    op.execute(f"UPDATE human_task SET search_text = {TEXT}")
    with op.batch_alter_table("human_task") as batch:
        batch.alter_column("search_text", existing_type=sa.String(length=270), nullable=False)
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_human_task_search")
        op.execute("CREATE INDEX ix_human_task_search ON human_task USING gin (search_text gin_trgm_ops)")
    elif dialect == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE human_task_fts USING fts5("
            "search_text, content='human_task', content_rowid='id', tokenize='trigram')"
        )
        op.execute("INSERT INTO human_task_fts(rowid, search_text) SELECT id, search_text FROM human_task")
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_human_task_search")
        op.execute(f"CREATE INDEX ix_human_task_search ON human_task USING gin (({TEXT}) gin_trgm_ops)")
    elif dialect == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS human_task_fts_{name}")
        op.execute("DROP TABLE IF EXISTS human_task_fts")
    with op.batch_alter_table("human_task") as batch:
        batch.drop_column("search_text")
