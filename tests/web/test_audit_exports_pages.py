"""The audit function's process view and event-log downloads on the web; CSV hygiene on every CSV route."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa
from lxml import etree

from engine import clock, exports
from engine.api import Engine
from engine.models import AuditEvent, PaymentListEntry
from tests.support import pb
from tests.support.event_log import main_path_case, xes_schema
from tests.support.web import csrf_token

OTHERS = ("egs", "lsb", "ifk", "tl", "fdl", "fb50", "modeller")


def test_audit_downloads_a_streamed_xes_that_validates(client_for, deployed: Engine) -> None:
    main_path_case(deployed)
    response = client_for("audit").get(f"/export/audit-xes?prozess={pb.PROCESS}&status=completed")
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Disposition"] == 'attachment; filename="ereignisprotokoll.xes"'
    document = etree.fromstring(response.get_data())
    assert xes_schema().validate(document)
    assert len(document.findall("trace")) == 1
    with deployed.db.reading() as session:
        record = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export")).one()
    assert record.details["parameters"] == {"prozess": pb.PROCESS, "status": "completed"}


def test_an_export_in_a_sitting_is_recorded_with_its_purpose(client_for, deployed: Engine) -> None:
    auditor = client_for("audit")
    token = csrf_token(auditor.get("/revision/zweck").get_data(as_text=True))
    stated = auditor.post("/revision/zweck", data={"csrf_token": token, "zweck": "vorfall", "aktenzeichen": "DSV-7"})
    assert stated.status_code == 302
    assert auditor.get(f"/export/audit-csv?prozess={pb.PROCESS}").status_code == 200
    with deployed.db.reading() as session:
        record = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export")).one()
    assert (record.details["zweck"], record.details["aktenzeichen"]) == ("vorfall", "DSV-7")


def test_audit_csv_download_is_for_german_spreadsheets(client_for, deployed: Engine) -> None:
    main_path_case(deployed)
    response = client_for("audit").get(f"/export/audit-csv?prozess={pb.PROCESS}")
    assert response.is_streamed and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode()) and b";" in raw.splitlines()[0]
    assert raw.decode("utf-8").count("\n") == 31


@pytest.mark.parametrize("username", OTHERS)
def test_nobody_but_audit_reaches_the_process_view_or_the_event_log(client_for, username: str) -> None:
    client = client_for(username)
    assert client.get("/revision/prozessansicht").status_code == 403
    for name in ("audit-csv", "audit-xes"):
        assert client.get(f"/export/{name}").status_code == 403
    assert "Prozessansicht" not in client.get("/").get_data(as_text=True)


def test_the_process_view_page_shows_figures_links_and_refuses_bad_filters(client_for, deployed: Engine) -> None:
    main_path_case(deployed)
    client = client_for("audit")
    html = client.get("/").get_data(as_text=True)
    assert 'href="/revision/prozessansicht"' in html
    page = client.get(f"/revision/prozessansicht?prozess={pb.PROCESS}&standort=56.4")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<strong>1</strong> Vorgang passt zum Filter." in html
    assert f"/export/audit-xes?prozess={pb.PROCESS}&amp;standort=56.4" in html
    assert 'data-element="Task_Anmeldung"><th scope="row">' + pb.ANMELDEN in html
    bad = client.get(f"/revision/prozessansicht?prozess={pb.PROCESS}&status=offen&version=x")
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "Bitte einen dieser Status angeben" in text and "Bitte eine Versionsnummer" in text


def hostile_data(engine: Engine) -> None:
    """A payment recipient and a business key that a spreadsheet would run as formulas."""
    with engine.db.transaction() as session:
        session.add(PaymentListEntry(site="56.4", measure_type="EGZ", pay_month="2025-05", recipient="=1+1",
                                     amount_cents=-100, instance_id=None, business_key="@SUMME(A1)",
                                     approved_by="egs", created_at=clock.now()))  # fmt: skip
    engine.start_case(engine.actor("egs"), pb.PROCESS, site="56.4", business_key='=HYPERLINK("http://x")')
    task = engine.inbox(engine.actor("egs"))[0]
    engine.claim(engine.actor("egs"), task.task_uuid)


# Every CSV export of the registry, with a user who may fetch it and parameters that list the hostile data.
CSV_ROUTES = {
    "sammelliste": ("egs", "standort=56.4&art=EGZ&monat=2025-05"),
    "raci": ("modeller", ""),
    "audit-csv": ("audit", ""),
    "personallage": ("fdl", "standort=56.4"),
    "umsetzungen": ("fdl", "standort=56.4&monat=2026-12"),
}


def test_every_csv_route_neutralises_formulas(client_for, deployed: Engine) -> None:
    csv_exports = {name for name, found in exports.REGISTRY.items() if not name.endswith("xes")}
    assert csv_exports == set(CSV_ROUTES), "a new CSV export: add it here"
    hostile_data(deployed)
    for name, (username, query) in CSV_ROUTES.items():
        response = client_for(username).get(f"/export/{name}?{query}")
        assert response.status_code == 200, name
        text = response.get_data(as_text=True)
        assert text.startswith("\ufeff"), name
        cells = [cell for row in csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";") for cell in row]
        assert not [cell for cell in cells if cell.startswith(exports.FORMULA_STARTS)], name
    sammelliste = client_for("egs").get(f"/export/sammelliste?{CSV_ROUTES['sammelliste'][1]}").get_data(as_text=True)
    assert "'=1+1" in sammelliste and "'@SUMME(A1)" in sammelliste and "'-1,00" in sammelliste
    audit_csv = client_for("audit").get("/export/audit-csv").get_data(as_text=True)
    assert "'=HYPERLINK" in audit_csv
