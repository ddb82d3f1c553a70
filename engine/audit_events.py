"""Searching the trail itself: what one person did (activity record), every access to one applicant's cases
(the answer to an Art. 15 DSGVO request) and the system record (events without a case: logins, failed
logins, users and grants, deploys, exports, checks).

Newest first, keyset-paged on the event id; the person is shown as they were at the time
(``audit_people``). Read-only; the caller records the search with the sitting's purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import audit, audit_paging, case_text
from .audit_people import PeopleAtTime, Person
from .models import AuditEvent, ProcessInstance

PAGE_SIZE = 50
MAX_APPLICANT_CASES = 200
MIN_NAME = case_text.MIN_TERM


@dataclass(frozen=True)
class EventQuery:
    """Filters of an event list (all optional) and the page cursor."""

    person: str = ""
    action: str = ""
    von: date | None = None
    bis: date | None = None
    cursor: str = field(default="", compare=False)
    limit: int = PAGE_SIZE

    def filters(self) -> dict[str, str]:
        shown = {"person": self.person, "action": self.action}
        shown.update({k: v.isoformat() for k, v in (("von", self.von), ("bis", self.bis)) if v is not None})
        return {k: v for k, v in shown.items() if v}


@dataclass(frozen=True)
class EventEntry:
    """One event of the trail as the workbench lists it."""

    event_id: int
    occurred_at: datetime
    person: Person
    action: str
    label: str
    instance_id: int | None
    business_key: str | None
    task_name: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class EventPage:
    query: EventQuery
    entries: list[EventEntry]
    next_cursor: str | None


@dataclass(frozen=True)
class ApplicantCase:
    instance_id: int
    business_key: str | None
    applicant_name: str | None
    site: str


def events(
    session: Session, query: EventQuery, sites: list[str] | None, *, scope: sa.ColumnElement[bool] | None = None
) -> EventPage:
    """One page of events matching ``query`` (and ``scope``), newest first; events of cases are limited to
    ``sites`` (None: all). :raises BadRequestError:"""
    statement = sa.select(AuditEvent, ProcessInstance.business_key).outerjoin(
        ProcessInstance, ProcessInstance.id == AuditEvent.instance_id
    )
    if sites is not None:
        statement = statement.where(sa.or_(AuditEvent.instance_id.is_(None), ProcessInstance.site.in_(sites)))
    if scope is not None:
        statement = statement.where(scope)
    if query.person:
        statement = statement.where(AuditEvent.actor == query.person)
    if query.action:
        statement = statement.where(AuditEvent.action == query.action)
    if query.von is not None:
        statement = statement.where(AuditEvent.occurred_at >= audit_paging.day_start(query.von))
    if query.bis is not None:
        statement = statement.where(AuditEvent.occurred_at < audit_paging.day_end(query.bis))
    if query.cursor:
        (last_id,) = audit_paging.decode(query.cursor, "ereignis", ("id",))
        statement = statement.where(AuditEvent.id < last_id)
    rows = session.execute(statement.order_by(AuditEvent.id.desc()).limit(query.limit + 1)).all()
    shown = rows[: query.limit]
    people = PeopleAtTime(session, (event.actor for event, _ in shown))
    entries = [
        EventEntry(event.id, event.occurred_at, people.at(event.actor, event.occurred_at), event.action,
                   audit.label(event.action), event.instance_id, key, event.details.get("task"), event.details)
        for event, key in shown
    ]  # fmt: skip
    next_cursor = audit_paging.encode("ereignis", [shown[-1][0].id]) if len(rows) > query.limit else None
    return EventPage(query, entries, next_cursor)


def activity(session: Session, query: EventQuery, sites: list[str] | None) -> EventPage:
    """Everything one person did (``query.person`` required by the caller) in the period."""
    return events(session, query, sites)


def system_record(session: Session, query: EventQuery) -> EventPage:
    """Events without a case: logins, failed logins, users and grants, deploys, exports, checks."""
    return events(session, query, None, scope=AuditEvent.instance_id.is_(None))


def applicant_cases(session: Session, name: str, sites: list[str] | None) -> list[ApplicantCase]:
    """The cases whose applicant name contains ``name`` (at least ``MIN_NAME`` characters), newest first."""
    text = case_text.term(name)
    if len(text) < MIN_NAME:
        return []
    statement = sa.select(
        ProcessInstance.id, ProcessInstance.business_key, ProcessInstance.applicant_name, ProcessInstance.site
    )
    if sites is not None:
        statement = statement.where(ProcessInstance.site.in_(sites))
    rows = session.execute(
        statement.where(case_text.name_contains(text, session.get_bind().dialect.name))
        .order_by(ProcessInstance.id.desc())
        .limit(MAX_APPLICANT_CASES)
    ).all()  # fmt: skip
    return [ApplicantCase(*row) for row in rows]


def applicant_accesses(session: Session, cases: list[ApplicantCase], query: EventQuery) -> EventPage:
    """Every event on these cases – views and changes – newest first."""
    ids = [case.instance_id for case in cases]
    if not ids:
        return EventPage(query, [], None)
    return events(session, query, None, scope=AuditEvent.instance_id.in_(ids))
