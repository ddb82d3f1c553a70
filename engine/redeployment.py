"""Redeployment into the EGS (§ 7): the FDL moves an LSB/IFK person into the EGS of her site for a period.

The engine grants the person the EGS group at that site from the first day 00:00 until the end of the last
day (Europe/Berlin). The grant ends by itself: ``engine.auth.load_actor`` loads only grants valid now, on
every request. Grant, use and end are audited: the grant here, each task completed under it by
``record_use`` (called when a task is completed), the end by ``record_ends`` (timer worker) – the access
itself never depends on that job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import audit, clock, permissions
from .audit import Action
from .auth import Actor
from .errors import NotFoundError, PermissionDeniedError, RuleViolationError
from .konfiguration import Konfiguration
from .models import Grant, User
from .staff_models import Redeployment, StaffMember
from .vocabulary import ALL_SITES

MOVABLE_FUNCTIONS = ("LSB", "IFK")


@dataclass(frozen=True)
class RedeploymentRow:
    id: int
    site: str
    name: str
    from_function: str
    first_day: date
    last_day: date
    weekly_hours: Decimal
    decided_by: str

    def active_on(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


def day_start(day: date) -> datetime:
    """00:00 of ``day`` in Berlin, as an aware instant."""
    return datetime.combine(day, time(0), clock.BERLIN)


def max_days(konfig: Konfiguration) -> int:
    return int(konfig.get("sicherstellung.umsetzung_hoechstens_tage"))


def redeploy(
    session: Session, konfig: Konfiguration, actor: Actor, site: str, staff_id: int, first_day: date,
    last_day: date, instance_id: int | None = None,
) -> int:  # fmt: skip
    """Grant an LSB/IFK person of ``site`` the EGS group there from ``first_day`` to ``last_day`` (inclusive).

    :raises PermissionDeniedError: not the FDL of the site.
    :raises RuleViolationError: not LSB/IFK of the site, no login, period reversed, in the past, too long,
        or overlapping a redeployment of the same person.
    """
    if not permissions.may_redeploy(actor, site):
        raise PermissionDeniedError("Umsetzungen in den EGS entscheidet die Fachdienstleitung des Standorts.")
    person = session.get(StaffMember, staff_id)
    if person is None or person.site != site:
        raise NotFoundError("Diese Person gehört nicht zum Personal des Standorts.")
    if person.function not in MOVABLE_FUNCTIONS:
        raise RuleViolationError("In den EGS umgesetzt werden Beschäftigte der LSB oder der IFK.")
    user_id = session.scalar(sa.select(User.id).where(User.username == person.username, User.active.is_(True)))
    if person.username is None or user_id is None:
        raise RuleViolationError("Für diese Person ist kein Benutzerkonto hinterlegt; ohne Konto keine Berechtigung.")
    if last_day < first_day:
        raise RuleViolationError("Das Ende der Umsetzung liegt vor ihrem Beginn.")
    if first_day < clock.today_berlin():
        raise RuleViolationError("Eine Umsetzung kann nicht rückwirkend beginnen.")
    longest = max_days(konfig)
    if (last_day - first_day).days > longest:  # as the model checks it: the end at most that many days later
        raise RuleViolationError(
            f"Das Ende einer Umsetzung liegt höchstens {longest} Tage nach ihrem Beginn "
            "(sicherstellung.umsetzung_hoechstens_tage)."
        )
    overlapping = session.scalar(
        sa.select(Redeployment.id).where(
            Redeployment.staff_id == staff_id, Redeployment.first_day <= last_day, Redeployment.last_day >= first_day
        )
    )
    if overlapping is not None:
        raise RuleViolationError("Diese Person ist in diesem Zeitraum bereits umgesetzt.")
    now = clock.now()
    grant = Grant(
        user_id=user_id, group_code="EGS", site=site, valid_from=day_start(first_day),
        valid_until=day_start(last_day + timedelta(days=1)), created_at=now,
        reason=f"Umsetzung in den EGS (§ 7) durch {actor.username}",
    )  # fmt: skip
    session.add(grant)
    session.flush()
    row = Redeployment(
        site=site, staff_id=staff_id, grant_id=grant.id, from_function=person.function, first_day=first_day,
        last_day=last_day, instance_id=instance_id, decided_by=actor.username, created_at=now,
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(session, Action.REDEPLOYMENT_GRANTED, actor.username, instance_id=instance_id, details={
        "standort": site, "benutzer": person.username, "aus": person.function, "von": first_day, "bis": last_day,
        "gueltig_bis": grant.valid_until})  # fmt: skip
    return row.id


def redeployments(
    session: Session, site: str, first: date | None = None, last: date | None = None
) -> list[RedeploymentRow]:
    """The site's redeployments overlapping [first, last] (all when not given), newest first."""
    query = sa.select(Redeployment, StaffMember).join(StaffMember, StaffMember.id == Redeployment.staff_id)
    query = query.where(Redeployment.site == site)
    if first is not None:
        query = query.where(Redeployment.last_day >= first)
    if last is not None:
        query = query.where(Redeployment.first_day <= last)
    return [
        RedeploymentRow(
            r.id, r.site, s.name, r.from_function, r.first_day, r.last_day, Decimal(s.weekly_hours), r.decided_by
        )  # fmt: skip
        for r, s in session.execute(query.order_by(Redeployment.first_day.desc(), Redeployment.id.desc()))
    ]


def record_use(session: Session, actor: Actor, site: str, instance_id: int, task_uuid: str) -> None:
    """Audit that a redeployed person worked an EGS task under the temporary grant (nothing if they hold EGS
    there anyway). The actor's grants were read with their ends, so this asks the database nothing."""
    holding = {(group, at) for group, at in actor.grants if group == "EGS" and at in (site, ALL_SITES)}
    if holding and holding <= actor.temporary:
        audit.record(session, Action.REDEPLOYMENT_USED, actor.username, instance_id=instance_id, task_uuid=task_uuid,
                     details={"standort": site})  # fmt: skip


def end_for_case(session: Session, actor: str, instance_id: int) -> int:
    """End the redeployments of a safeguard case now (early end or after the timer); audited once each."""
    now = clock.now()
    today = clock.today_berlin()
    rows = session.execute(
        sa.select(Redeployment, Grant)
        .join(Grant, Grant.id == Redeployment.grant_id, isouter=True)
        .where(Redeployment.instance_id == instance_id, Redeployment.end_recorded_at.is_(None))
    ).all()
    for row, grant in rows:
        early = grant is not None and (grant.valid_until is None or grant.valid_until > now)
        if grant is not None and early:
            grant.valid_until = max(now, grant.valid_from or now)
            row.last_day = max(min(row.last_day, today), row.first_day)
        row.end_recorded_at = now
        audit.record(session, Action.REDEPLOYMENT_ENDED, actor, instance_id=instance_id, details={
            "standort": row.site, "redeployment": row.id, "vorzeitig": early})  # fmt: skip
    return len(rows)


def record_ends(session: Session) -> int:
    """Write the end of every redeployment whose grant has run out into the trail, once; return how many.

    The access ended already at the grant's end (checked on every request); this only tells the trail.
    """
    now = clock.now()
    rows = session.execute(
        sa.select(Redeployment, Grant.valid_until)
        .join(Grant, Grant.id == Redeployment.grant_id)
        .where(Redeployment.end_recorded_at.is_(None), Grant.valid_until <= now)
        .with_for_update(of=Redeployment, skip_locked=True)
    ).all()
    for row, until in rows:
        row.end_recorded_at = now
        audit.record(session, Action.REDEPLOYMENT_ENDED, "system", instance_id=row.instance_id, details={
            "standort": row.site, "redeployment": row.id, "abgelaufen": until})  # fmt: skip
    return len(rows)
