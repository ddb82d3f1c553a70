"""The searchable text of a case and the one "contains" condition on it, for every case search.

The auditor's search (``audit_search``), the Art. 15 lookup (``audit_events.applicant_cases``) and the clerks'
search (``case_search``) match applicant names in ``process_instance.search_name``: the name folded so that
"Müller", "MÜLLER", "Mueller" and "Muller" find each other (case folded, ä/ö/ü → ae/oe/ue, ß → ss, other
accents dropped; the form without umlaut spelling is kept as a second line). ``case_rows.update_case`` and
``ProcessInstance`` keep it in step with the name in the same statement that writes the name.

Substrings of three characters and more are matched with LIKE where an index holds the text: the lists' b-tree
indexes carry ``search_name`` and ``business_key`` (walked in the list's order, so the text is checked without
reading the wide case rows), and PostgreSQL has pg_trgm GIN indexes for rare terms (migration 0024). Shorter
terms match nothing (a one- or two-letter name part would match nearly every case).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import operators

from .models import ProcessInstance, fold, search_name_of

__all__ = [
    "fold",
    "search_name_of",
    "term",
    "key_term",
    "name_contains",
    "key_contains",
    "name_or_key_contains",
    "unindexed",
]

MIN_TERM = 3
MAX_TERM = 100
UNARY_PLUS: operators.custom_op[Any] = operators.custom_op("+")


def term(text: str | None) -> str:
    """A name term as it is looked up ('' if shorter than ``MIN_TERM``)."""
    folded = fold(text)[:MAX_TERM]
    return folded if len(folded) >= MIN_TERM else ""


def key_term(text: str | None) -> str:
    """A Geschäftszeichen term as it is looked up: trimmed, lower case ('' if shorter than ``MIN_TERM``)."""
    lowered = " ".join((text or "").split()).lower()[:MAX_TERM]
    return lowered if len(lowered) >= MIN_TERM else ""


def name_contains(text: str, dialect: str) -> sa.ColumnElement[bool]:
    """Cases whose applicant name contains the term ``text`` (from ``term``)."""
    if len(text) < MIN_TERM:
        return sa.false()
    return unindexed(ProcessInstance.search_name, dialect).contains(text, autoescape=True)  # type: ignore[no-any-return]


def key_contains(text: str, dialect: str) -> sa.ColumnElement[bool]:
    """Cases whose Geschäftszeichen contains the term ``text`` (from ``key_term``): SQLite's LIKE ignores the case
    of ASCII letters; PostgreSQL compares lower case, as its trigram index on ``lower(business_key)`` does."""
    if len(text) < MIN_TERM:
        return sa.false()
    if dialect == "sqlite":
        return unindexed(ProcessInstance.business_key, dialect).contains(text, autoescape=True)  # type: ignore[no-any-return]
    return sa.func.lower(ProcessInstance.business_key).contains(text, autoescape=True)


def name_or_key_contains(name: str, key: str, dialect: str) -> sa.ColumnElement[bool]:
    """Cases whose name contains ``name`` or whose Geschäftszeichen contains ``key`` (the clerks' one box)."""
    return sa.or_(name_contains(name, dialect), key_contains(key, dialect))


def unindexed(column: Any, dialect: str) -> Any:
    """``column`` marked "not for an index" on SQLite (unary ``+``), so that the planner walks the covering index
    of a list's sort order and checks the filters in it – bounded by the index – instead of starting from a
    filter's rows and reading thousands of wide case rows (their state) to sort them. Unchanged elsewhere."""
    if dialect != "sqlite":
        return column
    return sa.sql.expression.UnaryExpression(column, operator=UNARY_PLUS, type_=column.type)
