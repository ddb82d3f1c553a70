"""A clerk in a real browser enters implausible data: the German message stands at the field, tied to it for
screen readers, and the corrected form goes through."""

from __future__ import annotations

import re

import pytest

from tests.support import pb
from tests.support.browser import log_in
from tests.support.cases import CaseDriver

pytestmark = pytest.mark.browser


def test_bedarfsgemeinschaft_mit_mehr_kindern_als_personen_zeigt_die_meldung_am_feld(page, live_engine) -> None:  # type: ignore[no-untyped-def]
    case = CaseDriver(live_engine, pb.PROCESS)
    case.complete(pb.ANMELDEN, pb.anmeldung())
    case.complete(pb.ANNEHMEN, pb.ANTRAGSANNAHME)
    log_in(page, "egs")
    task_path = f"/aufgaben/{case.task(pb.BG_ERFASSEN).task_uuid}"
    page.goto(task_path)

    personen = page.get_by_label(re.compile("^Personen in der Bedarfsgemeinschaft"))
    personen.fill("1")
    page.get_by_label(re.compile("^Antragsteller/in")).check()
    page.get_by_label(re.compile("^Kind\\(er\\) unter 15")).check()
    page.get_by_label(re.compile("^Erwerbsfähige")).fill("1")
    page.get_by_label(re.compile("^Kinder unter 15")).fill("2")
    page.get_by_label(re.compile("^Kinder von 15 bis 24")).fill("0")
    page.get_by_label(re.compile("^Weitere Personen im Haushalt")).fill("0")
    page.get_by_role("button", name="Abschließen").click()

    message = page.locator("#feld-anzahl_personen_bg-fehler")
    assert message.is_visible()
    assert "mehr Mitglieder als hier Personen angegeben" in message.inner_text()
    assert personen.get_attribute("aria-invalid") == "true"
    assert "feld-anzahl_personen_bg-fehler" in (personen.get_attribute("aria-describedby") or "").split()
    summary = page.get_by_role("alert")
    summary.get_by_role("link", name=re.compile("^Personen in der Bedarfsgemeinschaft")).click()
    assert page.evaluate("document.activeElement.id") == "feld-anzahl_personen_bg", "the summary leads to the field"

    personen.fill("3")
    page.get_by_role("button", name="Abschließen").click()
    page.wait_for_url(lambda url: not url.endswith(task_path))
    assert case.data["anzahl_personen_bg"] == 3
    assert page.console_problems == []


def test_vollstaendig_mit_fehlender_unterlage_zeigt_die_meldung_an_der_liste(page, live_engine) -> None:  # type: ignore[no-untyped-def]
    case = CaseDriver(live_engine, pb.PROCESS)
    pb.walk_to_completeness_check(live_engine, live_engine.actor("egs"), case.instance_id)
    log_in(page, "egs")
    task_path = f"/aufgaben/{case.task(pb.VOLLSTAENDIGKEIT_PRUEFEN).task_uuid}"
    page.goto(task_path)

    vollstaendig = page.get_by_label("Unterlagen vollständig", exact=True)
    assert vollstaendig.get_attribute("required") is None, "may stay unticked: no Pflichtfeld"
    vollstaendig.check()
    page.get_by_label("Kontoauszüge der letzten drei Monate").check()
    page.get_by_role("button", name="Abschließen").click()

    group = page.get_by_role("group", name=re.compile("^Fehlende Unterlagen"))
    message = group.locator("#feld-fehlende_unterlagen-fehler")
    assert message.is_visible() and "„Unterlagen vollständig“ ist angekreuzt" in message.inner_text()
    assert "feld-fehlende_unterlagen-fehler" in (group.get_attribute("aria-describedby") or "").split()

    page.get_by_label("Kontoauszüge der letzten drei Monate").uncheck()
    page.get_by_role("button", name="Abschließen").click()
    page.wait_for_url(lambda url: not url.endswith(task_path))
    assert case.data["fehlende_unterlagen"] == [] and case.data["unterlagen_vollstaendig"] is True
