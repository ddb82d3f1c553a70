"""Notifications by e-mail through a real SMTP server on this machine (aiosmtpd): immediate and daily digest,
only case number, task name and link in the text, failures retried and logged without personal data."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from engine import clock, notice_mail
from engine.api import Engine
from engine.auth import system_actor
from engine.errors import FormValidationError
from engine.notice_models import NoticeMail
from tests.support import pb
from tests.support.engines import make_engine

APPLICANT = "Probstfeld, Jana"

POST_ROOM = system_actor("posteingang")  # cases arrive from outside: news to every clerk of the group


@dataclass
class Inbox:
    """What the local SMTP server received."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def mailing(deployed: Engine, db_url: str, smtp: tuple[Inbox, int]) -> Iterator[Engine]:
    """A second engine on the same database that sends mail to the local server."""
    engine = make_engine(db_url, smtp_host="127.0.0.1", smtp_port=smtp[1], public_url="https://egs.example",
                         mail_domain="jobcenter.example")  # fmt: skip
    yield engine
    engine.close()


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_immediate_mail_names_task_case_and_link_but_never_the_applicant(
    mailing: Engine, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    egs = mailing.actor("egs")
    mailing.notifications.set_mail_choice(egs, notice_mail.IMMEDIATE, "egs@jobcenter.example")
    started = mailing.start_case(POST_ROOM, pb.PROCESS, system=True, business_key="07402//0033333")
    [task] = mailing.open_tasks(egs, started.instance_id)
    with mailing.db.transaction() as session:  # the case has a known applicant
        from engine.models import HumanTask, ProcessInstance

        session.query(ProcessInstance).filter_by(id=started.instance_id).update({"applicant_name": APPLICANT})
        session.query(HumanTask).filter_by(instance_id=started.instance_id).update({"applicant_name": APPLICANT})
    mailing.housekeeping()
    [message] = inbox.messages
    text = body(message)
    assert message["To"] == "egs@jobcenter.example"
    assert f"„{pb.ANMELDEN}“ (Vorgang {started.instance_id})" in text
    assert f"https://egs.example/aufgaben/{task.task_uuid}" in text
    for secret in (APPLICANT, "Probstfeld", "Jana", "07402//0033333"):
        assert secret not in text and secret not in str(message["Subject"])
    mailing.housekeeping()
    assert len(inbox.messages) == 1, "nothing new: no second mail"
    mailing.start_case(POST_ROOM, pb.PROCESS, system=True)
    mailing.housekeeping()
    assert len(inbox.messages) == 2 and "1 neue Benachrichtigung" in str(inbox.messages[1]["Subject"])


def test_the_daily_digest_comes_once_a_day_from_the_configured_hour(mailing: Engine, smtp: tuple[Inbox, int]) -> None:
    inbox, _ = smtp
    egs = mailing.actor("egs")
    mailing.notifications.set_mail_choice(egs, notice_mail.DIGEST, "egs@jobcenter.example")
    mailing.start_case(POST_ROOM, pb.PROCESS, system=True)
    mailing.start_case(POST_ROOM, pb.PROCESS, system=True)
    today = clock.now().astimezone(clock.BERLIN)
    early = (today.replace(hour=5, minute=0) + timedelta(days=1)).astimezone(clock.BERLIN)
    with mailing.db.transaction() as session:
        assert notice_mail.queue(session, mailing.specs, mailing.settings, early) == 0, "before 7 o'clock"
    later = early.replace(hour=8)
    with mailing.db.transaction() as session:
        assert notice_mail.queue(session, mailing.specs, mailing.settings, later) == 1
    with mailing.db.transaction() as session:
        assert notice_mail.queue(session, mailing.specs, mailing.settings, later.replace(hour=9)) == 0, "once a day"
    assert notice_mail.send_due(mailing.db, mailing.settings) == 1
    [message] = inbox.messages
    assert "Zusammenfassung – 2 ungelesene Benachrichtigungen" in str(message["Subject"])
    assert body(message).count("Neue Aufgabe für Ihre Gruppe") == 2


def test_a_failed_mail_is_retried_later_and_logged_without_address(
    deployed: Engine, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(db_url, smtp_host="127.0.0.1", smtp_port=free_port())  # nobody listens there
    try:
        egs = engine.actor("egs")
        engine.notifications.set_mail_choice(egs, notice_mail.IMMEDIATE, "clerk@example.org")
        engine.start_case(POST_ROOM, pb.PROCESS, system=True)
        with caplog.at_level(logging.WARNING, logger="egs.notices"):
            engine.housekeeping()
        with engine.db.reading() as session:
            [mail] = session.query(NoticeMail).all()
            assert (mail.sent_at, mail.attempts, mail.last_error) == (None, 1, "ConnectionRefusedError")
            assert mail.next_try_at is not None and mail.next_try_at > clock.wall_now()
        assert "not sent (ConnectionRefusedError), attempt 1" in caplog.text
        assert "clerk@example.org" not in caplog.text and "Vorgang" not in caplog.text
        assert notice_mail.send_due(engine.db, engine.settings) == 0, "not again before its pause is over"
    finally:
        engine.close()


def test_the_choice_is_checked(mailing: Engine) -> None:
    egs = mailing.actor("egs")
    with pytest.raises(FormValidationError) as bad:
        mailing.notifications.set_mail_choice(egs, notice_mail.IMMEDIATE, "kein-at-zeichen")
    assert "mail_adresse" in bad.value.field_errors
    with pytest.raises(FormValidationError) as foreign:
        mailing.notifications.set_mail_choice(egs, notice_mail.IMMEDIATE, "egs@privat.example")
    assert "@jobcenter.example" in foreign.value.field_errors["mail_adresse"][0]
    with pytest.raises(FormValidationError):
        mailing.notifications.set_mail_choice(egs, "stündlich", "egs@jobcenter.example")
    mailing.notifications.set_mail_choice(egs, notice_mail.NONE, "")
    assert mailing.notifications.mail_choice(egs).mode == notice_mail.NONE


def test_without_smtp_nothing_is_queued(deployed: Engine) -> None:
    egs = deployed.actor("egs")
    deployed.notifications.set_mail_choice(egs, notice_mail.IMMEDIATE, "egs@example.org")
    deployed.start_case(POST_ROOM, pb.PROCESS, system=True)
    deployed.housekeeping()
    with deployed.db.reading() as session:
        assert session.query(NoticeMail).count() == 0
    assert deployed.notifications.mail_choice(egs).enabled is False
