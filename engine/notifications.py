"""The bell: a person's notifications, newest first – stored notices (``engine.notices``) and the tasks that
arrived for their groups at their sites, derived from the inbox table.

Tasks arriving for a group are not written once per member and task (a group of twenty and a busy day would
write thousands of rows in the step): they are the open, unclaimed inbox rows the person may work
(``permissions.workable_tasks``, the inbox's own rule, with today's grants) that began in the last
``SHOWN_DAYS`` days in a step someone else took (``HumanTask.arrived_by``, written with the row). What the
person has read is one marker per (group, site) – "read up to" – plus a stored row for an arrival read singly.
So producing them costs a step nothing (no statement more), and a task a colleague took or
finished, or a group the person left, drops out by itself. A task whose property ``egsFourEyes`` names a step
the person completed is not offered to them (they may not do it); other such tasks show as "Vier-Augen-Freigabe".

Least privilege for stored notices: each is shown with a link only where the link will not be refused – the
task if the person may work it now, else the case if they may open it, else (incidents) the page
*Störungen* if they handle that case; otherwise without a link and without the Geschäftszeichen.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import clock, notice_mail, notices, permissions
from .audit import Action
from .auth import Actor
from .config import EngineSettings
from .db import Database
from .errors import BadRequestError, NotFoundError
from .models import AuditEvent, HumanTask, ProcessInstance, TaskNotice
from .notice_models import NoticeMarker
from .notices import ARRIVED, DERIVED, FOUR_EYES, INCIDENT, KINDS, SHOWN_DAYS
from .versions import LoadedVersion, SpecCache, newest_versions

PAGE_SIZE = 25
COUNT_CAP = 100  # the bell counts up to here ("99+")
BAD_CURSOR = "Der Verweis auf die nächste Seite ist ungültig. Bitte öffnen Sie die Benachrichtigungen neu."
_STORED, _DERIVED = 1, 0  # tie-break between the two sources in the newest-first order

Operation = Callable[..., AbstractContextManager[Session]]


@dataclass(frozen=True)
class Notification:
    """One entry of the bell's list, as its addressee may see it."""

    key: str  # "n<id>" a stored notice, "a<id>" an arrival (inbox row id)
    kind: str
    created_at: datetime
    read: bool
    instance_id: int
    task_name: str | None
    business_key: str | None  # None where the person may no longer open the case
    by_name: str | None = None
    reason: str | None = None
    task_uuid: str | None = None
    link: str | None = None  # "task", "case", "incidents" or None: nothing the person may open

    @property
    def title(self) -> str:
        return KINDS.get(self.kind, self.kind)


@dataclass(frozen=True)
class NotificationPage:
    rows: list[Notification]
    unread: int
    next_cursor: str | None


def _since() -> datetime:
    return clock.now() - timedelta(days=SHOWN_DAYS)


def _markers(session: Session, actor: Actor) -> dict[tuple[str, str], datetime]:
    rows = session.execute(
        sa.select(NoticeMarker.lane, NoticeMarker.site, NoticeMarker.read_until).where(
            NoticeMarker.user_id == actor.user_id
        )
    ).all()
    return {(lane, site): until for lane, site, until in rows}


def _read_singly(actor: Actor) -> sa.Exists:
    return (
        sa.select(TaskNotice.id)
        .where(
            TaskNotice.user_id == actor.user_id,
            TaskNotice.task_uuid == HumanTask.task_uuid,
            TaskNotice.kind.in_(DERIVED),
        )
        .exists()
    )


def _arrivals(actor: Actor, *, own_too: bool = False) -> sa.ColumnElement[bool]:
    """Open, unclaimed tasks the actor may work that began within the shown window – in a step someone else
    took (what one's own step produced is on one's screen already). ``own_too``: without that last condition,
    which the queue index cannot answer (the list checks it on the rows of its page)."""
    window = sa.and_(
        permissions.workable_tasks(actor), HumanTask.assignee_id.is_(None), HumanTask.created_at > _since()
    )
    if own_too:
        return window
    return sa.and_(window, sa.or_(HumanTask.arrived_by.is_(None), HumanTask.arrived_by != actor.username))


def _unread_arrivals(actor: Actor, markers: dict[tuple[str, str], datetime]) -> sa.ColumnElement[bool]:
    """Arrivals after the actor's marker of their group and site (arrivals read singly are not excluded here)."""
    parts = [
        sa.and_(HumanTask.lane == lane, HumanTask.site == site, HumanTask.created_at > markers[(lane, site)])
        for lane, site in actor.work_pairs()
        if (lane, site) in markers
    ]
    unmarked = [(lane, site) for lane, site in actor.work_pairs() if (lane, site) not in markers]
    if unmarked:
        parts.append(sa.or_(*(sa.and_(HumanTask.lane == lane, HumanTask.site == site) for lane, site in unmarked)))
    if not parts:
        return sa.false()
    return sa.and_(_arrivals(actor), sa.or_(*parts))


def _four_eyes_specs(session: Session, specs: SpecCache) -> set[tuple[str, str]]:
    """(process id, task id) of the user tasks with ``egsFourEyes`` in the newest versions."""
    return {
        (version.process_id, task_id)
        for version in newest_versions(session, specs)
        for task_id, info in version.model.tasks.items()
        if info.properties.get("egsFourEyes")
    }


def _is_four_eyes(task: HumanTask, four_eyes: set[tuple[str, str]]) -> bool:
    return (task.process_id, task.task_spec_id) in four_eyes


def _barred(session: Session, specs: SpecCache, actor: Actor, task: HumanTask) -> bool:
    """Whether the four-eyes rule bars the actor from this task: they completed the step it checks."""
    version_id = session.scalar(sa.select(ProcessInstance.version_id).where(ProcessInstance.id == task.instance_id))
    info = specs.get(session, version_id or 0).model.tasks.get(task.task_spec_id)
    checked = info.properties.get("egsFourEyes") if info else None
    if not checked:
        return False
    done = session.scalars(
        sa.select(AuditEvent.details).where(
            AuditEvent.action == Action.COMPLETE.value,
            AuditEvent.actor == actor.username,
            AuditEvent.instance_id == task.instance_id,
        )
    )
    return any(details.get("task_id") == checked for details in done)


def unread_count(session: Session, specs: SpecCache, actor: Actor) -> int:
    """How many notifications the actor has not read, up to ``COUNT_CAP`` (the bell shows "99+" then).

    Bounded work on every page: the arrivals are counted in the index up to the cap, the few arrivals read
    singly are subtracted from their own (small) side, and unread four-eyes tasks are looked at one by one
    only below the cap."""
    if actor.user_id is None:
        return 0
    stored = (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(TaskNotice)
            .where(
                TaskNotice.user_id == actor.user_id,
                TaskNotice.read_at.is_(None),
                TaskNotice.created_at > _since(),
                TaskNotice.kind.not_in(DERIVED),
            )
        )
        or 0
    )
    if not actor.work_pairs() or stored >= COUNT_CAP:
        return min(stored, COUNT_CAP)
    unread = _unread_arrivals(actor, _markers(session, actor))
    still_unread = sa.select(HumanTask.id).where(HumanTask.task_uuid == TaskNotice.task_uuid, unread).exists()
    read_singly = (
        session.scalar(  # driven by the reader's few rows, each looked up by its unique task id
            sa.select(sa.func.count())
            .select_from(TaskNotice)
            .where(TaskNotice.user_id == actor.user_id, TaskNotice.kind.in_(DERIVED), still_unread)
        )
        or 0
    )
    limit = COUNT_CAP + read_singly
    found = sa.select(HumanTask.id).where(unread).limit(limit).subquery()
    arrived = (session.scalar(sa.select(sa.func.count()).select_from(found)) or 0) - read_singly
    four_eyes = _four_eyes_specs(session, specs)
    if 0 < arrived and stored + arrived < COUNT_CAP and four_eyes:
        pairs = sa.tuple_(HumanTask.process_id, HumanTask.task_spec_id).in_(sorted(four_eyes))
        for task in session.scalars(sa.select(HumanTask).where(unread, pairs, ~_read_singly(actor))):
            arrived -= _barred(session, specs, actor, task)
    return min(stored + arrived, COUNT_CAP)


def has_news(session: Session, actor: Actor, since: datetime) -> bool:
    """Whether anything reached the actor after ``since`` (two indexed lookups; the e-mail worker asks this
    before it reads the list)."""
    stored = sa.select(TaskNotice.id).where(
        TaskNotice.user_id == actor.user_id, TaskNotice.created_at > since, TaskNotice.kind.not_in(DERIVED)
    )
    arrived = sa.select(HumanTask.id).where(_arrivals(actor), HumanTask.created_at > since)
    return session.scalar(stored.limit(1)) is not None or (
        bool(actor.work_pairs()) and session.scalar(arrived.limit(1)) is not None
    )


# --- the list ----------------------------------------------------------------------------------------------


def _encode(row: Notification) -> str:
    rank = _STORED if row.key.startswith("n") else _DERIVED
    return base64.urlsafe_b64encode(json.dumps([row.created_at.isoformat(), rank, int(row.key[1:])]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, int, int]:
    """:raises BadRequestError: anything this module did not encode."""
    try:
        if len(cursor) > 200:
            raise ValueError("too long")
        value = json.loads(base64.b64decode(cursor.encode("ascii"), altchars=b"-_", validate=True))
        if not isinstance(value, list) or len(value) != 3 or not isinstance(value[0], str) or len(value[0]) > 40:
            raise ValueError("not a cursor")
        rank, row_id = value[1], value[2]
        if rank not in (_STORED, _DERIVED) or type(row_id) is not int or not 0 <= row_id < 2**63:
            raise ValueError("not a cursor")
        return clock.parse_iso(value[0]), rank, row_id
    except (ValueError, TypeError, UnicodeError, RecursionError) as exc:
        raise BadRequestError(BAD_CURSOR) from exc


def _before(created: Any, row_id: Any, rank: int, cursor: tuple[datetime, int, int] | None) -> list[Any]:
    """Keyset condition: rows of the source ``rank`` after ``cursor`` in newest-first order."""
    if cursor is None:
        return []
    at, cursor_rank, cursor_id = cursor
    if rank > cursor_rank:
        return [created < at]
    if rank < cursor_rank:
        return [created <= at]
    return [sa.or_(created < at, sa.and_(created == at, row_id < cursor_id))]


def page(
    session: Session, specs: SpecCache, actor: Actor, after: str | None = None, limit: int = PAGE_SIZE
) -> NotificationPage:
    """One page of the actor's notifications, newest first (keyset paging over both sources).

    :raises BadRequestError: a cursor this module did not encode.
    """
    cursor = decode_cursor(after) if after else None
    if actor.user_id is None:
        return NotificationPage([], 0, None)
    stored = list(
        session.scalars(
            sa.select(TaskNotice)
            .where(
                TaskNotice.user_id == actor.user_id,
                TaskNotice.created_at > _since(),
                TaskNotice.kind.not_in(DERIVED),
                *_before(TaskNotice.created_at, TaskNotice.id, _STORED, cursor),
            )
            .order_by(TaskNotice.created_at.desc(), TaskNotice.id.desc())
            .limit(limit + 1)
        )
    )
    arrivals: list[HumanTask] = []
    markers = _markers(session, actor)
    read_singly: set[str] = set()
    if actor.work_pairs():
        # Ids first: answered from the inbox's queue index alone (lane, site, due, created, id – unclaimed rows),
        # so a group with thousands of open tasks sorts small tuples, not wide rows; then the page's rows.
        newest = list(
            session.scalars(
                sa.select(HumanTask.id)
                .where(_arrivals(actor, own_too=True), *_before(HumanTask.created_at, HumanTask.id, _DERIVED, cursor))
                .order_by(HumanTask.created_at.desc(), HumanTask.id.desc())
                .limit(limit + 1)
            )
        )
        found = {task.id: task for task in session.scalars(sa.select(HumanTask).where(HumanTask.id.in_(newest)))}
        arrivals = [found[task_id] for task_id in newest if task_id in found]
        read_singly = set(
            session.scalars(
                sa.select(TaskNotice.task_uuid).where(
                    TaskNotice.user_id == actor.user_id,
                    TaskNotice.kind.in_(DERIVED),
                    TaskNotice.task_uuid.in_([task.task_uuid for task in arrivals]),
                )
            )
        )
    four_eyes = _four_eyes_specs(session, specs) if arrivals else set()
    entries: list[tuple[tuple[datetime, int, int], HumanTask | TaskNotice]] = [
        ((n.created_at, _STORED, n.id), n) for n in stored
    ] + [((t.created_at, _DERIVED, t.id), t) for t in arrivals]
    entries.sort(key=lambda entry: entry[0], reverse=True)
    rows: list[Notification] = []
    last: Notification | None = None
    for _, item in entries[:limit]:
        if isinstance(item, HumanTask):
            shown = _arrival(session, specs, actor, item, markers, read_singly, four_eyes)
        else:
            shown = _stored(session, specs, actor, item)
        last = shown or _placeholder(item)
        if shown is not None:
            rows.append(shown)
    next_cursor = _encode(last) if len(entries) > limit and last is not None else None
    return NotificationPage(rows, unread_count(session, specs, actor), next_cursor)


def _placeholder(item: HumanTask | TaskNotice) -> Notification:
    key = ("a" if isinstance(item, HumanTask) else "n") + str(item.id)
    return Notification(key, "", item.created_at, True, item.instance_id, None, None)


def _arrival(
    session: Session,
    specs: SpecCache,
    actor: Actor,
    task: HumanTask,
    markers: dict[tuple[str, str], datetime],
    read_singly: set[str],
    four_eyes: set[tuple[str, str]],
) -> Notification | None:
    if task.arrived_by == actor.username:
        return None  # their own step produced it
    kind = ARRIVED
    if _is_four_eyes(task, four_eyes):
        if _barred(session, specs, actor, task):
            return None  # they may not do it: nothing waits for them
        kind = FOUR_EYES
    marker = markers.get((task.lane, task.site))
    read = task.task_uuid in read_singly or (marker is not None and task.created_at <= marker)
    return Notification(
        f"a{task.id}", kind, task.created_at, read, task.instance_id, task.name, task.business_key,
        task_uuid=task.task_uuid, link="task",
    )  # fmt: skip


def _stored(session: Session, specs: SpecCache, actor: Actor, notice: TaskNotice) -> Notification:
    """A stored notice with the link the actor may follow now (none if access was lost since)."""
    link: str | None = None
    case = session.execute(
        sa.select(ProcessInstance.site, ProcessInstance.version_id).where(ProcessInstance.id == notice.instance_id)
    ).first()
    if case is not None:
        version: LoadedVersion = specs.get(session, case.version_id)
        open_task = (
            session.scalar(sa.select(HumanTask).where(HumanTask.task_uuid == notice.task_uuid))
            if notice.task_uuid
            else None
        )
        if notice.kind == INCIDENT:
            link = "incidents" if permissions.may_handle_incident(actor, version.lanes, case.site) else None
        elif open_task is not None and permissions.may_work(actor, open_task.lane, open_task.site):
            link = "task"
        elif permissions.may_view_case(actor, version.lanes, case.site):
            link = "case"
    visible = link is not None
    return Notification(
        f"n{notice.id}", notice.kind, notice.created_at, notice.read_at is not None, notice.instance_id,
        notice.task_name, notice.business_key if visible else None, notice.by_name if visible else None,
        notice.reason if visible else None, notice.task_uuid if link == "task" else None, link,
    )  # fmt: skip


# --- marking read ------------------------------------------------------------------------------------------


def mark_read(session: Session, specs: SpecCache, actor: Actor, key: str) -> None:
    """Mark one notification read (``key`` from ``Notification.key``).

    :raises NotFoundError: not one of the actor's notifications (any more).
    """
    kind, number = key[:1], key[1:]
    if not number.isdigit() or len(number) > 18 or actor.user_id is None:
        raise NotFoundError("Diese Benachrichtigung gibt es nicht.")
    if kind == "n":
        notice = session.get(TaskNotice, int(number))
        if notice is None or notice.user_id != actor.user_id or notice.kind in notices.DERIVED:
            raise NotFoundError("Diese Benachrichtigung gibt es nicht.")
        if notice.read_at is None:
            notice.read_at = clock.now()
        return
    task = session.scalar(sa.select(HumanTask).where(HumanTask.id == int(number), _arrivals(actor))) if kind == "a" \
        else None  # fmt: skip
    if task is None:
        raise NotFoundError("Diese Benachrichtigung gibt es nicht mehr (die Aufgabe ist übernommen oder erledigt).")
    kind_name = FOUR_EYES if _is_four_eyes(task, _four_eyes_specs(session, specs)) else ARRIVED
    notices.tell(session, actor.user_id, kind_name, task.instance_id, task=task, dedupe_key=f"gelesen:{task.task_uuid}")
    session.flush()
    session.execute(
        sa.update(TaskNotice)
        .where(TaskNotice.user_id == actor.user_id, TaskNotice.dedupe_key == f"gelesen:{task.task_uuid}")
        .values(read_at=clock.now())
        .execution_options(synchronize_session=False)
    )


def mark_all_read(session: Session, actor: Actor) -> None:
    """Mark every notification of the actor read: stored ones, and arrivals up to now in each of their groups."""
    if actor.user_id is None:
        return
    now = clock.now()
    session.execute(
        sa.update(TaskNotice)
        .where(TaskNotice.user_id == actor.user_id, TaskNotice.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    markers = _markers(session, actor)
    for lane, site in actor.work_pairs():
        if (lane, site) in markers:
            session.execute(
                sa.update(NoticeMarker)
                .where(NoticeMarker.user_id == actor.user_id, NoticeMarker.lane == lane, NoticeMarker.site == site)
                .values(read_until=now)
                .execution_options(synchronize_session=False)
            )
        else:
            session.add(NoticeMarker(user_id=actor.user_id, lane=lane, site=site, read_until=now))


class Notifications:
    """The engine's front for the bell (one transaction per call, refusals recorded like everywhere)."""

    def __init__(self, db: Database, specs: SpecCache, operation: Operation, settings: EngineSettings) -> None:
        self._db = db
        self._specs = specs
        self._operation = operation
        self._settings = settings

    def unread(self, actor: Actor) -> int:
        with self._db.reading() as session:
            return unread_count(session, self._specs, actor)

    def page(self, actor: Actor, after: str | None = None, limit: int = PAGE_SIZE) -> NotificationPage:
        with self._db.reading() as session:
            return page(session, self._specs, actor, after, limit)

    def mark_read(self, actor: Actor, key: str) -> None:
        with self._operation(actor, "notification_read") as session:
            mark_read(session, self._specs, actor, key)

    def mark_all_read(self, actor: Actor) -> None:
        with self._operation(actor, "notifications_read") as session:
            mark_all_read(session, actor)

    def mail_choice(self, actor: Actor) -> notice_mail.MailChoice:
        with self._db.reading() as session:
            return notice_mail.choice(session, self._settings, actor)

    def set_mail_choice(self, actor: Actor, mode: str, email: str) -> None:
        """Store the actor's e-mail choice (``notice_mail.set_choice``). :raises FormValidationError:"""
        with self._operation(actor, "notification_mail_choice") as session:
            notice_mail.set_choice(session, self._settings, actor, mode, email)
