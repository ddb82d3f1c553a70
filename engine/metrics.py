"""Figures for monitoring (``/metrics``): the platform's work and health, never personal data.

Open and overdue tasks and open incidents per site, how late the timer worker is, and what the jails of
this process did. Everything is counted in the database at the moment of the scrape, except the jail
counters, which belong to the process that answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .jail import pools
from .models import HumanTask, Incident, ProcessInstance
from .vocabulary import RUNNING, SITES


@dataclass(frozen=True)
class Figures:
    """One scrape's worth of figures."""

    open_tasks: dict[str, int]
    overdue_tasks: dict[str, int]
    open_incidents: dict[str, int]
    timer_lag_seconds: float
    jail_started: int
    jail_kills: int


def figures(session: Session, now: datetime) -> Figures:
    """Count the figures at ``now`` (every site appears, with 0 where nothing is open)."""
    open_tasks = dict.fromkeys(SITES, 0)
    overdue = dict.fromkeys(SITES, 0)
    rows = session.execute(
        sa.select(
            HumanTask.site,
            sa.func.count(HumanTask.id),
            sa.func.count(HumanTask.id).filter(HumanTask.due_at < now),
        ).group_by(HumanTask.site)
    ).all()
    for site, count, late in rows:
        open_tasks[site], overdue[site] = int(count), int(late)
    incidents = dict.fromkeys(SITES, 0)
    for site, count in session.execute(
        sa.select(ProcessInstance.site, sa.func.count(Incident.id))
        .join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
        .where(Incident.resolved_at.is_(None))
        .group_by(ProcessInstance.site)
    ).all():
        incidents[site] = int(count)
    oldest_due = session.scalar(
        sa.select(sa.func.min(ProcessInstance.next_timer_at)).where(
            ProcessInstance.status == RUNNING, ProcessInstance.next_timer_at <= now
        )
    )
    lag = max(0.0, (now - oldest_due).total_seconds()) if oldest_due is not None else 0.0
    jail_pools = pools()
    return Figures(
        open_tasks, overdue, incidents, lag,
        sum(pool.started for pool in jail_pools), sum(pool.kills for pool in jail_pools),
    )  # fmt: skip
