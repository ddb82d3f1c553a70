"""§ 7 end to end in a real browser: the FDL sees her site's staffing, the demo absences start the safeguard,
she redeploys an LSB clerk through the process, who then sees EGS tasks and is refused once the period is over
(fixed business time on the server); axe on the dashboard."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from playwright.sync_api import expect

from engine import clock
from engine.demo import create_demo_staff
from engine.working_days import next_working_days
from tests.browser.test_accessibility import violations
from tests.support import pb
from tests.support.browser import log_in
from tests.support.cases import CaseDriver
from tests.support.records import audit_events

pytestmark = pytest.mark.browser
ENTSCHEIDUNG = "Über Umsetzung in den EGS entscheiden"


def test_fdl_redeploys_an_lsb_clerk_who_works_egs_tasks_until_the_period_ends(  # type: ignore[no-untyped-def]
    page, live_engine, business_clock
) -> None:
    """The story of issue 13 at a fixed business time (the server's requests and the engine's calls alike)."""
    workday = next_working_days(clock.today_berlin() + timedelta(days=1), 1)[0]
    morning = datetime.combine(workday, time(9), clock.BERLIN)
    business_clock.instant = morning
    with clock.frozen(morning):
        create_demo_staff(live_engine)  # two of three EGS staff absent from today on
        assert live_engine.check_escalations() == {"56.4": "started"}, "the demo absences trigger the rule"
        assert live_engine.check_escalations() == {}, "once per episode"
        CaseDriver(live_engine, pb.PROCESS, site="56.4")  # an EGS task waiting at 56.4

    log_in(page, "fdl")
    page.get_by_role("link", name="Personallage").click()
    expect(page.locator("h1")).to_have_text("Personallage EGS – Fachdienst 56.4")
    expect(page.get_by_role("img", name=re.compile("Kapazität und Bedarf"))).to_be_visible()
    expect(page.get_by_role("cell", name="Krankheit")).to_be_visible()

    page.get_by_role("link", name="Aufgaben").first.click()
    first = page.locator("a[href^='/aufgaben/']").first
    expect(first).to_have_text(re.compile(ENTSCHEIDUNG)), "the safeguard is at the top of the FDL's inbox"
    first.click()
    page.get_by_label("befristete Umsetzung in den EGS").check()
    page.locator("#feld-begruendung_entscheidung").fill("Zwei von drei EGS-Kräften fehlen.")
    page.locator("#feld-umsetzung_von").fill(workday.strftime("%d.%m.%Y"))
    page.locator("#feld-umsetzung_bis").fill(workday.strftime("%d.%m.%Y"))  # one day
    page.locator("#feld-beschaeftigte_lsb").fill("Lars Leistung")
    page.locator("#feld-vzae_lsb").fill("1")
    page.get_by_role("button", name="Abschließen").click()
    page.wait_for_url(re.compile(r"/aufgaben/weiter/\d+$|/vorgaenge/\d+$|/$"))
    with clock.frozen(morning):
        assert live_engine.actor("lsb").has_group("EGS", "56.4")

    page.goto("/personal/?standort=56.4")
    expect(page.get_by_role("row", name=re.compile("Lars Leistung LSB"))).to_be_visible()
    assert page.console_problems == []

    page.get_by_role("button", name="Abmelden").click()
    log_in(page, "lsb")
    task = page.get_by_role("link", name="Besucher anmelden und Anliegen erfassen", exact=True)
    expect(task).to_be_visible()
    task.click()
    expect(page.locator("h1")).to_have_text("Besucher anmelden und Anliegen erfassen")
    expect(page.get_by_role("button", name="Abschließen")).to_be_visible()
    task_url = page.url

    # The grant ends at midnight by itself: no job runs, the next request is refused.
    business_clock.instant = datetime.combine(workday + timedelta(days=1), time(0, 0, 30), clock.BERLIN)
    response = page.goto(task_url)
    assert response is not None and response.status == 403
    page.goto("/")
    expect(page.get_by_role("link", name="Besucher anmelden und Anliegen erfassen", exact=True)).to_have_count(0)
    with clock.frozen(business_clock.instant):
        assert not live_engine.actor("lsb").has_group("EGS", "56.4")
    assert [e.actor for e in audit_events(live_engine, "access_denied")][-1:] == ["lsb"]


def test_the_staffing_pages_have_no_serious_axe_violations(browser, live_server, live_engine) -> None:  # type: ignore[no-untyped-def]
    create_demo_staff(live_engine)
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="de-DE", base_url=live_server,
                                  bypass_csp=True)  # fmt: skip
    page = context.new_page()
    try:
        log_in(page, "fdl")
        found = {}
        month = clock.today_berlin().strftime("%Y-%m")
        for path in ("/personal/?standort=56.4", f"/personal/umsetzungen?standort=56.4&monat={month}"):
            page.goto(path)
            found[path] = violations(page)
        assert found == {path: [] for path in found}
    finally:
        context.close()
