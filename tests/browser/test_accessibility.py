"""axe-core (from npm) finds no serious or critical accessibility violations on the main pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import pb
from tests.support.browser import log_in
from tests.support.cases import CaseDriver

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def axe_page(browser, live_server: str):  # type: ignore[no-untyped-def]
    # axe is injected by the test, not served by the app: bypass the CSP for this context only.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="de-DE", base_url=live_server,
                                  bypass_csp=True)  # fmt: skip
    yield context.new_page()
    context.close()


def violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    if not AXE.exists():
        pytest.fail("node_modules/axe-core fehlt: 'make test' installiert es über npm")
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    return [f"{v['id']} ({v['impact']}): {json.dumps([n['target'] for n in v['nodes']])}" for v in serious]


@pytest.mark.parametrize("width", [1280, 800])
def test_inbox_task_and_case_pages_have_no_serious_violations(axe_page, live_engine, width: int) -> None:  # type: ignore[no-untyped-def]
    case = CaseDriver(live_engine, pb.PROCESS)
    case.complete("Besucher anmelden und Anliegen erfassen", pb.anmeldung())
    task = case.task("Antrag annehmen und Identität prüfen")
    axe_page.set_viewport_size({"width": width, "height": 1000})
    log_in(axe_page, "egs")
    pages = {
        "Anmeldung": "/anmelden",
        "Aufgaben": "/",
        "Aufgabe": f"/aufgaben/{task.task_uuid}",
        "Vorgang": f"/vorgaenge/{case.instance_id}",
        "Neuer Vorgang": "/vorgaenge/neu",
        "Sammellisten": "/sammellisten",
    }
    found = {}
    for title, path in pages.items():
        axe_page.goto(path)
        if path.startswith("/vorgaenge/") and path != "/vorgaenge/neu":
            axe_page.wait_for_selector("#diagramm[data-geladen='ja']")
        found[title] = violations(axe_page)
    assert found == {title: [] for title in pages}


def test_form_with_errors_has_no_serious_violations(axe_page, live_engine) -> None:  # type: ignore[no-untyped-def]
    case = CaseDriver(live_engine, pb.PROCESS)
    task = case.task("Besucher anmelden und Anliegen erfassen")
    log_in(axe_page, "egs")
    axe_page.goto(f"/aufgaben/{task.task_uuid}")
    axe_page.get_by_role("button", name="Abschließen").click()
    assert axe_page.locator(".fehlerbox").count() == 1
    assert violations(axe_page) == []
