"""Read side of the task inbox: queries on the denormalised ``human_task`` table only.

Tabs: "meine" (claimed by me), "gruppe" (unclaimed tasks of my groups at my sites), "ueberfaellig"
(overdue tasks I may work and, for TL and FDL, the whole team's overdue tasks at the sites they lead), "alle"
(every task at the sites I lead, for TL and FDL). Leads see no task of a case holding another body's data
(FB 50) unless they belong to that body. Filters and the full-text search narrow a tab (names are matched
only where the viewer sees them in full); paging is keyset-based, so rows that appear or vanish meanwhile do not
shift the next page; a cursor that this module did not encode is refused (``BadRequestError``). Counts per
tab are indexed COUNTs.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from . import clock, permissions
from .auth import Actor
from .errors import BadRequestError
from .models import NO_DUE_DATE, Grant, HumanTask, User
from .versions import SpecCache, newest_versions
from .vocabulary import WORK_GROUPS

INBOX_LIMIT = 200
PAGE_SIZE = 50

Tab = Literal["meine", "gruppe", "ueberfaellig", "alle"]
Due = Literal["heute", "woche", "ueberfaellig"]
Sort = Literal["faellig", "prioritaet", "erstellt"]
TABS: tuple[Tab, ...] = ("meine", "gruppe", "ueberfaellig", "alle")


@dataclass(frozen=True)
class TaskSummary:
    """One inbox row."""

    task_uuid: str
    instance_id: int
    name: str
    process_id: str
    process_name: str
    business_key: str | None
    applicant_name: str | None
    site: str
    lane: str
    egs_role: str | None
    created_at: datetime
    due_at: datetime | None
    priority: int
    assignee: str | None
    masked: bool = False
    label: str | None = None  # which document etc. this one of several like-named tasks is about (egsLabel)
    may_work: bool = False  # the viewer may open and work it (permissions.may_work)
    may_lead: bool = False  # the viewer leads its site: may set priority and due date


@dataclass(frozen=True)
class InboxQuery:
    """What the clerk asked for: tab, filters, search, sort and the page cursor."""

    tab: Tab = "gruppe"
    process_id: str | None = None
    task: str | None = None
    site: str | None = None
    due: Due | None = None
    assignee: str | None = None
    search: str | None = None
    sort: Sort = "faellig"
    after: str | None = None
    limit: int = PAGE_SIZE


@dataclass(frozen=True)
class InboxPage:
    """One page of a tab, the counts of all tabs, and the cursor of the next page (None = last page)."""

    query: InboxQuery
    rows: list[TaskSummary]
    counts: dict[str, int]
    next_cursor: str | None
    tabs: tuple[Tab, ...] = field(default=TABS)


Separate = Mapping[str, frozenset[str]]  # process id → groups of other bodies among its lanes


def separate_processes(session: Session, specs: SpecCache) -> dict[str, frozenset[str]]:
    """The processes (newest versions) with lanes of another body whose data stays apart (``Separate``)."""
    found: dict[str, frozenset[str]] = {}
    for version in newest_versions(session, specs):
        if groups := permissions.separate_groups(version.lanes):
            found[version.process_id] = groups
    return found


def _tab_condition(actor: Actor, tab: Tab, now: datetime, separate: Separate) -> sa.ColumnElement[bool]:
    workable = permissions.workable_tasks(actor)
    if tab == "meine":
        return sa.and_(HumanTask.assignee_id == actor.user_id, workable) if actor.user_id else sa.false()
    if tab == "gruppe":
        return sa.and_(workable, HumanTask.assignee_id.is_(None))
    if tab == "ueberfaellig":
        return sa.and_(sa.or_(workable, permissions.led_tasks(actor, separate)), HumanTask.due_sort < now)
    return permissions.led_tasks(actor, separate)


def _filters(query: InboxQuery, now: datetime, dialect: str, actor: Actor) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if query.process_id:
        conditions.append(HumanTask.process_id == query.process_id)
    if query.task:
        conditions.append(HumanTask.name == query.task)
    if query.site:
        conditions.append(HumanTask.site == query.site)
    if query.due:
        end_of_today = clock.parse_iso((now.astimezone(clock.BERLIN).date() + timedelta(days=1)).isoformat())
        limit = {"heute": end_of_today, "woche": end_of_today + timedelta(days=6), "ueberfaellig": now}[query.due]
        conditions.append(HumanTask.due_sort < limit)
    if query.search and query.search.strip():
        conditions.append(_search(query.search.strip().lower(), dialect, actor))
    return conditions


def _search(term: str, dialect: str, actor: Actor) -> sa.ColumnElement[bool]:
    """Substring search in business key and name: PostgreSQL uses its trigram index for LIKE; SQLite its
    FTS5 trigram table (for terms of three characters or more; shorter ones are matched by LIKE).

    The name counts only where the viewer sees it in full (``permissions.sees_full_name``, whose SQL twin is
    ``workable_tasks``); elsewhere only the business key may match, so a search cannot confirm a masked name.
    """
    visible = sa.or_(
        permissions.workable_tasks(actor), sa.func.lower(HumanTask.business_key).contains(term, autoescape=True)
    )
    like = sa.and_(HumanTask.search_text.contains(term, autoescape=True), visible)
    if dialect != "sqlite" or len(term) < 3:
        return like
    phrase = '"' + term.replace('"', '""') + '"'
    matching: Any = (
        sa.select(sa.column("rowid"))
        .select_from(sa.table("human_task_fts"))
        .where(sa.text("human_task_fts MATCH :phrase").bindparams(phrase=phrase))
    )
    return sa.and_(HumanTask.id.in_(matching), like)


def _order(sort: Sort) -> list[Any]:
    if sort == "prioritaet":
        return [HumanTask.priority.desc(), HumanTask.created_at, HumanTask.id]
    if sort == "erstellt":
        return [HumanTask.created_at, HumanTask.id]
    return [HumanTask.due_sort, HumanTask.created_at, HumanTask.id]


def _encode(row: HumanTask, sort: Sort) -> str:
    if sort == "prioritaet":
        key: list[Any] = [row.priority, row.created_at.isoformat(), row.id]
    elif sort == "erstellt":
        key = [row.created_at.isoformat(), row.id]
    else:
        due = row.due_at.isoformat() if row.due_at else None
        key = [due, row.created_at.isoformat(), row.id]
    return base64.urlsafe_b64encode(json.dumps([sort, key]).encode()).decode()


CURSOR_MAX_LENGTH = 400  # an encoded cursor is about 120 characters
BAD_CURSOR = "Der Verweis auf die nächste Seite ist ungültig oder veraltet. Bitte öffnen Sie die Aufgabenliste neu."
_MAX_ID = 2**63 - 1  # BIGINT; an id beyond cannot exist and would overflow the driver
_MAX_PRIORITY = 2**31 - 1


def _int(value: object, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:  # bool is an int, too, and is refused here
        raise ValueError("integer out of range")
    return value


def _instant(value: object) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("not a timestamp")
    return clock.parse_iso(value)


def decode_cursor(cursor: str, sort: Sort) -> tuple[Any, ...]:
    """The sort key of the last row of the previous page, checked strictly (type, range, sort order).

    :raises BadRequestError: for anything this module did not encode (a German message; the web answers 400).
    """
    try:
        if len(cursor) > CURSOR_MAX_LENGTH:
            raise ValueError("too long")
        decoded = json.loads(base64.b64decode(cursor.encode("ascii"), altchars=b"-_", validate=True))
        if not isinstance(decoded, list) or len(decoded) != 2 or decoded[0] != sort or not isinstance(decoded[1], list):
            raise ValueError("not a cursor of this sort order")
        key: list[Any] = decoded[1]
        if sort == "prioritaet" and len(key) == 3:
            return _int(key[0], -_MAX_PRIORITY - 1, _MAX_PRIORITY), _instant(key[1]), _int(key[2], 0, _MAX_ID)
        if sort == "erstellt" and len(key) == 2:
            return _instant(key[0]), _int(key[1], 0, _MAX_ID)
        if sort == "faellig" and len(key) == 3:
            due = NO_DUE_DATE if key[0] is None else _instant(key[0])
            return due, _instant(key[1]), _int(key[2], 0, _MAX_ID)
        raise ValueError("wrong key")
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError, UnicodeError) as exc:
        raise BadRequestError(BAD_CURSOR) from exc


def _after(cursor: str, sort: Sort) -> sa.ColumnElement[bool]:
    key = decode_cursor(cursor, sort)
    if sort == "prioritaet":
        priority, created, row_id = key
        return sa.or_(
            HumanTask.priority < priority,
            sa.and_(HumanTask.priority == priority, sa.tuple_(HumanTask.created_at, HumanTask.id) > (created, row_id)),
        )
    if sort == "erstellt":
        return sa.tuple_(HumanTask.created_at, HumanTask.id) > key
    return sa.tuple_(HumanTask.due_sort, HumanTask.created_at, HumanTask.id) > key


def mask_name(name: str | None) -> str | None:
    """Initials only ("Probstfeld, Jana" → "P., J.") for people who do not need the full name."""
    if not name:
        return name
    return ", ".join(part.strip()[:1] + "." for part in name.split(",") if part.strip())


def _summary(
    task: HumanTask,
    assignee: str | None,
    viewer: Actor | None,
    lanes: frozenset[str] | tuple[()] = (),
    *,
    mask: bool = True,
) -> TaskSummary:
    """An inbox row as ``viewer`` sees it: flags for what they may do, the name masked where they may not work
    the task (with ``mask``). ``lanes``: the separate groups among the lanes of the task's process."""
    may_work = viewer is not None and permissions.may_work(viewer, task.lane, task.site)
    # Only a name that is there can be shortened: a row without one shows "–", not "– (gekürzt)".
    masked = (
        mask
        and viewer is not None
        and bool(task.applicant_name)
        and not permissions.sees_full_name(viewer, task.lane, task.site)
    )
    return TaskSummary(
        task_uuid=task.task_uuid,
        instance_id=task.instance_id,
        name=task.name,
        process_id=task.process_id,
        process_name=task.process_name,
        business_key=task.business_key,
        applicant_name=mask_name(task.applicant_name) if masked else task.applicant_name,
        site=task.site,
        lane=task.lane,
        egs_role=task.egs_role,
        created_at=task.created_at,
        due_at=task.due_at,
        priority=task.priority,
        assignee=assignee,
        masked=masked,
        label=task.label,
        may_work=may_work,
        may_lead=viewer is not None and permissions.may_steer_task(viewer, task.site, lanes),
    )


def _base() -> sa.Select[HumanTask, str]:
    assignee = aliased(User)
    return sa.select(HumanTask, assignee.username).outerjoin(assignee, HumanTask.assignee_id == assignee.id)


def inbox_page(session: Session, specs: SpecCache, actor: Actor, query: InboxQuery) -> InboxPage:
    """One page of the actor's inbox with counts per tab."""
    now = clock.now()
    tab: Tab = query.tab if query.tab in TABS else "gruppe"
    leads = permissions.leads_somewhere(actor)
    if tab == "alle" and not leads:
        tab = "gruppe"
    separate = separate_processes(session, specs) if leads else {}
    query = replace(query, tab=tab, limit=max(1, min(query.limit, INBOX_LIMIT)))
    filters = _filters(query, now, session.get_bind().dialect.name, actor)
    if query.assignee:
        assignee_ids = sa.select(User.id).where(User.username == query.assignee).scalar_subquery()
        filters.append(HumanTask.assignee_id == assignee_ids)
    statement = _base().where(_tab_condition(actor, tab, now, separate), *filters)
    if query.after:
        statement = statement.where(_after(query.after, query.sort))
    rows = session.execute(statement.order_by(*_order(query.sort)).limit(query.limit + 1)).all()
    page = [_summary(task, name, actor, separate.get(task.process_id, ())) for task, name in rows[: query.limit]]
    next_cursor = _encode(rows[query.limit - 1][0], query.sort) if len(rows) > query.limit else None
    counts: dict[str, int] = {
        name: session.scalar(
            sa.select(sa.func.count())
            .select_from(HumanTask)
            .where(_tab_condition(actor, name, now, separate), *filters)
        )
        or 0
        for name in TABS
        if name != "alle" or leads
    }
    return InboxPage(query, page, counts, next_cursor, tuple(t for t in TABS if t != "alle" or leads))


def list_tasks(session: Session, actor: Actor, limit: int = INBOX_LIMIT) -> list[TaskSummary]:
    """Every open task the actor may work (claimed or not), due first."""
    query = _base().where(permissions.workable_tasks(actor)).order_by(*_order("faellig")).limit(limit)
    return [_summary(task, name, actor) for task, name in session.execute(query)]


def tasks_of_case(
    session: Session, instance_id: int, viewer: Actor | None = None, lanes: Iterable[str] = ()
) -> list[TaskSummary]:
    """Return the open tasks of one case, with the ``viewer``'s flags (unmasked: callers check access to the
    case). ``lanes``: the lanes of the case's process (a lead steers no case of a body they do not belong to)."""
    separate = permissions.separate_groups(lanes)
    query = _base().where(HumanTask.instance_id == instance_id).order_by(HumanTask.created_at)
    return [_summary(task, name, viewer, separate, mask=False) for task, name in session.execute(query)]


def filter_choices(session: Session, specs: SpecCache, actor: Actor) -> tuple[list[str], list[tuple[str, str]]]:
    """Choices for the inbox filters: names of the user tasks of the actor's groups (from the newest models)
    and the people working in the actor's groups at the actor's sites (user name, display name); for leads,
    of every work group at the sites they lead (their team, whose work they steer)."""
    groups = {group for group, _ in actor.work_pairs()}
    sites = {site for _, site in actor.work_pairs()}
    if permissions.leads_somewhere(actor):
        groups, sites = groups | set(WORK_GROUPS), sites | set(permissions.lead_sites(actor))
    names: set[str] = set()
    for version in newest_versions(session, specs):
        names |= {t.name for t in version.model.tasks.values() if t.is_user_task and t.lane in groups}
    people = session.execute(
        sa.select(User.username, User.display_name)
        .join(Grant, Grant.user_id == User.id)
        .where(User.active, Grant.group_code.in_(groups), Grant.site.in_(sites | {"*"}))
        .distinct()
        .order_by(User.display_name)
    ).all()
    return sorted(names), [(username, name) for username, name in people]
