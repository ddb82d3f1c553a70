"""A clerk in a real browser: continue with the next task, Back after completing, unsaved input."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import log_in

pytestmark = pytest.mark.browser

ANNAHME = "Antrag annehmen und Identität prüfen"


def _start(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("link", name="Neuer Vorgang").first.click()
    page.get_by_label("Prozess").select_option("pb_antragsannahme")
    page.get_by_role("button", name=re.compile("starten", re.I)).click()
    page.wait_for_url(re.compile(r"/aufgaben/[0-9a-f-]{36}$"))


def _fill_anmeldung(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Vorname").fill("Jana")
    page.get_by_label("Nachname").fill("Probstfeld")
    page.get_by_label("Geburtsdatum").fill("12.04.1988")
    page.get_by_label("Erstantrag").check()


def test_clerk_continues_with_the_next_task(page) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "egs")
    _start(page)
    assert page.get_by_text("Mit „Abschließen“ übernehmen Sie die Aufgabe.").is_visible()
    _fill_anmeldung(page)
    page.get_by_role("button", name="Abschließen").click()

    page.wait_for_url(re.compile(r"/aufgaben/weiter/\d+$"))
    expect(page.get_by_text("mit dem Abschließen haben Sie sie übernommen")).to_be_visible()
    page.get_by_role("button", name=f"Weiter mit: {ANNAHME}").click()

    page.wait_for_url(re.compile(r"/aufgaben/[0-9a-f-]{36}$"))
    expect(page.locator("h1")).to_have_text(ANNAHME)
    expect(page.get_by_text("Sie bearbeiten diese Aufgabe.")).to_be_visible()  # claimed by the click
    assert page.console_problems == []


def test_back_button_after_completing_leads_to_the_case(page) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "egs")
    _start(page)
    task_url = page.url
    page.get_by_label("Vorname").fill("Jana")
    page.get_by_role("button", name="Abschließen").click()  # refused: required fields missing
    page.wait_for_selector(".fehlerbox, #feld-nachname-fehler")
    _fill_anmeldung(page)
    page.get_by_role("button", name="Abschließen").click()
    page.wait_for_url(re.compile(r"/aufgaben/weiter/\d+$"))

    page.go_back()  # to the page that showed the errors: loaded again, not the browser's resubmission page

    page.wait_for_url(re.compile(r"/vorgaenge/\d+$"))
    expect(page.get_by_text("Diese Aufgabe ist bereits erledigt")).to_be_visible()
    assert page.locator("h1").inner_text().startswith("Vorgang ")
    page.go_back()  # the task page from before the errors
    page.wait_for_url(re.compile(r"/vorgaenge/\d+$"))
    history = page.locator("table.verlauf").inner_text()
    assert "Konflikt" not in history
    assert task_url not in page.content()
    assert page.console_problems == []


def test_leaving_a_form_with_unsaved_input_warns(page) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "egs")
    _start(page)
    dialogs: list[str] = []

    def answer(dialog) -> None:  # type: ignore[no-untyped-def]
        dialogs.append(dialog.type)
        dialog.dismiss()  # stay on the page

    page.on("dialog", answer)
    page.get_by_role("link", name="Zurück zur Aufgabenliste").click()
    page.wait_for_url(re.compile(r"/$"))
    assert dialogs == [], "nothing typed: no warning"

    page.go_back()
    page.wait_for_url(re.compile(r"/aufgaben/"))
    page.get_by_label("Vorname").click()
    page.keyboard.type("Jana")
    page.get_by_role("link", name="Zurück zur Aufgabenliste").click()
    page.wait_for_timeout(300)
    assert dialogs == ["beforeunload"]
    assert re.search(r"/aufgaben/[0-9a-f-]{36}$", page.url), "the clerk stayed on the form"

    _fill_anmeldung(page)
    page.get_by_role("button", name="Abschließen").click()  # sending the form is no reason to warn
    page.wait_for_url(re.compile(r"/aufgaben/weiter/\d+$"))
    assert dialogs == ["beforeunload"]
