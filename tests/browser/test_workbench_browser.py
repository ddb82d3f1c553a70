"""The auditor in the browser: states a purpose, finds a case by the applicant's name, reads its story with
the changes and the views; axe finds no serious violation on any workbench page."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_accessibility import violations
from tests.support import pb
from tests.support.browser import log_in
from tests.support.cases import CaseDriver

pytestmark = pytest.mark.browser


def test_auditor_states_a_purpose_finds_a_case_by_name_and_reads_its_story(page, live_engine) -> None:  # type: ignore[no-untyped-def]
    case = CaseDriver(live_engine, pb.PROCESS, business_key="07402//0097777")
    pb.walk_to_completeness_check(live_engine, live_engine.actor("egs"), case.instance_id)
    live_engine.case_view(live_engine.actor("lsb"), case.instance_id)

    log_in(page, "audit")
    assert page.get_by_role("heading", name="Zweck der Einsicht").is_visible()
    page.get_by_label("Zweck").select_option(label="Auskunftsersuchen nach Art. 15 DSGVO")
    page.get_by_label("Aktenzeichen oder Bezug").fill("DS-2026-41")
    page.get_by_role("button", name="Zweck festhalten").click()
    page.wait_for_url(re.compile(r"/revision/vorgaenge$"))
    assert "Aktenzeichen DS-2026-41" in page.locator(".zweck").inner_text()

    page.get_by_label("Name Antragsteller/in").fill("Probstfeld")
    page.get_by_role("button", name="Suchen").click()
    row = page.get_by_role("row").filter(has_text="07402//0097777")
    assert "Probstfeld, Jana" in row.inner_text()
    row.get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/revision/vorgaenge/{case.instance_id}$"))

    story = page.locator("table.verlauf").inner_text()
    assert "Vorgang gestartet" in story and "Schritt abgeschlossen" in story and "Vorgang angesehen" in story
    assert "→" in story, "completions show their changes old → new"
    assert "LSB 56.4" in story, "the LSB view, with the viewer's group at the time"
    assert page.get_by_text("Die Kette ist vollständig und unverändert").is_visible()
    page.wait_for_selector("#diagramm[data-geladen='ja']")
    assert page.console_problems == []  # type: ignore[attr-defined]


def test_workbench_pages_have_no_serious_violations(browser, live_server, live_engine) -> None:  # type: ignore[no-untyped-def]
    case = CaseDriver(live_engine, pb.PROCESS, business_key="07402//0097778")
    pb.walk_to_completeness_check(live_engine, live_engine.actor("egs"), case.instance_id)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE", base_url=live_server,
                                  bypass_csp=True)  # fmt: skip
    page = context.new_page()
    log_in(page, "audit")
    found = {"Zweck (leer)": violations(page)}
    page.evaluate("document.querySelector('form.formular').noValidate = true")  # past the browser's own check
    page.get_by_role("button", name="Zweck festhalten").click()
    assert page.get_by_role("alert").is_visible(), "refused by the server: the error summary is checked too"
    found["Zweck (Fehler)"] = violations(page)
    page.get_by_label("Zweck").select_option("pruefung")
    page.get_by_label("Aktenzeichen oder Bezug").fill("PA-2026/9")
    page.get_by_role("button", name="Zweck festhalten").click()
    page.wait_for_url(re.compile(r"/revision/vorgaenge$"))
    pages = {
        "Vorgänge": "/revision/vorgaenge?name=probst&von=32.13.2026",
        "Verlauf": f"/revision/vorgaenge/{case.instance_id}",
        "Tätigkeit": "/revision/taetigkeit?person=egs",
        "Zugriffe": "/revision/antragsteller?name=Probstfeld",
        "Systemprotokoll": "/revision/system",
    }
    for title, path in pages.items():
        page.goto(path)
        if title == "Verlauf":
            page.wait_for_selector("#diagramm[data-geladen='ja']")
        found[title] = violations(page)
    context.close()
    assert found == {title: [] for title in found}
