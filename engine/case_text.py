"""The searchable text of a case and the one "contains" condition on it, for every case search.

The auditor's search (``audit_search``), the Art. 15 lookup (``audit_events.applicant_cases``) and the clerks'
search (``case_search``) match applicant names in ``process_instance.search_name``: the name folded so that
"Müller", "MÜLLER", "Mueller" and "Muller" find each other (case folded, ä/ö/ü → ae/oe/ue, ß → ss, other
accents dropped; the form without umlaut spelling is kept as a second line). ``case_rows.update_case`` and
``ProcessInstance`` keep it in step with the name in the same statement that writes the name.

Substrings of three characters and more are looked up in an index: SQLite's FTS5 table
``process_instance_fts`` (trigram tokenizer, kept by triggers), PostgreSQL's pg_trgm GIN indexes (migration
0019). Shorter terms match nothing (a one- or two-letter name part would read every case).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .models import ProcessInstance, fold, search_name_of

__all__ = ["fold", "search_name_of", "term", "key_term", "name_contains", "key_contains", "name_or_key_contains"]

MIN_TERM = 3
MAX_TERM = 100


def term(text: str | None) -> str:
    """A name term as it is looked up ('' if shorter than ``MIN_TERM``)."""
    folded = fold(text)[:MAX_TERM]
    return folded if len(folded) >= MIN_TERM else ""


def key_term(text: str | None) -> str:
    """A Geschäftszeichen term as it is looked up: trimmed, lower case ('' if shorter than ``MIN_TERM``)."""
    lowered = " ".join((text or "").split()).lower()[:MAX_TERM]
    return lowered if len(lowered) >= MIN_TERM else ""


def name_contains(text: str, dialect: str, ids: Any = ProcessInstance.id) -> sa.ColumnElement[bool]:
    """Cases whose applicant name contains the term ``text`` (from ``term``); ``ids``: the id column compared
    with the trigram table's rows on SQLite (an expression of it, to keep the planner from an index)."""
    return _contains(("search_name",), text, dialect, ids)


def key_contains(text: str, dialect: str, ids: Any = ProcessInstance.id) -> sa.ColumnElement[bool]:
    """Cases whose Geschäftszeichen contains the term ``text`` (from ``key_term``); ``ids`` as above."""
    return _contains(("business_key",), text, dialect, ids)


def name_or_key_contains(name: str, key: str, dialect: str) -> sa.ColumnElement[bool]:
    """Cases whose name contains ``name`` or whose Geschäftszeichen contains ``key`` (the clerks' one box)."""
    if dialect == "sqlite" and name and key:
        return _fts(f"{{search_name}} : {_phrase(name)} OR {{business_key}} : {_phrase(key)}")
    parts = [_contains(("search_name",), name, dialect)] if name else []
    parts += [_contains(("business_key",), key, dialect)] if key else []
    return sa.or_(*parts) if parts else sa.false()


def _contains(
    columns: tuple[str, ...], text: str, dialect: str, ids: Any = ProcessInstance.id
) -> sa.ColumnElement[bool]:
    if len(text) < MIN_TERM:
        return sa.false()
    if dialect == "sqlite":
        return _fts(f"{{{' '.join(columns)}}} : {_phrase(text)}", ids)
    (column,) = columns
    if column == "search_name":  # gin (search_name gin_trgm_ops)
        return ProcessInstance.search_name.contains(text, autoescape=True)
    return sa.func.lower(ProcessInstance.business_key).contains(text, autoescape=True)  # gin (lower(…) gin_trgm_ops)


def _phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _fts(expression: str, ids: Any = ProcessInstance.id) -> sa.ColumnElement[bool]:
    """Ids from the trigram table: a quoted phrase is an exact substring (case-insensitive) of the column."""
    matching: Any = (
        sa.select(sa.column("rowid"))
        .select_from(sa.table("process_instance_fts"))
        .where(sa.literal_column("process_instance_fts").op("MATCH")(expression))
    )
    return ids.in_(matching)  # type: ignore[no-any-return]
