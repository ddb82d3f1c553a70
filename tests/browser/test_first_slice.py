"""A clerk in a real browser: log in, start a case, fix a form error, complete the step, see the case."""

from __future__ import annotations

import re

import pytest

from engine import clock
from tests.support.browser import log_in

pytestmark = pytest.mark.browser


def test_clerk_starts_a_case_fixes_an_error_and_completes_the_step(page) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "egs")
    page.get_by_role("link", name="Neuer Vorgang").first.click()
    page.get_by_label("Prozess").select_option("pb_antragsannahme")
    page.get_by_role("button", name=re.compile("starten", re.I)).click()
    page.wait_for_url(re.compile(r"/aufgaben/"))
    assert page.locator("h1").inner_text() == "Besucher anmelden und Anliegen erfassen"

    page.get_by_label("Vorname").fill("Jana")
    page.get_by_label("Geburtsdatum").fill("31.02.1990")  # no such day
    page.get_by_label("Erstantrag").check()
    page.get_by_role("button", name="Abschließen").click()

    nachname = page.get_by_label("Nachname")
    assert nachname.get_attribute("aria-invalid") == "true"
    assert "Pflichtfeld – bitte ausfüllen." in page.locator("#feld-nachname-fehler").inner_text()
    assert "Den 31.02.1990 gibt es nicht" in page.locator("#feld-geburtsdatum-fehler").inner_text()
    assert page.get_by_label("Vorname").input_value() == "Jana", "entered values are kept"

    nachname.fill("Probstfeld")
    page.get_by_label("Geburtsdatum").fill("12.04.1988")
    page.get_by_role("button", name="Abschließen").click()
    page.wait_for_url(re.compile(r"/aufgaben/weiter/\d+$"))
    assert page.get_by_text("Schritt abgeschlossen").is_visible()
    page.get_by_role("link", name="Zur Aufgabenliste").click()

    row = page.get_by_role("row", name=re.compile("Antrag annehmen und Identität prüfen"))
    assert "Probstfeld, Jana" in row.inner_text()
    row.get_by_role("link", name=re.compile("VG-")).click()
    page.wait_for_url(re.compile(r"/vorgaenge/\d+"))
    body = page.locator("main").inner_text()
    assert clock.today_berlin().strftime("%d.%m.%Y") in body, "Tag der Antragstellung as TT.MM.JJJJ"
    assert "Besucher anmelden und Anliegen erfassen" in body
    assert page.console_problems == [], "no CSP violations or script errors"


def test_case_page_shows_the_diagram_with_the_path(page, live_engine) -> None:  # type: ignore[no-untyped-def]
    from tests.support import pb
    from tests.support.cases import CaseDriver

    case = CaseDriver(live_engine, "pb_antragsannahme")
    case.complete("Besucher anmelden und Anliegen erfassen", pb.anmeldung())
    log_in(page, "egs")
    page.goto(f"/vorgaenge/{case.instance_id}")
    page.wait_for_selector("#diagramm[data-geladen='ja']")
    done = page.locator(".pfad-erledigt[data-element-id='Task_Anmeldung']")
    current = page.locator(".pfad-aktuell[data-element-id='Task_Antragsannahme']")
    taken = page.locator(".pfad-genommen[data-element-id]")
    assert done.count() == 1 and current.count() == 1
    assert taken.count() >= 2, "the flows from the start to the current step are marked"
    assert page.locator(".pfad-erledigt[data-element-id='Task_Vollstaendigkeit']").count() == 0
    assert page.console_problems == [], "bpmn-js runs under the strict CSP without violations"
