"""Cancelling a Sammelliste payment in the browser: one clerk asks with a reason, a colleague confirms; the
list keeps the payment marked „Storniert“ and leaves it out of the sum; the page stays accessible."""

from __future__ import annotations

import pytest

from engine import clock
from engine.models import PaymentListEntry
from tests.browser.test_accessibility import axe_page, violations  # noqa: F401 (fixture)
from tests.support.browser import log_in
from tests.support.users import PASSWORD

pytestmark = pytest.mark.browser


def test_clerk_asks_colleague_confirms_and_the_list_shows_it(axe_page, live_engine, make_live_user) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    month = clock.today_berlin().strftime("%Y-%m")
    with live_engine.db.transaction() as session:
        for recipient, cents in (("Bäckerei Kornblume GmbH", 125040), ("Autohaus Ahorn KG", 99900)):
            session.add(
                PaymentListEntry(
                    site="56.4",
                    measure_type="EGZ",
                    pay_month=month,
                    recipient=recipient,
                    amount_cents=cents,
                    instance_id=None,
                    business_key="VG-2025-000001",
                    approved_by="egs2",
                    created_at=clock.now(),
                )  # fmt: skip
            )
    make_live_user("egs_zwei", ("EGS", "56.4"))
    page = axe_page
    log_in(page, "egs")
    page.goto("/sammellisten")
    page.get_by_role("button", name="Stornierung beantragen").last.click()
    assert page.locator(".feldfehler").inner_text().endswith("Bitte den Grund der Stornierung angeben.")
    assert violations(page) == []

    page.get_by_label("Grund der Stornierung für Autohaus Ahorn KG").fill("Arbeitsverhältnis vor Beginn beendet")
    page.get_by_label("Grund der Stornierung für Autohaus Ahorn KG").press("Enter")
    page.get_by_text("Stornierung beantragt. Eine zweite Person muss sie bestätigen.").wait_for()
    assert page.get_by_text("Stornierung beantragt von egs: Arbeitsverhältnis vor Beginn beendet").count() == 1
    assert violations(page) == []

    page.get_by_role("button", name="Abmelden").click()
    log_in(page, "egs_zwei", PASSWORD)
    page.goto("/sammellisten")
    page.get_by_role("button", name="Stornierung bestätigen").click()
    page.get_by_text("Zahlung storniert.").wait_for()
    caption = page.locator("caption").inner_text()
    assert caption == "1 Zahlung(en), Summe 1\u202f250,40 € (ohne 1 stornierte)"
    row = page.locator("tr.storniert")
    assert "Storniert: Arbeitsverhältnis vor Beginn beendet" in row.inner_text()
    assert (row.locator("del").text_content() or "").replace("\xa0", " ").replace("\u202f", " ") == "999,00 €"
    assert violations(page) == []
