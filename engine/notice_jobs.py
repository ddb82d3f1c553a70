"""The timer worker's notification jobs (``Engine.housekeeping``), each after the fact and idempotent.

- Due reminders: once per Berlin day (the first round of the day claims it in ``notice_job``), every claimed
  task due tomorrow or overdue gives its holder one notice per task and due date – computed here, never on a
  request.
- Incidents: every incident opened since the last round gives the process owners (MODELLER) and the FDL of
  its site a notice, if they may handle that case (``permissions.may_handle_incident``).
- Staffing escalations are told to the FDL of the site when the episode starts (``tell_escalation``, called
  by ``engine.escalation`` in the worker's transaction).

Nothing here runs in a step: a step stays at its six statements.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import clock, notices, permissions
from .auth import Actor, load_actor
from .db import Database
from .errors import AuthenticationError
from .models import Grant, HumanTask, Incident, ProcessInstance, TaskNotice, User
from .notice_models import NoticeJob, NoticeMail
from .versions import SpecCache

log = logging.getLogger("egs.notices")
DUE_JOB = "faelligkeiten"
INCIDENT_JOB = "stoerungen"


def claim_day(session: Session, name: str, day: object) -> bool:
    """Claim ``day`` for the job ``name``: True for exactly one caller per day (also across workers)."""
    job = session.get(NoticeJob, name, with_for_update=True)
    if job is None:
        session.add(NoticeJob(name=name, mark_day=day))
        session.flush()
        return True
    if job.mark_day == day:
        return False
    job.mark_day = day  # type: ignore[assignment]
    return True


class _Actors:
    """Users loaded once per job run (grants valid now)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._by_id: dict[int, Actor | None] = {}

    def get(self, user_id: int) -> Actor | None:
        if user_id not in self._by_id:
            username = self._session.scalar(sa.select(User.username).where(User.id == user_id))
            try:
                self._by_id[user_id] = load_actor(self._session, username) if username else None
            except AuthenticationError:  # disabled meanwhile: told nothing
                self._by_id[user_id] = None
        return self._by_id[user_id]


def remind_due(session: Session, now: datetime | None = None) -> int:
    """Tell holders of tasks due tomorrow (Berlin date) or overdue; once per day. Return how many notices."""
    moment = now or clock.now()
    today = moment.astimezone(clock.BERLIN).date()
    if not claim_day(session, DUE_JOB, today):
        return 0
    day_after = clock.parse_iso((today + timedelta(days=2)).isoformat())
    tasks = session.scalars(
        sa.select(HumanTask).where(HumanTask.assignee_id.is_not(None), HumanTask.due_sort < day_after)
    )
    actors, told = _Actors(session), 0
    for task in list(tasks):
        if task.due_at is None or task.assignee_id is None:
            continue
        due_day = task.due_at.astimezone(clock.BERLIN).date()
        if task.due_at <= moment:
            kind = notices.OVERDUE
        elif due_day == today + timedelta(days=1):
            kind = notices.DUE_TOMORROW
        else:
            continue  # due later today: the inbox's "heute fällig" says so; tomorrow's round calls it overdue
        holder = actors.get(task.assignee_id)
        if holder is None or not permissions.may_work(holder, task.lane, task.site):
            continue
        key = f"{kind}:{task.task_uuid}:{due_day.isoformat()}"
        told += notices.tell(session, task.assignee_id, kind, task.instance_id, task=task, dedupe_key=key)
    return told


def _holders(session: Session, groups: tuple[str, ...], site: str) -> list[int]:
    conditions = [permissions.holders_of(group, site) for group in groups]
    return list(
        session.scalars(
            sa.select(Grant.user_id).join(User, User.id == Grant.user_id).where(User.active, sa.or_(*conditions))
            .distinct()
        )
    )  # fmt: skip


def tell_incidents(session: Session, specs: SpecCache, now: datetime | None = None) -> int:
    """Tell process owners and the site's FDL of every incident opened since the last run."""
    moment = now or clock.now()
    job = session.get(NoticeJob, INCIDENT_JOB, with_for_update=True)
    if job is None:
        job = NoticeJob(name=INCIDENT_JOB, mark_id=None)
        session.add(job)
    query = sa.select(Incident, ProcessInstance).join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
    if job.mark_id is None:  # first run: only what is open and recent, not the whole history
        query = query.where(Incident.resolved_at.is_(None), Incident.first_at > moment - timedelta(days=1))
    else:
        query = query.where(Incident.id > job.mark_id)
    rows = session.execute(query.order_by(Incident.id).limit(500)).all()
    actors, told = _Actors(session), 0
    for incident, case in rows:
        job.mark_id = incident.id
        lanes = specs.get(session, case.version_id).lanes
        for user_id in _holders(session, ("MODELLER", "FDL"), case.site):
            person = actors.get(user_id)
            if person is None or not permissions.may_handle_incident(person, lanes, case.site):
                continue
            told += notices.tell(session, user_id, notices.INCIDENT, case.id, business_key=case.business_key,
                                 reason=incident.message, dedupe_key=f"stoerung:{incident.id}")  # fmt: skip
    if job.mark_id is None:
        job.mark_id = session.scalar(sa.select(sa.func.max(Incident.id))) or 0
    return told


def tell_escalation(session: Session, site: str, instance_id: int) -> int:
    """Tell the FDL of ``site`` that the § 7 risk rule holds and the safeguard case ``instance_id`` started."""
    told = 0
    for user_id in _holders(session, ("FDL",), site):
        told += notices.tell(session, user_id, notices.ESCALATION, instance_id,
                             reason=f"Standort {site}", dedupe_key=f"eskalation:{instance_id}")  # fmt: skip
    return told


KEPT_DAYS = 90  # stored notices are shown 30 days and deleted after 90; sent or abandoned mails after 30


def purge(session: Session, now: datetime | None = None) -> None:
    """Delete old notices and old mails of the outbox (once a day)."""
    moment = now or clock.now()
    if not claim_day(session, "aufraeumen", moment.astimezone(clock.BERLIN).date()):
        return
    session.execute(sa.delete(TaskNotice).where(TaskNotice.created_at < moment - timedelta(days=KEPT_DAYS)))
    session.execute(sa.delete(NoticeMail).where(NoticeMail.created_at < moment - timedelta(days=30)))


def run(db: Database, specs: SpecCache) -> None:
    """The worker's notification round: due reminders and clean-up (once a day) and incidents, each in its own
    transaction."""
    for job in (remind_due, purge, lambda session: tell_incidents(session, specs)):
        try:
            with db.transaction() as session:
                job(session)
        except Exception as exc:  # noqa: BLE001 - the next round tries again; the worker goes on
            log.error("notification job failed: %s", type(exc).__name__)
