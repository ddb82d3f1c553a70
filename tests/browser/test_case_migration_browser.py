"""A process owner dry-runs and moves an older PB Antragsannahme case to the version that renamed its open task."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import violations
from tests.support import pb
from tests.support.browser import log_in
from tests.support.cases import CaseDriver
from tests.support.records import case_row

pytestmark = pytest.mark.browser

RENAMED = "Antrag annehmen und Identität sorgfältig prüfen"


@pytest.fixture
def axe_tab(browser, live_server: str):  # type: ignore[no-untyped-def]
    """As ``axe_page`` in test_accessibility: axe is injected by the test, so the CSP is bypassed here only."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="de-DE", base_url=live_server,
                                  bypass_csp=True)  # fmt: skip
    yield context.new_page()
    context.close()


def _older_case_and_new_version(engine) -> CaseDriver:  # type: ignore[no-untyped-def]
    """A case waiting at "Antrag annehmen …" on version 1; version 2 gives that task a new id and name."""
    older = CaseDriver(engine, pb.PROCESS)
    older.complete(pb.ANMELDEN, pb.anmeldung())
    owner = engine.actor("modeller")
    draft = engine.create_model_draft(owner, pb.PROCESS)
    xml = draft.xml.replace("Task_Antragsannahme", "Task_Antrag_Annehmen").replace(pb.ANNEHMEN, RENAMED)
    saved = engine.save_model_draft(owner, draft.id, draft.lock_version, xml=xml)
    engine.deploy_model_draft(owner, draft.id, saved.lock_version, "Schritt neu benannt")
    return older


def test_a_process_owner_dry_runs_and_moves_an_older_case(page, live_engine) -> None:  # type: ignore[no-untyped-def]
    older = _older_case_and_new_version(live_engine)
    log_in(page, "modeller")
    page.get_by_role("link", name=re.compile(r"^Vorgänge umziehen\W+PB – Antragsannahme")).click()
    expect(page.get_by_label("Von Version")).to_have_value("1")
    expect(page.get_by_label("Auf Version")).to_have_value("2")
    page.get_by_role("button", name="Probelauf starten").click()

    row = page.get_by_role("row", name=re.compile(older.header.business_key or ""))
    expect(row).to_contain_text("braucht eine Zuordnung")
    mapping = page.get_by_label(f"„{pb.ANNEHMEN}“ wird zu")
    expect(mapping).to_have_value("")  # the suggestion is offered, never preselected
    expect(mapping.locator("option", has_text="(Vorschlag)")).to_have_text(f"{RENAMED} (Vorschlag)")
    mapping.select_option("Task_Antrag_Annehmen")
    page.get_by_role("button", name="Zuordnungen prüfen").click()
    expect(row).to_contain_text("kann umziehen")
    expect(page.get_by_label(f"{older.header.business_key} umziehen")).to_be_checked()

    page.get_by_role("button", name="Ausgewählte Vorgänge umziehen").click()
    expect(page.get_by_role("status").last).to_contain_text("1 von 1 Vorgängen umgezogen")
    expect(page.get_by_role("table")).to_contain_text("umgezogen auf Version 2")
    assert older.open_task_names() == [RENAMED]
    assert case_row(live_engine, older.instance_id).lock_version > 0
    assert page.console_problems == []  # type: ignore[attr-defined]


def test_the_migration_pages_have_no_serious_violations(axe_tab, live_engine) -> None:  # type: ignore[no-untyped-def]
    older = _older_case_and_new_version(live_engine)
    log_in(axe_tab, "modeller")
    found = {}
    axe_tab.goto(f"/modelle/{pb.PROCESS}/umzug")
    found["Versionen wählen"] = violations(axe_tab)
    axe_tab.get_by_role("button", name="Probelauf starten").click()
    axe_tab.wait_for_url(re.compile(r"/probelauf"))
    found["Probelauf"] = violations(axe_tab)
    axe_tab.get_by_label(f"„{pb.ANNEHMEN}“ wird zu").select_option("Task_Antrag_Annehmen")
    axe_tab.get_by_label(f"{older.header.business_key} umziehen").check()
    axe_tab.get_by_role("button", name="Ausgewählte Vorgänge umziehen").click()
    axe_tab.wait_for_url(re.compile(r"/umziehen$"))
    found["Ergebnis"] = violations(axe_tab)
    assert found == {"Versionen wählen": [], "Probelauf": [], "Ergebnis": []}
