"""Notifications in a real browser: a clerk sees the bell's count rise when a task arrives for her group, opens
the task from the notification, and the notifications page passes axe."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_accessibility import violations
from tests.support import pb
from tests.support.browser import log_in

pytestmark = pytest.mark.browser


def test_clerk_sees_the_bell_rise_and_opens_the_task(page, live_engine, make_live_user) -> None:  # type: ignore[no-untyped-def]
    make_live_user("egs2", ("EGS", "56.4"))
    log_in(page, "egs")
    bell = page.get_by_role("link", name=re.compile("^Benachrichtigungen"))
    assert bell.inner_text().strip() == "Benachrichtigungen" or "ungelesen" not in bell.inner_text()
    case = live_engine.start_case(live_engine.actor("egs2"), pb.PROCESS, business_key="07402//0097100")
    # No reload: the inbox's background refresh brings the bell's count along (out of band).
    page.locator("#glocke-zahl").wait_for(timeout=15000)
    assert re.search(r"1\s*ungelesen", bell.inner_text()), bell.inner_text()
    bell.click()
    page.wait_for_url(re.compile(r"/benachrichtigungen$"))
    assert page.get_by_role("heading", name="Benachrichtigungen").count() == 1
    assert violations(page) == []
    page.get_by_role("link", name=re.compile(re.escape(pb.ANMELDEN))).click()
    page.wait_for_url(re.compile(r"/aufgaben/"))
    assert page.get_by_role("heading", name=re.compile(re.escape(pb.ANMELDEN))).count() >= 1
    assert str(case.instance_id) in page.content()
    page.goto("/benachrichtigungen")
    page.get_by_role("button", name=re.compile("Als gelesen markieren")).click()
    page.wait_for_url(re.compile(r"/benachrichtigungen"))
    assert "ungelesen" not in page.get_by_role("link", name=re.compile("^Benachrichtigungen")).inner_text()
    assert violations(page) == []
    assert page.console_problems == []
