"""The auditor's walk of issue 12, "Done when", in one browser session on the demo data: purpose, a case found
by the applicant's name, its story with changes and a clerk's view, the filtered set as CSV and as XES (valid
against the IEEE schema), a changed and a cut-off trail named on the page *Prüfung*, and a case past its
retention period that is gone but for its deletion record. axe checks every page on the way."""

from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa
from lxml import etree

from engine import clock
from engine.auth import system_actor
from engine.demo import create_demo_cases
from engine.models import AuditEvent, ProcessInstance
from tests.browser.test_accessibility import axe_page, violations  # noqa: F401  (fixture)
from tests.support.browser import log_in
from tests.support.event_log import xes_schema
from tests.support.records import audit_events
from tests.support.tampering import bypassing_guards, case_events, global_events
from tests.test_retention import LATER, ended_case

pytestmark = pytest.mark.browser

SYSTEM = system_actor("test")
PROBSTFELD = "07402//0090002"  # demo case: Jana Probstfeld, registered by egs


def checked(page, found: dict[str, list[str]], title: str) -> None:  # type: ignore[no-untyped-def]
    """Run axe on the page as it is now and keep its serious violations under ``title``."""
    found[title] = violations(page)


def test_the_auditor_walks_from_purpose_to_retention(axe_page, browser, live_server, live_engine) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    create_demo_cases(live_engine)
    with live_engine.db.reading() as session:
        case_id = session.scalar(sa.select(ProcessInstance.id).where(ProcessInstance.business_key == PROBSTFELD))
    gone = ended_case(live_engine, "Tamara Ellerbrock")  # a Postausgang case that ended: retention takes it
    found: dict[str, list[str]] = {}

    # A clerk opens the case; the auditor will see that view in its story.
    clerk = browser.new_context(locale="de-DE", base_url=live_server).new_page()
    log_in(clerk, "egs")
    clerk.goto(f"/vorgaenge/{case_id}")
    assert "Probstfeld" in clerk.locator("main").inner_text()
    clerk.context.close()

    page = axe_page
    log_in(page, "audit")
    assert page.get_by_role("heading", name="Zweck der Einsicht").is_visible()
    checked(page, found, "Zweck")
    page.get_by_label("Zweck").select_option(label="Auskunftsersuchen nach Art. 15 DSGVO")
    page.get_by_label("Aktenzeichen oder Bezug").fill("DS-2026-77")
    page.get_by_role("button", name="Zweck festhalten").click()
    page.wait_for_url(re.compile(r"/revision/vorgaenge$"))

    # Find the case by the applicant's name and read its story.
    page.get_by_label("Name Antragsteller/in").fill("probstfeld")
    page.get_by_role("button", name="Suchen").click()
    row = page.get_by_role("row").filter(has_text=PROBSTFELD)
    assert "Probstfeld, Jana" in row.inner_text()
    checked(page, found, "Vorgänge")
    row.get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/revision/vorgaenge/{case_id}$"))
    page.wait_for_selector("#diagramm[data-geladen='ja']")
    entries = page.locator("table.verlauf tbody tr").all_inner_texts()
    started = [e for e in entries if "Vorgang gestartet" in e]
    completed = [e for e in entries if "Schritt abgeschlossen" in e]
    viewed = [e for e in entries if "Vorgang angesehen" in e and "Erika Empfang" in e]
    assert started and completed and viewed, entries
    assert "EGS 56.4" in viewed[0], "the clerk's group at the time of the view"
    assert "Probstfeld" in completed[0] and "→" in completed[0], "the change old → new"
    assert page.get_by_text("Die Kette ist vollständig und unverändert").is_visible()
    checked(page, found, "Verlauf")

    # The filtered set as CSV and as XES, from the process view with the same filter.
    page.get_by_role("link", name="Prozessansicht").click()
    page.get_by_label("Prozess").select_option("pb_antragsannahme")
    page.get_by_label("Standort").select_option("56.4")
    page.get_by_role("button", name="Anzeigen").click()
    page.wait_for_url(re.compile(r"standort=56\.4"))
    checked(page, found, "Prozessansicht")
    with page.expect_download() as download:
        page.get_by_role("link", name="Ereignisprotokoll als CSV").click()
    raw = download.value.path().read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM for German spreadsheets"
    rows = list(csv.reader(io.StringIO(raw[3:].decode("utf-8")), delimiter=";"))
    assert len(rows[0]) > 3 and any(PROBSTFELD in cell for row in rows[1:] for cell in row), rows[:3]
    assert "Probstfeld" not in raw.decode("utf-8"), "names stay out of the event log"
    with page.expect_download() as download:
        page.get_by_role("link", name="Ereignisprotokoll als XES (Process Mining)").click()
    document = etree.parse(download.value.path())
    schema = xes_schema()
    assert schema.validate(document), schema.error_log
    names = [s.get("value") for t in document.iter("trace") for s in t.iter("string") if s.get("key") == "concept:name"]
    assert PROBSTFELD in names, names[:5]
    exported = [e for e in audit_events(live_engine, "export") if e.details["export"].startswith("audit-")]
    assert [(e.details["export"], e.details["zweck"], e.details["aktenzeichen"]) for e in exported] == [
        ("audit-csv", "auskunft", "DS-2026-77"),
        ("audit-xes", "auskunft", "DS-2026-77"),
    ], "each download recorded with the purpose of the sitting"

    page.get_by_role("link", name="Prüfung").click()
    assert "kein Anker" in page.locator("#letzter-anker").inner_text(), "anchoring never ran: said at once"
    checked(page, found, "Prüfung (ohne Anker)")

    # Someone with database rights changes an event of the case and cuts the newest global events off
    # after they were anchored.
    written = live_engine.anchor_audit(SYSTEM)
    changed = [e for e in case_events(live_engine, case_id) if e.action == "complete"][0]
    cut = global_events(live_engine)[-2:]
    with bypassing_guards(live_engine) as session:
        session.execute(sa.update(AuditEvent).where(AuditEvent.id == changed.id).values(actor="mallory"))
        session.execute(sa.delete(AuditEvent).where(AuditEvent.id.in_([e.id for e in cut])))
    page.get_by_role("link", name="Prüfung").click()
    page.get_by_label("Gesamter Audit-Trail (alle Ketten und Anker)").check()
    page.get_by_role("button", name="Prüfen").click()
    assert "nicht unversehrt" in page.get_by_role("alert").inner_text()
    table = page.get_by_role("table", name="Befunde: je Kette das erste Ereignis, das nicht passt")
    findings = table.locator("tbody tr").all_inner_texts()
    assert any(f"Vorgang {case_id}" in f and f"Nr. {changed.id}" in f and "verändert" in f for f in findings), findings
    anchored = [e.id for e in cut if e.id <= written.up_to][-1]  # the newest global event the anchor names
    assert any("Globale Kette" in f and f"Nr. {anchored}" in f and "verankert am" in f for f in findings), findings
    checked(page, found, "Prüfung")
    page.goto(f"/revision/vorgaenge/{case_id}")
    assert f"Ereignis {changed.id}" in page.get_by_role("alert").inner_text()

    # Past its retention period the ended case keeps only its deletion record.
    page.goto("/revision/vorgaenge?name=Ellerbrock")
    assert page.get_by_role("row").filter(has_text="Tamara").count() == 1
    assert live_engine.run_retention(SYSTEM, clock.now() + LATER) == 1
    page.goto("/revision/vorgaenge?name=Ellerbrock")
    assert page.get_by_text("Kein Vorgang gefunden").is_visible()
    page.get_by_label("Vorgangsnummer oder Geschäftszeichen").fill(str(gone.instance_id))
    page.get_by_label("Name Antragsteller/in").fill("")
    page.get_by_role("button", name="Suchen").click()
    row = page.get_by_role("row").filter(has_text="gelöscht")
    assert row.count() == 1 and "Ellerbrock" not in row.inner_text()
    row.get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/revision/vorgaenge/{gone.instance_id}$"))
    story = page.locator("main").inner_text()
    assert "Personenbezogene Daten nach Ablauf der Aufbewahrungsfrist gelöscht" in story
    assert "Ellerbrock" not in story
    assert page.get_by_text("Die Kette ist vollständig und unverändert").is_visible()
    checked(page, found, "Verlauf (gelöscht)")
    assert found == {title: [] for title in found}
