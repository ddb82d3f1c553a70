"""PB Antragsannahme walked end to end through the web client, as the clerks would do it."""

from __future__ import annotations

import re
from datetime import date

from engine.api import Engine
from tests.support import pb
from tests.support.records import audit_events, case_row
from tests.support.web import ANMELDUNG, CLAIM_DAY, instance_of, post_form, start_case, task_link


def _history(html: str) -> list[list[str]]:
    """The history table as rows of cell texts."""
    rows = re.findall(r'<tr class="verlauf-eintrag">(.*?)</tr>', html, re.S)
    cells = [re.findall(r"<td>(.*?)</td>", row, re.S) for row in rows]
    return [[" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in row] for row in cells]


def _complete(client, url: str, data) -> str:  # type: ignore[no-untyped-def]
    response = post_form(client, url, data)
    assert response.status_code == 302, response.get_data(as_text=True)
    # the inbox, or the offer of the case's next task the clerk may work ("Weiter mit: …")
    assert response.headers["Location"] == "/" or response.headers["Location"].startswith("/aufgaben/weiter/")
    assert "Schritt abgeschlossen" in client.get(response.headers["Location"], follow_redirects=True).get_data(
        as_text=True
    )
    return client.get("/").get_data(as_text=True)


def test_pb_antragsannahme_from_registration_to_handover(client_for, deployed: Engine) -> None:
    egs = client_for("egs")
    first = start_case(egs)
    assert first.startswith("/aufgaben/"), "the clerk continues straight with the first step"
    instance_id = instance_of(deployed, first)
    assert "Besucher anmelden und Anliegen erfassen" in egs.get(first).get_data(as_text=True)

    inbox = _complete(egs, first, ANMELDUNG)
    assert "Probstfeld, Jana" in inbox and "07402//0094744" in inbox
    annahme = task_link(inbox, "Antrag annehmen und Identität prüfen")
    inbox = _complete(
        egs,
        annahme,
        {
            "antragsart": "hauptantrag",
            "anlagen": ["KDU", "EK"],
            "ausweisart": "personalausweis",
            "ausweisnummer": "L01X00T47",
            "ausweis_gueltig_bis": "31.12.2030",
            "identitaet_geprueft": "on",
            "keine_ausweiskopie": "on",
            "compass_stand": "nicht_erfasst",
        },
    )
    inbox = _complete(
        egs,
        task_link(inbox, "Bedarfsgemeinschaft erfassen"),
        {
            "anzahl_personen_bg": "2",
            "rollen_in_bg": ["antragsteller", "kind_unter_15"],
            "anzahl_erwerbsfaehige": "1",
            "anzahl_kinder_unter_15": "1",
            "anzahl_kinder_15_bis_24": "0",
            "weitere_personen_haushalt": "0",
        },
    )
    vorrang = {k: "nicht_einschlaegig" for k in pb.VORRANGIGE_LEISTUNGEN_KEYS}
    vorrang.update(vorrang_kindergeld="bezieht_bereits", vorrang_kinderzuschlag="hinweis_gegeben")
    inbox = _complete(egs, task_link(inbox, pb.VORRANG_HINWEISEN), {**vorrang, "hinweise_erteilt_am": CLAIM_DAY})
    inbox = _complete(
        egs,
        task_link(inbox, pb.NEU_ANLEGEN),
        {"bg_nummer": "07402//0094744", "open_prosoz_angelegt_am": CLAIM_DAY, "open_prosoz_angelegt": "on"},
    )
    inbox = _complete(
        egs, task_link(inbox, pb.PAPIERAKTE_ANLEGEN), {"papierakte_angelegt_am": CLAIM_DAY, "papierakte_angelegt": "on"}
    )
    inbox = _complete(egs, task_link(inbox, "Vollständigkeit prüfen"), {"unterlagen_vollstaendig": "on"})
    inbox = _complete(
        egs,
        task_link(inbox, pb.TERMINE_DOKUMENTIEREN),
        {
            "termine_egs": ["vorsprache", "antragsannahme"],
            "letzter_termin_am": CLAIM_DAY,
            "termine_vermerk": "Antrag angenommen.",
            "termine_dokumentiert": "on",
        },
    )
    assert "07402//0094744" not in inbox, "the case has left the EGS inbox"

    tl = client_for("tl")
    verteilung = task_link(tl.get("/").get_data(as_text=True), "Fall in Verteilungsliste aufnehmen")
    _complete(tl, verteilung, {"lsb_team": "team_a"})

    lsb = client_for("lsb")
    uebernahme = task_link(lsb.get("/").get_data(as_text=True), "Antrag übernehmen")
    inbox = _complete(lsb, uebernahme, {"uebernommen": "on", "bemerkung_lsb": "Team A übernimmt."})
    assert "Keine Aufgaben in „Gruppenaufgaben“" in inbox

    page = egs.get(f"/vorgaenge/{instance_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<dt>Status</dt><dd>abgeschlossen</dd>" in html
    assert f"<dt>Tag der Antragstellung</dt><dd>{CLAIM_DAY}</dd>" in html
    assert "<dt>Antragsteller/in</dt><dd>Probstfeld, Jana</dd>" in html
    assert "Keine offenen Aufgaben." in html
    # Case data are shown with labels, German dates and option labels.
    assert "Anlage KDU – Kosten der Unterkunft und Heizung, Anlage EK – Einkommenserklärung" in html
    assert '<td class="mehrzeilig">12.04.1988</td>' in html
    assert "Erstantrag (Neuantrag auf Bürgergeld)" in html
    assert "LSB-Team A" in html

    history = _history(html)
    taken = " (beim Abschließen übernommen)"
    assert all(row[2].endswith(taken) for row in history[1:]), "nobody claimed first: completing took the task"
    who_what = [(row[1], row[2].removesuffix(taken), row[3]) for row in history]
    assert who_what == [
        ("egs", "Vorgang gestartet", "Version 1, Standort 56.4"),
        ("egs", "Schritt abgeschlossen", "Besucher anmelden und Anliegen erfassen"),
        ("egs", "Schritt abgeschlossen", "Antrag annehmen und Identität prüfen"),
        ("egs", "Schritt abgeschlossen", "Bedarfsgemeinschaft erfassen"),
        ("egs", "Schritt abgeschlossen", pb.VORRANG_HINWEISEN),
        ("egs", "Schritt abgeschlossen", pb.NEU_ANLEGEN),
        ("egs", "Schritt abgeschlossen", pb.PAPIERAKTE_ANLEGEN),
        ("egs", "Schritt abgeschlossen", "Vollständigkeit prüfen"),
        ("egs", "Schritt abgeschlossen", pb.TERMINE_DOKUMENTIEREN),
        ("tl", "Schritt abgeschlossen", "Fall in Verteilungsliste aufnehmen"),
        ("lsb", "Schritt abgeschlossen", "Antrag übernehmen"),
    ]
    assert all(re.fullmatch(r"\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}", row[0]) for row in history)
    anmeldung_changes = history[1][4]
    assert f"Tag der Antragstellung: – → {CLAIM_DAY}" in anmeldung_changes
    assert "Anliegen: – → Erstantrag (Neuantrag auf Bürgergeld)" in anmeldung_changes
    assert "Identität anhand des Ausweisdokuments geprüft: – → Ja" in history[2][4]

    row = case_row(deployed, instance_id)
    assert row.status == "completed"
    assert row.claim_date == date(2025, 2, 3)
    completes = audit_events(deployed, "complete")
    assert [e.actor for e in completes] == ["egs"] * 8 + ["tl", "lsb"]
    assert completes[0].details["data"]["geburtsdatum"] == "1988-04-12", "dates are stored as ISO"


def test_case_page_view_is_audited(client_for, deployed: Engine) -> None:
    egs = client_for("egs")
    instance_id = instance_of(deployed, start_case(egs))
    before = len(audit_events(deployed, "case_viewed"))

    assert egs.get(f"/vorgaenge/{instance_id}").status_code == 200

    viewed = audit_events(deployed, "case_viewed")
    assert len(viewed) == before + 1
    assert (viewed[-1].actor, viewed[-1].instance_id) == ("egs", instance_id)


def test_case_page_lists_open_task_with_link_for_those_who_may_work_it(client_for, deployed: Engine) -> None:
    egs = client_for("egs")
    first = start_case(egs)
    instance_id = instance_of(deployed, first)

    html = egs.get(f"/vorgaenge/{instance_id}").get_data(as_text=True)
    assert task_link(html, "Besucher anmelden und Anliegen erfassen") == first
    assert "<dt>Status</dt><dd>in Bearbeitung</dd>" in html

    # LSB may read the case (it has a lane in the process) but not work the EGS step.
    lsb_html = client_for("lsb").get(f"/vorgaenge/{instance_id}").get_data(as_text=True)
    assert "Besucher anmelden und Anliegen erfassen" in lsb_html
    assert first not in lsb_html


def test_new_case_form_refuses_a_site_the_clerk_has_no_grant_for(client_for, deployed: Engine) -> None:
    from tests.support.web import csrf_token

    egs = client_for("egs")
    html = egs.get("/vorgaenge/neu").get_data(as_text=True)
    assert '<option value="56.4" selected>' in html
    assert "56.5" not in html

    response = egs.post(
        "/vorgaenge/neu",
        data={"csrf_token": csrf_token(html), "prozess": "pb_antragsannahme", "standort": "56.5"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Bitte einen Standort wählen, an dem Sie diesen Prozess starten dürfen." in page
    assert 'href="#feld-standort"' in page
    assert audit_events(deployed, "start") == []


def test_users_who_may_not_start_see_no_start_option(client_for) -> None:
    lsb = client_for("lsb")
    assert "Sie dürfen zurzeit keinen Prozess starten." in lsb.get("/vorgaenge/neu").get_data(as_text=True)
    inbox = lsb.get("/").get_data(as_text=True)
    assert 'class="knopf knopf-primaer" href="/vorgaenge/neu"' not in inbox


def test_overdue_deadline_is_marked_in_words_and_the_timer_shows_in_the_history(client_for, deployed: Engine) -> None:
    from datetime import timedelta

    from engine import clock
    from tests.support import pb

    clerk = deployed.actor("egs")
    header = deployed.start_case(clerk, pb.PROCESS, site="56.4", business_key="07402//0090099")
    pb.walk_to_documents_requested(deployed, clerk, header.instance_id, frist_tage=14)
    egs = client_for("egs")
    assert '<strong class="markierung">überfällig</strong>' not in egs.get("/").get_data(as_text=True)

    later = clock.now() + timedelta(days=16)  # the 14-day deadline ends with day 14; a day later it is overdue
    with clock.frozen(later):
        inbox = egs.get("/").get_data(as_text=True)
    row = re.search(r'<tr class="ueberfaellig">(.*?)</tr>', inbox, re.S)
    assert row and "Eingang der Unterlage erfassen" in row.group(1)
    assert '<strong class="markierung">überfällig</strong>' in row.group(1), "overdue is said in words"

    assert deployed.fire_due_timers(later) == 1
    history = _history(egs.get(f"/vorgaenge/{header.instance_id}").get_data(as_text=True))
    assert history[-1][1:4] == ["system", "Frist abgelaufen / Timer ausgelöst", "Frist abgelaufen"]
    egs_inbox = egs.get("/").get_data(as_text=True)
    assert "Erinnerung mit Rechtsfolgenbelehrung versenden" in egs_inbox, "the deadline leads to the reminder"
