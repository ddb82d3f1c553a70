"""Notifications by e-mail: each person's choice (none, immediate, daily digest), the outbox, and sending.

Off unless ``EGS_SMTP_HOST`` is set. The timer worker (never a request) puts mails into ``notice_mail`` and
sends them; a failure is retried with a growing pause and logged with the mail's id and the exception's type
only. A mail carries the kind of each notification, the task's name, the case number and a link – never the
Geschäftszeichen, an applicant's name, a colleague's name or a reason someone typed.
"""

from __future__ import annotations

import logging
import re
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import clock, notifications
from .auth import Actor, load_actor
from .config import EngineSettings
from .db import Database
from .errors import AuthenticationError, FormValidationError
from .models import User
from .notice_models import NoticeMail, NoticeSetting
from .versions import SpecCache

log = logging.getLogger("egs.notices")

NONE, IMMEDIATE, DIGEST = "keine", "sofort", "taeglich"
MODES = {NONE: "keine E-Mails", IMMEDIATE: "sofort bei jeder neuen Benachrichtigung", DIGEST: "einmal täglich"}
MAX_ATTEMPTS = 8
FIRST_PAUSE = timedelta(minutes=1)
LEASE = timedelta(minutes=5)  # a mail being sent is not picked up by another worker meanwhile
ADDRESS = re.compile(r"[^@\s<>,;\"]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}")
PER_MAIL = 50


@dataclass(frozen=True)
class MailChoice:
    """A person's e-mail choice, as the page *Mein Konto* shows it."""

    mode: str
    email: str
    enabled: bool  # the server sends mail at all (EGS_SMTP_HOST)


def choice(session: Session, settings: EngineSettings, actor: Actor) -> MailChoice:
    row = session.get(NoticeSetting, actor.user_id) if actor.user_id is not None else None
    return MailChoice(row.mail_mode if row else NONE, (row.email or "") if row else "", bool(settings.smtp_host))


def set_choice(session: Session, settings: EngineSettings, actor: Actor, mode: str, email: str) -> None:
    """Store the actor's e-mail choice. :raises FormValidationError: unknown choice, bad or foreign address."""
    email = email.strip()
    if mode not in MODES:
        raise FormValidationError({"mail_modus": ["Bitte eine der angebotenen Möglichkeiten wählen."]})
    if mode != NONE and not ADDRESS.fullmatch(email):
        raise FormValidationError({"mail_adresse": ["Bitte eine gültige E-Mail-Adresse angeben."]})
    domain = settings.mail_domain.strip().lower()
    if mode != NONE and domain and not email.lower().endswith("@" + domain):
        raise FormValidationError({"mail_adresse": [f"Bitte Ihre dienstliche Adresse (…@{domain}) angeben."]})
    if actor.user_id is None:
        raise FormValidationError({"mail_modus": ["Nur angemeldete Benutzer haben Einstellungen."]})
    now = clock.now()
    row = session.get(NoticeSetting, actor.user_id)
    if row is None:
        row = NoticeSetting(user_id=actor.user_id, mail_mode=mode, updated_at=now)
        session.add(row)
    changed = row.mail_mode != mode
    row.mail_mode, row.email, row.updated_at = mode, email or None, now
    if changed or row.mailed_until is None:
        row.mailed_until = now  # what came before the choice is not mailed afterwards


# --- composing ----------------------------------------------------------------------------------------------


def _url(settings: EngineSettings, row: notifications.Notification) -> str:
    base = settings.public_url.rstrip("/")
    if row.link == "task" and row.task_uuid:
        return f"{base}/aufgaben/{row.task_uuid}"
    if row.link == "case":
        return f"{base}/vorgaenge/{row.instance_id}"
    if row.link == "incidents":
        return f"{base}/stoerungen"
    return f"{base}/benachrichtigungen"


def compose(settings: EngineSettings, rows: list[notifications.Notification], digest: bool) -> tuple[str, str]:
    """Subject and body of a mail about ``rows``: kind, task name, case number and link – nothing else."""
    count = len(rows)
    subject = (
        f"EGS-Prozessplattform: Zusammenfassung – {count} ungelesene Benachrichtigung{'en' if count != 1 else ''}"
        if digest
        else f"EGS-Prozessplattform: {count} neue Benachrichtigung{'en' if count != 1 else ''}"
    )
    lines = ["Guten Tag,", "", "es gibt Neues für Sie in der EGS-Prozessplattform:", ""]
    for row in rows[:PER_MAIL]:
        task = f" „{row.task_name}“" if row.task_name else ""
        lines.append(f"- {row.title}:{task} (Vorgang {row.instance_id})")
        lines.append(f"  {_url(settings, row)}")
    if count > PER_MAIL:
        lines.append(f"- und {count - PER_MAIL} weitere")
    base = settings.public_url.rstrip("/")
    lines += [
        "",
        f"Alle Benachrichtigungen: {base}/benachrichtigungen",
        f"E-Mails abbestellen oder ändern: {base}/konto",
        "",
        "Diese E-Mail enthält keine personenbezogenen Daten; Einzelheiten sehen Sie nach der Anmeldung.",
    ]
    return subject, "\n".join(lines) + "\n"


def queue(session: Session, specs: SpecCache, settings: EngineSettings, now: datetime | None = None) -> int:
    """Put a mail into the outbox for everyone whose choice is due: immediate – anything new since their last
    mail; digest – once a Berlin day from ``EGS_MAIL_DIGEST_HOUR``, everything unread since. Return how many."""
    if not settings.smtp_host:
        return 0
    moment = now or clock.now()
    local = moment.astimezone(clock.BERLIN)
    queued = 0
    rows = session.execute(
        sa.select(NoticeSetting, User.username)
        .join(User, User.id == NoticeSetting.user_id)
        .where(User.active, NoticeSetting.mail_mode != NONE, NoticeSetting.email.is_not(None))
    ).all()
    for setting, username in rows:
        digest = setting.mail_mode == DIGEST
        if digest and (setting.digest_on == local.date() or local.hour < settings.mail_digest_hour):
            continue
        try:
            actor = load_actor(session, username, moment)
        except AuthenticationError:
            continue
        since = setting.mailed_until or moment
        if not digest and not notifications.has_news(session, actor, since):
            continue  # the usual round: nothing new, and the list is not read
        found = notifications.page(session, specs, actor, limit=200).rows
        fresh = [row for row in found if not row.read and row.created_at > since and row.created_at <= moment]
        if digest:
            setting.digest_on = local.date()
        if not fresh:
            continue
        subject, body = compose(settings, fresh, digest)
        session.add(NoticeMail(user_id=setting.user_id, subject=subject, body=body, created_at=moment, attempts=0))
        setting.mailed_until = max(row.created_at for row in fresh)
        queued += 1
    return queued


# --- sending ------------------------------------------------------------------------------------------------


def pause_after(attempts: int) -> timedelta:
    pause: timedelta = FIRST_PAUSE * 2 ** max(0, attempts - 1)
    return min(pause, timedelta(hours=2))


def _claim(db: Database, now: datetime) -> list[tuple[int, str, str, str]]:
    """Mails due for sending, each leased to this worker: (id, address, subject, body)."""
    with db.transaction() as session:
        due = session.execute(
            sa.select(NoticeMail.id, NoticeSetting.email, NoticeMail.subject, NoticeMail.body)
            .join(NoticeSetting, NoticeSetting.user_id == NoticeMail.user_id)
            .where(
                NoticeMail.sent_at.is_(None),
                NoticeSetting.mail_mode != NONE,  # unsubscribed meanwhile: what waits is not sent
                NoticeMail.attempts < MAX_ATTEMPTS,
                sa.or_(NoticeMail.next_try_at.is_(None), NoticeMail.next_try_at <= now),
            )
            .order_by(NoticeMail.id)
            .limit(50)
        ).all()
        claimed = []
        for mail_id, address, subject, body in due:
            taken = session.execute(
                sa.update(NoticeMail)
                .where(
                    NoticeMail.id == mail_id,
                    sa.or_(NoticeMail.next_try_at.is_(None), NoticeMail.next_try_at <= now),
                )
                .values(next_try_at=now + LEASE)
            )
            if taken.rowcount == 1 and address:  # type: ignore[attr-defined]
                claimed.append((mail_id, address, subject, body))
        return claimed


def send_due(db: Database, settings: EngineSettings, now: datetime | None = None) -> int:
    """Send the mails due in the outbox; return how many went out. Failures wait and are tried again."""
    if not settings.smtp_host:
        return 0
    moment = now or clock.wall_now()
    sent = 0
    for mail_id, address, subject, body in _claim(db, moment):
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = settings.mail_from, address, subject
        message.set_content(body)
        error: Exception | None = None
        try:
            with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
                if settings.smtp_starttls:
                    smtp.starttls()
                if settings.smtp_user:
                    smtp.login(settings.smtp_user, settings.smtp_password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            error = exc
        with db.transaction() as session:
            mail = session.get(NoticeMail, mail_id)
            if mail is None:
                continue
            mail.attempts += 1
            if error is None:
                mail.sent_at, mail.next_try_at, mail.last_error = clock.wall_now(), None, None
                sent += 1
                continue
            mail.last_error = type(error).__name__
            mail.next_try_at = moment + pause_after(mail.attempts)
            attempts = mail.attempts
        # The address and the text stay out of the log: the mail's number and the failure's type are enough.
        log.warning("notification mail %d not sent (%s), attempt %d", mail_id, type(error).__name__, attempts)
    return sent


def run(db: Database, specs: SpecCache, settings: EngineSettings) -> None:
    """The worker's mail round: fill the outbox, then send what is due."""
    if not settings.smtp_host:
        return
    try:
        with db.transaction() as session:
            queue(session, specs, settings)
        send_due(db, settings)
    except Exception as exc:  # noqa: BLE001 - mail must never stop the worker; the next round tries again
        log.error("notification mail round failed: %s", type(exc).__name__)
