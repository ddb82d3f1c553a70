"""The audit function's process view in the browser: heat map on the diagram, the table, exports, axe."""

from __future__ import annotations

import pytest

from tests.browser.test_accessibility import axe_page, violations  # noqa: F401  (fixture)
from tests.support import pb
from tests.support.browser import log_in
from tests.support.event_log import main_path_case

pytestmark = pytest.mark.browser


def test_heat_map_table_and_export_links(axe_page, live_engine) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    main_path_case(live_engine, 0)
    main_path_case(live_engine, 200, claim_first=False)
    log_in(axe_page, "audit")
    axe_page.get_by_role("link", name="Prozessansicht").click()
    axe_page.get_by_label("Prozess").select_option(pb.PROCESS)
    axe_page.get_by_role("button", name="Anzeigen").click()
    axe_page.wait_for_selector("#diagramm[data-geladen='ja']")

    registration = axe_page.locator('g.djs-element[data-element-id="Task_Anmeldung"]')
    assert "hitze-4" in (registration.get_attribute("class") or "")
    badges = axe_page.locator(".hitze-zahl")
    assert badges.filter(has_text="2").count() == 10
    row = axe_page.locator('#schritte tr[data-element="Task_Anmeldung"]')
    assert row.locator("td").all_inner_texts() == ["EGS", "2", "2 Min.", "10 Min.", "0 Sek.", "8 Min."]
    assert "2 Vorgänge passen zum Filter" in axe_page.locator("#export-umfang").inner_text()
    assert axe_page.get_by_role("heading", name="Langsamste Schritte").is_visible()
    assert violations(axe_page) == []

    with axe_page.expect_download() as download:
        axe_page.get_by_role("link", name="Ereignisprotokoll als XES (Process Mining)").click()
    assert download.value.suggested_filename == "ereignisprotokoll.xes"
    axe_page.get_by_label("Begonnen ab").fill("gestern")
    axe_page.get_by_role("button", name="Anzeigen").click()
    assert "Bitte ein Datum als JJJJ-MM-TT angeben." in axe_page.locator("#von-fehler").inner_text()
    assert violations(axe_page) == []
