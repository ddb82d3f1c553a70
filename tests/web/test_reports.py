"""Reports in the web app: Sammelliste (printable, CSV, audited export), staffing shares, RACI matrix."""

from __future__ import annotations

import sqlalchemy as sa

from engine import clock
from engine.api import Engine
from engine.models import AuditEvent, PaymentListEntry
from tests.support.users import PASSWORD
from tests.support.web import csrf_token


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
    assert lines[0] == "Standort;Maßnahmeart;Zahlmonat;Vorgang;Zahlungsempfänger;Betrag (EUR);bewilligt von;Storno"
    assert "56.4;EGZ;2025-05;VG-2025-000001;Autohaus Ahorn KG;999,00;egs2;" in lines
    assert lines[-1] == ";;;;Summe;2249,40;;"
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
    header = "Prozess;Version;Schritt;Art;Durchführende Einheit;Rolle des EGS;Aufgabenbereich (§ 6)"
    assert csv.splitlines()[0] == header
    assert "Neuantragsbearbeitung" in html, "the area of the VZÄ plan is shown per process"


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


def entry_id(engine: Engine, recipient: str) -> int:
    with engine.db.reading() as session:
        return session.scalars(sa.select(PaymentListEntry.id).where(PaymentListEntry.recipient == recipient)).one()


LIST = "/sammellisten?standort=56.4&art=EGZ&monat=2025-05"


def cancel(client, entry: int, step: str, grund: str | None = None):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf_token(client.get(LIST).get_data(as_text=True))}
    if grund is not None:
        data.update({"grund": grund, "standort": "56.4", "art": "EGZ", "monat": "2025-05"})
    return client.post(f"/sammellisten/zahlung/{entry}/storno/{step}", data=data)


def test_cancelling_a_payment_takes_two_people_and_stays_on_the_printed_list(
    client_for, deployed: Engine, make_user
) -> None:  # type: ignore[no-untyped-def]
    add_entries(deployed)
    make_user("egs_zwei", ("EGS", "56.4"))
    egs, zweite = client_for("egs"), client_for("egs_zwei", PASSWORD)
    ahorn = entry_id(deployed, "Autohaus Ahorn KG")

    missing = cancel(egs, ahorn, "beantragen", grund="  ")
    assert missing.status_code == 422
    html = missing.get_data(as_text=True)
    assert f'aria-describedby="grund-{ahorn}-fehler"' in html
    assert "Bitte den Grund der Stornierung angeben." in html

    asked = cancel(egs, ahorn, "beantragen", grund="Arbeitsverhältnis vor Beginn beendet")
    assert asked.status_code == 302
    html = egs.get(LIST).get_data(as_text=True)
    assert "Stornierung beantragt von egs: Arbeitsverhältnis vor Beginn beendet" in html
    assert "Stornierung bestätigen" not in html, "not offered to who asked (it would end on a 403)"
    assert "Bestätigen muss eine zweite Person (Vier-Augen-Prinzip)." in html
    assert "Stornierung bestätigen" in zweite.get(LIST).get_data(as_text=True)
    assert "2 Zahlung(en), Summe 2\u202f249,40 €" in html, "asked for, not yet cancelled: still paid"

    assert cancel(egs, ahorn, "bestaetigen").status_code == 403, "four-eyes: who asked does not confirm"
    assert cancel(zweite, ahorn, "bestaetigen").status_code == 302
    assert cancel(zweite, ahorn, "bestaetigen").status_code == 422, "cancelled once"

    html = egs.get(LIST).get_data(as_text=True)
    assert "1 Zahlung(en), Summe 1\u202f250,40 € (ohne 1 stornierte)" in html
    assert "<strong>Storniert</strong>: Arbeitsverhältnis vor Beginn beendet" in html
    assert "<del>999,00\u202f€</del>" in html or "<del>999,00 €</del>" in html
    lines = egs.get("/export/sammelliste?standort=56.4&art=EGZ&monat=2025-05").get_data(as_text=True).splitlines()
    assert lines[0].endswith(";bewilligt von;Storno")
    assert any(
        "Autohaus Ahorn KG;999,00;egs2;storniert: Arbeitsverhältnis vor Beginn beendet "
        "(beantragt von egs, bestätigt von egs_zwei)" in line
        for line in lines
    )
    assert lines[-1] == ";;;;Summe;1250,40;;ohne stornierte Zahlungen"

    with deployed.db.reading() as session:
        events = session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    trail = [
        (e.actor, e.action, (e.details or {}).get("operation"))
        for e in events
        if e.action.startswith("payment_cancel") or (e.details or {}).get("operation", "").startswith("payment_cancel")
    ]
    assert trail == [
        ("egs", "payment_cancel_requested", None),
        ("egs", "access_denied", "payment_cancel:bestaetigen"),
        ("egs_zwei", "payment_cancelled", None),
        ("egs_zwei", "rule_violation", "payment_cancel:bestaetigen"),
    ]


def test_a_cancellation_can_be_discarded_and_is_refused_to_others(client_for, deployed: Engine) -> None:
    add_entries(deployed)
    egs = client_for("egs")
    ahorn = entry_id(deployed, "Autohaus Ahorn KG")
    assert cancel(client_for("ifk"), ahorn, "beantragen", grund="x").status_code == 403, "IFK reads, EGS cancels"
    assert cancel(client_for("lsb"), ahorn, "beantragen", grund="x").status_code == 404, "not on the user's lists"
    other_site = entry_id(deployed, "Anderswo GmbH")
    assert cancel(egs, other_site, "beantragen", grund="x").status_code == 404
    assert cancel(egs, ahorn, "bestaetigen").status_code == 422, "nothing asked for"
    assert cancel(egs, ahorn, "gibt-es-nicht").status_code == 404
    no_token = egs.post(f"/sammellisten/zahlung/{ahorn}/storno/beantragen", data={"grund": "x"})
    assert no_token.status_code == 400, "CSRF"

    assert cancel(egs, ahorn, "beantragen", grund="Doppelt erfasst").status_code == 302
    assert cancel(egs, ahorn, "beantragen", grund="noch einmal").status_code == 422, "asked for once"
    assert cancel(egs, ahorn, "verwerfen").status_code == 302
    html = egs.get(LIST).get_data(as_text=True)
    assert "Stornierung beantragt" not in html and "2 Zahlung(en), Summe 2\u202f249,40 €" in html
    with deployed.db.reading() as session:
        kept = session.get(PaymentListEntry, ahorn)
        assert kept is not None and kept.cancel_requested_by is None and kept.cancelled_at is None
        actions = session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.action.like("payment_cancel%")).order_by(AuditEvent.id)
        ).all()
    assert actions == ["payment_cancel_requested", "payment_cancel_discarded"]


def test_a_cancellation_request_asks_on_the_printed_page_only_those_who_may(client_for, deployed: Engine) -> None:
    add_entries(deployed)
    assert "Stornierung beantragen" in client_for("egs").get(LIST).get_data(as_text=True)
    tl_page = client_for("tl").get(LIST).get_data(as_text=True)
    assert "Stornierung beantragen" not in tl_page and "Storno" in tl_page
