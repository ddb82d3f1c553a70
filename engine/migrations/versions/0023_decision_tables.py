"""modeller: versions of decision tables (DMN) and drafts of them

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01

``decision_version``: every deployed version of a DMN file (issue 11, "DMN tables open in dmn-js"); a process
version keeps its own copy of the tables it uses. ``model_draft.kind``: a draft is of a process ("bpmn") or of a
decision table file ("dmn"). Existing deploys get version 1 of each DMN file, taken from the newest process
version that carries it.
"""

import hashlib
import html
import re

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_NAME = re.compile(r"<(?:\w+:)?definitions\b[^>]*?\sname=\"([^\"]*)\"")


def upgrade() -> None:
    table = op.create_table(
        "decision_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.Column("deployed_by", sa.String(length=64), nullable=False),
        sa.Column("deployed_at", sa.DateTime(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_version")),
        sa.UniqueConstraint("filename", "version", name="uq_decision_version_filename_version"),
    )
    with op.batch_alter_table("model_draft") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=8), nullable=False, server_default="bpmn"))
    versions = sa.table(
        "process_version",
        sa.column("id", sa.Integer()),
        sa.column("resources", sa.JSON()),
        sa.column("deployed_by", sa.String()),
        sa.column("deployed_at", sa.DateTime()),
    )
    newest: dict[str, dict[str, object]] = {}
    for row in op.get_bind().execute(sa.select(versions).order_by(versions.c.id)):
        for filename, text in (row.resources or {}).items():
            if filename.lower().endswith(".dmn"):
                newest[filename] = {"xml": text, "by": row.deployed_by, "at": row.deployed_at}
    rows = []
    for filename, found in sorted(newest.items()):
        xml = str(found["xml"])
        match = _NAME.search(xml)
        rows.append({
            "filename": filename, "version": 1, "name": html.unescape(match.group(1)) if match else filename,
            "content_hash": hashlib.sha256(xml.encode()).hexdigest(), "xml": xml, "deployed_by": found["by"],
            "deployed_at": found["at"], "comment": None,
        })  # fmt: skip
    if rows:
        op.bulk_insert(table, rows)


def downgrade() -> None:
    with op.batch_alter_table("model_draft") as batch:
        batch.drop_column("kind")
    op.drop_table("decision_version")
