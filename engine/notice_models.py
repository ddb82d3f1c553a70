"""ORM tables of notifications besides ``models.TaskNotice``: read markers per group, the e-mail choice,
the outbox and the worker's marks. The schema is owned by migration 0022."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, BigId, UTCDateTime


class NoticeMarker(Base):
    """Up to when a user has read the tasks arriving for one of their groups at one site."""

    __tablename__ = "notice_marker"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    lane: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    site: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    read_until: Mapped[datetime] = mapped_column(UTCDateTime())


class NoticeSetting(Base):
    """A user's choice of e-mail: none, immediate or a daily digest, and to which address."""

    __tablename__ = "notice_setting"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[str | None] = mapped_column(sa.String(254))
    mail_mode: Mapped[str] = mapped_column(sa.String(16))
    mailed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())  # notifications up to here are mailed
    digest_on: Mapped[date | None] = mapped_column(sa.Date)  # the (Berlin) day of the last digest
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NoticeMail(Base):
    """One e-mail in the outbox: case numbers, task names and links only. Sent and retried by the worker."""

    __tablename__ = "notice_mail"
    __table_args__ = (sa.Index("ix_notice_mail_due", "sent_at", "next_try_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("app_user.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.String(100))  # the exception's type, never its text


class NoticeJob(Base):
    """A mark of one of the worker's notification jobs: the last incident seen, the day of the due reminders."""

    __tablename__ = "notice_job"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    mark_id: Mapped[int | None] = mapped_column(BigId)
    mark_day: Mapped[date | None] = mapped_column(sa.Date)
