"""Reports in the web app: Sammelliste (printable, CSV, audited export), staffing shares, RACI matrix."""

from __future__ import annotations

import sqlalchemy as sa

from engine import clock
from engine.api import Engine
from engine.models import AuditEvent, PaymentListEntry


def add_entries(engine: Engine) -> None:
    with engine.db.transaction() as session:
        entries = (
            ("Bäckerei Kornblume GmbH", 125040, "56.4"),
            ("Autohaus Ahorn KG", 99900, "56.4"),
            ("Anderswo GmbH", 100, "56.5"),
        )
        for recipient, cents, site in entries:
            session.add(
                PaymentListEntry(
                    site=site,
                    measure_type="EGZ",
                    pay_month="2025-05",
                    recipient=recipient,
                    amount_cents=cents,
                    instance_id=None,
                    business_key="VG-2025-000001",
                    approved_by="egs2",
                    created_at=clock.now(),
                )  # fmt: skip
            )


def test_sammelliste_page_csv_and_audit(client_for, deployed: Engine) -> None:
    add_entries(deployed)
    egs = client_for("egs")
    page = egs.get("/sammellisten?standort=56.4&art=EGZ&monat=2025-05")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Sammelliste Eingliederungszuschuss (EGZ) – Zahlmonat 05/2025 – Standort 56.4" in html
    assert "2 Zahlung(en), Summe 2\u202f249,40 €" in html
    assert "Anderswo" not in html, "other sites' payments are not on this list"
    csv = egs.get("/export/sammelliste?standort=56.4&art=EGZ&monat=2025-05")
    assert csv.headers["Content-Type"] == "text/csv; charset=utf-8", "one charset, not two"
    assert csv.headers["Content-Disposition"] == 'attachment; filename="sammelliste_EGZ_2025-05_56.4.csv"'
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "Standort;Maßnahmeart;Zahlmonat;Vorgang;Zahlungsempfänger;Betrag (EUR);bewilligt von"
    assert "56.4;EGZ;2025-05;VG-2025-000001;Autohaus Ahorn KG;999,00;egs2" in lines
    assert lines[-1] == ";;;;Summe;2249,40;"
    with deployed.db.reading() as session:
        exports = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export")).all()
    parameters = {"standort": "56.4", "art": "EGZ", "monat": "2025-05"}
    seen = [
        (e.actor, e.details["export"], e.details["parameters"], e.details["rows"], e.details["format"]) for e in exports
    ]
    assert seen == [("egs", "sammelliste", parameters, 2, "html"), ("egs", "sammelliste", parameters, 2, "csv")]


def test_sammelliste_of_another_site_or_group_is_refused(client_for, deployed: Engine) -> None:
    assert client_for("egs").get("/sammellisten?standort=56.5&art=EGZ&monat=2025-05").status_code == 403
    assert client_for("lsb").get("/sammellisten?standort=56.4&art=EGZ&monat=2025-05").status_code == 403
    bad = client_for("egs").get("/sammellisten?standort=56.4&art=ABM&monat=Mai")
    assert bad.status_code == 422
    assert "Bitte den Monat als JJJJ-MM angeben." in bad.get_data(as_text=True)


def test_staffing_page_shows_the_inconsistent_sum(client_for) -> None:
    html = client_for("tl").get("/personalbemessung").get_data(as_text=True)
    assert "Warnung:" in html and "= 1,15 statt 1,00" in html
    assert "Neuantragsbearbeitung" in html and "0,55" in html


def test_raci_page_and_csv(client_for) -> None:
    client = client_for("modeller")
    html = client.get("/raci").get_data(as_text=True)
    assert "Vollständigkeit prüfen" in html and "Durchführender" in html
    response = client.get("/export/raci")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    csv = response.get_data(as_text=True).lstrip("\ufeff")
    assert csv.splitlines()[0] == "Prozess;Version;Schritt;Art;Durchführende Einheit;Rolle des EGS"


def test_payment_lists_are_offered_only_where_they_may_be_read(client_for) -> None:
    assert 'href="/sammellisten"' not in client_for("lsb").get("/").get_data(as_text=True)
    assert 'href="/sammellisten"' in client_for("egs").get("/").get_data(as_text=True)
    page = client_for("egs").get("/sammellisten").get_data(as_text=True)
    assert '<option value="56.4" selected>' in page and 'value="56.5"' not in page, "only the clerk's own sites"


def test_unknown_or_refused_exports(client_for, deployed: Engine) -> None:
    egs = client_for("egs")
    assert egs.get("/export/gibt_es_nicht").status_code == 404
    assert egs.get("/export/raci?unbekannt=1").status_code == 422
    assert client_for("lsb").get("/export/sammelliste?standort=56.4&art=EGZ&monat=2025-05").status_code == 403
    with deployed.db.reading() as session:
        refused = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "access_denied")).all()
    assert [(e.actor, e.details["operation"]) for e in refused] == [("lsb", "export:sammelliste")]
