"""The auditor's case search: every case of every site by number, Geschäftszeichen, applicant name, process
and version, site, status, period, who worked it and what they did; paged by keyset, three sort orders.

Read-only and only for the workbench (``permissions.may_use_workbench``); the caller records the search
with the sitting's purpose. The query stays an index walk at 100 000 cases (``bench/audit_search.py``):
newest change first runs down ``ix_process_instance_updated``, "who" and "what" are semi-joins over
``ix_audit_event_actor`` / ``ix_audit_event_action``; no total count is made.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import audit_paging, case_text
from .audit import Action
from .models import AuditEvent, ProcessInstance, ProcessVersion

PAGE_SIZE = 50
SORTS = {
    "geaendert": "zuletzt geändert zuerst",
    "neu": "zuletzt begonnen zuerst",
    "alt": "zuerst begonnen zuerst",
}
READING = (Action.CASE_VIEWED.value, Action.TASK_VIEWED.value)  # a view is no work on the case


@dataclass(frozen=True)
class CaseQuery:
    """The auditor's filters (all optional), the sort order and the page cursor."""

    nummer: str = ""  # Vorgangsnummer (digits) or part of the Geschäftszeichen
    name: str = ""  # part of the applicant's name
    process_id: str = ""
    version: int | None = None
    site: str = ""
    status: str = ""
    von: date | None = None  # the case was alive (started before its end, changed after its start) in the period
    bis: date | None = None
    person: str = ""  # login that worked the case (views do not count)
    action: str = ""  # action code that happened in the case (by ``person``, if given)
    sort: str = "geaendert"
    cursor: str = field(default="", compare=False)
    limit: int = PAGE_SIZE
    sites: tuple[str, ...] | None = None  # the auditor's sites (None: all); set by the workbench, not by users

    def filters(self) -> dict[str, str]:
        """The filters given, as recorded with the search and carried in page links."""
        shown: dict[str, str] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name in ("cursor", "limit", "sites") or value in ("", None):
                continue
            shown[item.name] = value.isoformat() if isinstance(value, date) else str(value)
        return shown

    @property
    def empty(self) -> bool:
        return not (set(self.filters()) - {"sort"})


@dataclass(frozen=True)
class AuditCase:
    """One case in the auditor's list (names in full: the purpose is stated)."""

    instance_id: int
    business_key: str | None
    process_id: str
    process_name: str
    version: int
    site: str
    status: str
    applicant_name: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AuditCasePage:
    query: CaseQuery
    cases: list[AuditCase]
    next_cursor: str | None


def search(session: Session, query: CaseQuery) -> AuditCasePage:
    """One page of the cases matching ``query``. :raises BadRequestError: a cursor this module did not make.

    Two steps in one statement: the ids of the page from indexes alone (the filters, the sort order, the cursor),
    then the shown columns of just those rows – on SQLite the case rows are wide (their state), so reading them
    only for the page keeps every filter an index walk.
    """
    sort = query.sort if query.sort in SORTS else "geaendert"
    dialect = session.get_bind().dialect.name
    page_ids = sa.select(ProcessInstance.id).where(*_conditions(query, dialect))
    order: tuple[sa.UnaryExpression[Any], ...]
    if sort == "geaendert":
        order = (ProcessInstance.updated_at.desc(), ProcessInstance.id.desc())
        if query.cursor:
            updated, last_id = audit_paging.decode(query.cursor, sort, ("instant", "id"))
            page_ids = page_ids.where(sa.tuple_(ProcessInstance.updated_at, ProcessInstance.id) < (updated, last_id))
    else:
        order = (ProcessInstance.id.desc(),) if sort == "neu" else (ProcessInstance.id.asc(),)
        if query.cursor:
            (last_id,) = audit_paging.decode(query.cursor, sort, ("id",))
            page_ids = page_ids.where(ProcessInstance.id < last_id if sort == "neu" else ProcessInstance.id > last_id)
    page_ids = page_ids.order_by(*order)
    ids = page_ids.limit(query.limit + 1).subquery("page")
    statement = (
        sa.select(
            ProcessInstance.id,
            ProcessInstance.business_key,
            ProcessInstance.process_id,
            ProcessVersion.name,
            ProcessVersion.version,
            ProcessInstance.site,
            ProcessInstance.status,
            ProcessInstance.applicant_name,
            ProcessInstance.created_at,
            ProcessInstance.updated_at,
        )  # fmt: skip
        .join(ids, ids.c.id == ProcessInstance.id)
        .join(ProcessVersion, ProcessVersion.id == ProcessInstance.version_id)
        .order_by(*order)
    )
    rows = session.execute(statement).all()
    cases = [AuditCase(*tuple(row)) for row in rows[: query.limit]]
    next_cursor = None
    if len(rows) > query.limit:
        last = cases[-1]
        key = [last.updated_at.isoformat(), last.instance_id] if sort == "geaendert" else [last.instance_id]
        next_cursor = audit_paging.encode(sort, key)
    return AuditCasePage(query, cases, next_cursor)


def _conditions(query: CaseQuery, dialect: str) -> list[sa.ColumnElement[bool]]:
    """The filters, each column ``case_text.unindexed``: on SQLite the page's ids come from a walk of the
    covering index of the sort order, bounded by its size, whatever the filters."""

    def column(attribute: Any) -> Any:
        return case_text.unindexed(attribute, dialect)

    instance_id = column(ProcessInstance.id)
    where: list[sa.ColumnElement[bool]] = []
    if query.sites is not None:
        where.append(column(ProcessInstance.site).in_(query.sites))
    number = query.nummer.strip()
    if number:
        by_key = case_text.key_contains(case_text.key_term(number), dialect)
        where.append(sa.or_(instance_id == int(number), by_key) if _small_int(number) else by_key)
    if query.name.strip():
        where.append(case_text.name_contains(case_text.term(query.name), dialect))
    if query.process_id:
        where.append(column(ProcessInstance.process_id) == query.process_id)
    if query.version is not None:
        versions = sa.select(ProcessVersion.id).where(ProcessVersion.version == query.version)
        if query.process_id:
            versions = versions.where(ProcessVersion.process_id == query.process_id)
        where.append(column(ProcessInstance.version_id).in_(versions))
    if query.site:
        where.append(column(ProcessInstance.site) == query.site)
    if query.status:
        where.append(column(ProcessInstance.status) == query.status)
    if query.von is not None:
        where.append(ProcessInstance.updated_at >= audit_paging.day_start(query.von))
    if query.bis is not None:
        where.append(column(ProcessInstance.created_at) < audit_paging.day_end(query.bis))
    if query.person or query.action:
        events = sa.select(AuditEvent.instance_id).where(AuditEvent.instance_id.is_not(None))
        if query.person:
            events = events.where(AuditEvent.actor == query.person, AuditEvent.action.not_in(READING))
        if query.action:
            events = events.where(AuditEvent.action == query.action)
        where.append(instance_id.in_(events))
    return where


def _small_int(text: str) -> bool:
    return text.isdigit() and len(text) <= 12
