"""The inbox in a real browser: claim, live refresh, two clerks claiming at once, delegation."""

from __future__ import annotations

import re

import pytest

from tests.support import pb
from tests.support.browser import log_in
from tests.support.cases import CaseDriver

pytestmark = pytest.mark.browser


@pytest.fixture
def second_page(browser, live_server: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="de-DE", base_url=live_server)
    yield context.new_page()
    context.close()


def registered(engine, count: int = 2) -> list[CaseDriver]:  # type: ignore[no-untyped-def]
    cases = []
    for number in range(count):
        case = CaseDriver(engine, pb.PROCESS, business_key=f"07402//00955{number:02d}")
        case.complete("Besucher anmelden und Anliegen erfassen", pb.anmeldung(nachname=f"Kruse{number}"))
        cases.append(case)
    return cases


def test_task_taken_by_a_colleague_disappears_from_the_group_list(
    page, second_page, live_engine, make_live_user
) -> None:  # type: ignore[no-untyped-def]
    make_live_user("egs2", ("EGS", "56.4"))
    case, _ = registered(live_engine)
    log_in(page, "egs")
    row = page.get_by_role("row", name="07402//0095500")
    assert row.count() == 1
    log_in(second_page, "egs2", password="pw")
    second_page.get_by_role("row", name="07402//0095500").get_by_role("button", name=re.compile("Übernehmen")).click()
    second_page.wait_for_url(re.compile(r"/\?|/$"))
    # No reload in the first browser: htmx refreshes the list every 5 seconds.
    page.get_by_role("row", name="07402//0095500").wait_for(state="detached", timeout=15_000)
    page.get_by_role("link", name=re.compile("Meine Aufgaben")).click()
    assert page.get_by_role("row", name="07402//0095500").count() == 0
    second_page.get_by_role("link", name=re.compile("Meine Aufgaben")).click()
    assert second_page.get_by_role("row", name="07402//0095500").count() == 1
    assert case.open_tasks()[0].assignee == "egs2"


def test_two_clerks_claim_the_same_task_at_once(page, second_page, live_engine, make_live_user) -> None:  # type: ignore[no-untyped-def]
    make_live_user("egs2", ("EGS", "56.4"))
    registered(live_engine, 1)
    log_in(page, "egs")
    log_in(second_page, "egs2", password="pw")
    buttons = [
        p.get_by_role("row", name="07402//0095500").get_by_role("button", name=re.compile("Übernehmen"))
        for p in (page, second_page)
    ]
    buttons[0].click()
    buttons[1].click()  # the second clerk still sees the old list: the server decides
    texts = [page.locator("main").inner_text(), second_page.locator("main").inner_text()]
    assert sum("Aufgabe übernommen." in text for text in texts) == 1
    assert sum("bereits von einer Kollegin oder einem Kollegen übernommen" in text for text in texts) == 1


def test_delegate_from_the_task_page(page, live_engine, make_live_user) -> None:  # type: ignore[no-untyped-def]
    make_live_user("egs2", ("EGS", "56.4"))
    case, _ = registered(live_engine)
    task = case.task("Antrag annehmen und Identität prüfen")
    log_in(page, "egs")
    page.goto(f"/aufgaben/{task.task_uuid}")
    page.get_by_text("An Kollegin oder Kollegen weitergeben").click()
    page.get_by_label("Weitergeben an").select_option("egs2")
    page.get_by_label("Grund").fill("Urlaub ab morgen")
    page.get_by_role("button", name="Weitergeben").click()
    assert page.get_by_text("Aufgabe weitergegeben.").is_visible()
    assert case.open_tasks()[0].assignee == "egs2"
