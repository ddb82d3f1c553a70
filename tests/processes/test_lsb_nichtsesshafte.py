"""Path tests for the casework for homeless persons (Konzept Ziffer 4.3, Nichtsesshafte).

EGS does the whole casework; the daily rate is the monthly Regelbedarf of config/egs.toml divided by the days of
the month; the booking in OPEN stays with LSB and is refused (four eyes) to whoever set the rate.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from engine import clock
from engine.api import Engine
from engine.errors import FormValidationError, FourEyesError, ScriptError
from engine.models import AuditEvent
from tests.support.cases import CaseDriver

PROCESS = "lsb_nichtsesshafte"
AUFNAHME = "Person aufnehmen und Antrag entgegennehmen"
ANSPRUCH = "Leistungsanspruch prüfen"
FESTSETZUNG = "Tagessatz festsetzen und Auszahlung anordnen"
VERBUCHUNG = "Leistung in OPEN verbuchen"
ABLEHNUNG = "Ablehnung erteilen und weiterverweisen"


def heute() -> str:
    return clock.today_berlin().isoformat()


def aufnahme(**fields: Any) -> dict[str, Any]:
    return {
        "vorname": "Bernd",
        "nachname": "Wanderer",
        "geburtsdatum": "1972-05-09",
        "tag_der_antragstellung": heute(),
        "ausweisart": "personalausweis",
        "ausweisnummer": "L01X00T47",
        "postanschrift_art": "co_jobcenter",
        **fields,
    }


def anspruch(leistung_ab: str, anzahl_tage: int = 1, einkommen: float = 0) -> dict[str, Any]:
    return {
        "voraussetzungen": ["alter", "erwerbsfaehig", "hilfebeduerftig", "aufenthalt"],
        "anspruch_besteht": True,
        "leistung_ab": leistung_ab,
        "anzahl_tage": anzahl_tage,
        "anrechenbares_einkommen_monat": einkommen,
        "pruefvermerk": "Übernachtet in der Notunterkunft Göttingen; keine Einkünfte.",
    }


def festsetzung(**fields: Any) -> dict[str, Any]:
    return {"auszahlungsweg": "bar", "bescheid_erteilt_am": heute(), **fields}


def bis_zur_festsetzung(engine: Engine, leistung_ab: str, anzahl_tage: int = 1, **aufnahme_felder: Any) -> CaseDriver:
    case = CaseDriver(engine, PROCESS, site="56.4")
    case.complete(AUFNAHME, aufnahme(**aufnahme_felder))
    case.complete(ANSPRUCH, anspruch(leistung_ab, anzahl_tage))
    assert case.open_task_names() == [FESTSETZUNG]
    return case


def test_daily_rate_in_april_2025_then_lsb_books(deployed: Engine) -> None:
    case = bis_zur_festsetzung(deployed, "2025-04-10")
    data = case.data
    assert data["regelbedarf_monat"] == 563.0, "Regelbedarfsstufe 1 for 2025 from config/egs.toml"
    assert data["tage_im_leistungsmonat"] == 30
    assert data["tagessatz"] == 18.77, "563 € / 30 days"
    assert (data["auszahlungsbetrag"], data["leistung_bis"]) == (18.77, "2025-04-10")
    assert data["postanschrift"] == "c/o Jobcenter Landkreis Göttingen, Fachdienst 56.4"
    with pytest.raises(FormValidationError) as caught:
        case.complete(FESTSETZUNG, festsetzung(tagessatz=25.0))
    assert caught.value.field_errors == {
        "tagessatz": ["Dieser Wert ist bereits festgehalten und darf nicht geändert werden."]
    }
    case.complete(FESTSETZUNG, festsetzung(tagessatz=18.77))
    [task] = case.open_tasks()
    assert (task.name, task.lane, task.egs_role) == (VERBUCHUNG, "LSB", "Mitwirkender")
    case.complete(VERBUCHUNG, {"verbucht_in_open": True, "verbucht_am": heute()})
    assert case.status == "completed"
    assert case.header.claim_date is not None and case.header.claim_date.isoformat() == heute()


def test_days_across_a_month_end_use_each_month_s_days(deployed: Engine) -> None:
    case = bis_zur_festsetzung(deployed, "2025-02-27", anzahl_tage=3)
    data = case.data
    assert data["zahltage"] == ["2025-02-27", "2025-02-28", "2025-03-01"]
    assert data["tagessaetze"] == [20.11, 20.11, 18.16], "563/28 in February, 563/31 in March"
    assert (data["tagessatz"], data["auszahlungsbetrag"], data["leistung_bis"]) == (20.11, 58.38, "2025-03-01")


def test_income_reduces_the_daily_rate_and_post_goes_to_a_counselling_centre(deployed: Engine) -> None:
    case = CaseDriver(deployed, PROCESS, site="56.6")
    beratung = {
        "postanschrift_art": "co_beratungsstelle",
        "beratungsstelle_name": "Tagesaufenthalt Am Bahnhof",
        "beratungsstelle_strasse": "Bahnhofsallee 1",
        "beratungsstelle_plz": "37081",
        "beratungsstelle_ort": "Göttingen",
    }
    with pytest.raises(FormValidationError) as caught:
        case.complete(AUFNAHME, aufnahme(postanschrift_art="co_beratungsstelle"))
    assert set(caught.value.field_errors) == {k for k in beratung if k != "postanschrift_art"}
    with pytest.raises(FormValidationError) as caught:
        case.complete(AUFNAHME, aufnahme(**{**beratung, "beratungsstelle_plz": "3708A"}))
    assert list(caught.value.field_errors) == ["beratungsstelle_plz"]
    ohne_ausweis = {k: v for k, v in aufnahme(**beratung).items() if k != "ausweisnummer"}
    with pytest.raises(FormValidationError) as caught:
        case.complete(AUFNAHME, {**ohne_ausweis, "ausweisart": "reisepass"})
    assert list(caught.value.field_errors) == ["ausweisnummer"]
    case.complete(
        AUFNAHME, {**ohne_ausweis, "ausweisart": "keines", "identitaet_vermerk": "Bestätigung der Beratungsstelle"}
    )
    case.complete(ANSPRUCH, anspruch("2026-01-05", anzahl_tage=2, einkommen=63.0))
    data = case.data
    assert data["tagessaetze"] == [16.13, 16.13], "(563 − 63) / 31"
    assert data["postanschrift"] == "c/o Tagesaufenthalt Am Bahnhof, Bahnhofsallee 1, 37081 Göttingen"
    with pytest.raises(FormValidationError) as caught:
        case.complete(
            FESTSETZUNG, festsetzung(auszahlungsweg="konto", iban="DE89370400440532013001", kontoinhaber="B. W.")
        )
    assert list(caught.value.field_errors) == ["iban"]
    case.complete(FESTSETZUNG, festsetzung(auszahlungsweg="konto", iban="DE89370400440532013000", kontoinhaber="B. W."))
    case.complete(VERBUCHUNG, {"verbucht_in_open": True, "verbucht_am": heute()})
    assert case.status == "completed"


def test_no_entitlement_ends_with_refusal(deployed: Engine) -> None:
    case = CaseDriver(deployed, PROCESS, site="56.4")
    case.complete(AUFNAHME, aufnahme())
    with pytest.raises(FormValidationError) as caught:
        case.complete(ANSPRUCH, {"anspruch_besteht": False, "pruefvermerk": "Lebt seit Jahren in Kassel."})
    assert list(caught.value.field_errors) == ["ablehnungsgrund"]
    case.complete(
        ANSPRUCH,
        {"anspruch_besteht": False, "ablehnungsgrund": "unzustaendig", "pruefvermerk": "Aufenthalt in Kassel."},
    )
    assert [(t.name, t.lane) for t in case.open_tasks()] == [(ABLEHNUNG, "EGS")]
    case.complete(
        ABLEHNUNG,
        {"ablehnung_erteilt_am": heute(), "verweis_an": "anderes_jobcenter", "begruendung_ablehnung": "§ 36 SGB II"},
    )
    assert case.status == "completed"
    assert "tagessatz" not in case.data


def test_whoever_set_the_rate_may_not_book_it(deployed: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    # e.g. an LSB colleague redeployed into the EGS (Konzept § 7) holds both groups
    beide = make_user("anna_beide", ("EGS", "56.4"), ("LSB", "56.4"))
    case = bis_zur_festsetzung(deployed, "2025-04-10")
    case.complete(FESTSETZUNG, festsetzung(), as_user="anna_beide")
    [task] = case.open_tasks()
    with pytest.raises(FourEyesError, match="Vier-Augen-Prinzip"):
        deployed.claim(beide, task.task_uuid)
    with pytest.raises(FourEyesError):
        deployed.complete_task(beide, task.task_uuid, {"verbucht_in_open": True, "verbucht_am": heute()})
    [still] = case.open_tasks()
    assert still.task_uuid == task.task_uuid and still.assignee is None and "verbucht_am" not in case.data
    with deployed.db.reading() as session:
        refused = session.scalars(
            sa.select(AuditEvent.actor).where(
                AuditEvent.instance_id == case.instance_id, AuditEvent.action == "access_denied"
            )
        ).all()
    assert refused == ["anna_beide", "anna_beide"]
    case.complete(VERBUCHUNG, {"verbucht_in_open": True, "verbucht_am": heute()}, as_user="lsb")
    assert case.status == "completed"


def test_year_without_configured_regelbedarf_is_refused(deployed: Engine) -> None:
    case = CaseDriver(deployed, PROCESS, site="56.4")
    case.complete(AUFNAHME, aufnahme())
    [task] = case.open_tasks()
    with pytest.raises(ScriptError, match="regelbedarf.2099"):
        case.complete(ANSPRUCH, anspruch("2099-01-01"))
    [still] = case.open_tasks()
    assert still.task_uuid == task.task_uuid and "leistung_ab" not in case.data, "nothing was stored"
    assert case.status == "running"
