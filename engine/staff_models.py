"""ORM tables of staffing (§ 6/§ 7): staff per site, absences, the share decision, escalation episodes and
redeployments. The schema is owned by migration 0020."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime


class StaffMember(Base):
    """One person working at a site in a function (EGS, LSB, IFK, TL, FDL) with weekly hours and a term."""

    __tablename__ = "staff_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(sa.String(16), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    function: Mapped[str] = mapped_column(sa.String(8))
    weekly_hours: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2))
    start_date: Mapped[date] = mapped_column(sa.Date)
    end_date: Mapped[date | None] = mapped_column(sa.Date)
    username: Mapped[str | None] = mapped_column(sa.String(64))  # the login, needed for a redeployment
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Absence(Base):
    """An absence as a date range with a kind only (no health details: data minimisation)."""

    __tablename__ = "staff_absence"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_member.id", ondelete="CASCADE"), index=True)
    first_day: Mapped[date] = mapped_column(sa.Date)
    last_day: Mapped[date] = mapped_column(sa.Date)
    kind: Mapped[str] = mapped_column(sa.String(16))
    created_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ShareDecision(Base):
    """The FDL's decision per site: the concept's shares as they are (sum 1.15) or normalised to 1.00."""

    __tablename__ = "site_share_decision"

    site: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    mode: Mapped[str] = mapped_column(sa.String(16))
    decided_by: Mapped[str] = mapped_column(sa.String(64))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EscalationEpisode(Base):
    """One stretch of time in which a site's risk rule held; the safeguard case started for it."""

    __tablename__ = "escalation_episode"

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(sa.String(16), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    instance_id: Mapped[int | None]
    reasons: Mapped[str] = mapped_column(sa.String(500))


class Redeployment(Base):
    """A time-limited move of an LSB/IFK person into the EGS of a site, carried by a grant that expires."""

    __tablename__ = "redeployment"

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(sa.String(16), index=True)
    staff_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_member.id"))
    grant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_grant.id", ondelete="SET NULL"))
    from_function: Mapped[str] = mapped_column(sa.String(8))
    first_day: Mapped[date] = mapped_column(sa.Date)
    last_day: Mapped[date] = mapped_column(sa.Date)
    instance_id: Mapped[int | None]
    decided_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # when the end went into the trail
