"""Ending a session in a real browser (issue 10): an inbox left open goes to the login page by itself."""

from __future__ import annotations

import re

import pytest

from engine.auth import system_actor
from tests.support.browser import log_in

pytestmark = pytest.mark.browser


def test_an_open_inbox_goes_to_the_login_page_when_its_session_is_ended(page, live_engine) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "egs")
    assert page.get_by_role("heading", name=re.compile("Gruppenaufgaben|Aufgaben")).count() >= 1

    assert live_engine.end_sessions(system_actor("cli"), "egs") == 1  # e.g. `egs end-sessions egs`

    # No click: the inbox's 5-second refresh finds the session over, and htmx follows HX-Redirect.
    page.wait_for_url(re.compile(r"/anmelden\?next="), timeout=15_000)
    assert page.get_by_text("Ihre Sitzung wurde beendet.").count() == 1
    assert page.locator("#aufgabenliste").count() == 0, "no task list left on the screen"


def test_ueberall_abmelden_from_the_account_page(page, live_engine) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "egs")
    page.get_by_role("link", name="Erika Empfang").click()
    page.get_by_role("button", name=re.compile("Überall abmelden")).click()
    page.wait_for_url(re.compile(r"/anmelden$"))
    assert page.get_by_text("Sie wurden überall abgemeldet (1 Sitzung beendet).").count() == 1
