"""Path tests: VSN-CardE-Ausstellung (Konzept Ziffer 4.2) – entitlement, identity, validity, refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import clock
from engine.api import Engine
from engine.errors import FormValidationError, PermissionDeniedError
from tests.support.cases import CaseDriver
from tests.support.engines import engine_with_config

PROCESS = "vsn_carde_ausstellung"
ANTRAG_AUFNEHMEN = "Antrag aufnehmen und Identität prüfen"
LEISTUNG_PRUEFEN = "Leistungsbezug nach dem SGB II prüfen"
LSB_BESTAETIGT = "Leistungsanspruch für VSN-CardE bestätigen"
AUSSTELLEN = "VSN-CardE ausstellen und aushändigen"
ABLEHNEN = "Ablehnung mitteilen"
STICHTAG = "2025-01-31T10:00:00+01:00"

ANTRAG = {
    "vorname": "Lea",
    "nachname": "Brunnhofer",
    "geburtsdatum": "1990-05-17",
    "bg_nummer": "07402//0094744",
    "ausweisart": "personalausweis",
    "ausweisnummer": "L01X00T47",
    "ausweis_gueltig_bis": "2029-01-31",
    "identitaet_geprueft": True,
}
BEWILLIGT = {"leistungsstatus": "bewilligt", "bescheid_vom": "2024-12-02", "bewilligt_bis": "2025-11-30"}
KARTE = {"kartennummer": "VSN-25-000417", "ausgehaendigt": True}


def geprueft(engine: Engine, antrag: dict, leistung: dict) -> CaseDriver:
    case = CaseDriver(engine, PROCESS)
    case.complete(ANTRAG_AUFNEHMEN, antrag)
    case.complete(LEISTUNG_PRUEFEN, leistung)
    return case


def test_berechtigte_person_erhaelt_karte_mit_konfigurierter_gueltigkeit(deployed: Engine) -> None:
    with clock.frozen(clock.parse_iso(STICHTAG)):
        case = geprueft(deployed, ANTRAG, BEWILLIGT)
        assert case.open_task_names() == [AUSSTELLEN]
        assert case.task(AUSSTELLEN).lane == "EGS"
        data = case.data
        assert data["berechtigt"] is True and data["ablehnungsgruende"] == []
        assert (data["pruefung_am"], data["ausgestellt_am"], data["gueltig_bis"]) == (
            "2025-01-31",
            "2025-01-31",
            "2026-01-31",
        ), "12 Monate aus konfig('vsn_carde.gueltigkeit_monate')"
        assert not {"ausgestellt", "monatsindex", "jahr", "monat"} & set(data), "keine Hilfsvariablen im Vorgang"
        case.complete(AUSSTELLEN, KARTE)
    assert case.status == "completed"
    assert case.data["kartennummer"] == "VSN-25-000417"


def test_gueltigkeit_folgt_der_konfiguration_und_endet_am_monatsende(
    deployed: Engine, db_url: str, tmp_path: Path
) -> None:
    with engine_with_config(db_url, tmp_path, gueltigkeit_monate="1") as engine:
        with clock.frozen(clock.parse_iso(STICHTAG)):
            case = geprueft(engine, ANTRAG, BEWILLIGT)
        assert case.data["gueltig_bis"] == "2025-02-28", "31.01. + 1 Monat = letzter Tag im Februar"


def test_offener_antrag_wird_von_der_lsb_geklaert(deployed: Engine) -> None:
    with clock.frozen(clock.parse_iso(STICHTAG)):
        case = geprueft(deployed, ANTRAG, {"leistungsstatus": "in_bearbeitung"})
        assert [(t.name, t.lane) for t in case.open_tasks()] == [(LSB_BESTAETIGT, "LSB")]
        assert deployed.open_tasks(deployed.actor("egs"), case.instance_id) == [], "EGS sieht die LSB-Aufgabe nicht"
        with pytest.raises(PermissionDeniedError):
            case.complete(LSB_BESTAETIGT, BEWILLIGT, as_user="egs")
        case.complete(LSB_BESTAETIGT, {**BEWILLIGT, "bemerkung_lsb": "Bescheid vom 02.12.2024"})
        assert case.open_task_names() == [AUSSTELLEN]
        case.complete(AUSSTELLEN, KARTE)
    assert case.status == "completed"


def test_lsb_verneint_den_anspruch_ablehnung_mit_grund(deployed: Engine) -> None:
    with clock.frozen(clock.parse_iso(STICHTAG)):
        case = geprueft(deployed, ANTRAG, {"leistungsstatus": "in_bearbeitung"})
        case.complete(LSB_BESTAETIGT, {"leistungsstatus": "nicht_entschieden"})
        assert case.open_task_names() == [ABLEHNEN]
        assert case.data["ablehnungsgruende"] == ["kein_bewilligter_leistungsbezug"]
        case.complete(ABLEHNEN, {"mitteilungsart": "muendlich", "mitgeteilt_am": "2025-01-31"})
    assert case.status == "completed"
    assert "gueltig_bis" not in case.data and "kartennummer" not in case.data


@pytest.mark.parametrize(
    ("antrag", "leistung", "gruende"),
    [
        (
            {**ANTRAG, "identitaet_geprueft": False, "ausweis_gueltig_bis": "2024-12-31"},
            BEWILLIGT,
            ["identitaet_nicht_nachgewiesen", "ausweis_abgelaufen"],
        ),
        (ANTRAG, {**BEWILLIGT, "bewilligt_bis": "2025-01-30"}, ["bewilligungszeitraum_abgelaufen"]),
        (ANTRAG, {"leistungsstatus": "kein_bezug"}, ["kein_bewilligter_leistungsbezug"]),
    ],
    ids=["identitaet", "bewilligung_abgelaufen", "kein_bezug"],
)
def test_ohne_berechtigung_keine_karte(deployed: Engine, antrag: dict, leistung: dict, gruende: list[str]) -> None:
    with clock.frozen(clock.parse_iso(STICHTAG)):
        case = geprueft(deployed, antrag, leistung)
        assert case.open_task_names() == [ABLEHNEN]
        assert case.data["berechtigt"] is False
        assert case.data["ablehnungsgruende"] == gruende
        case.complete(ABLEHNEN, {"mitteilungsart": "schriftlich", "mitgeteilt_am": "2025-01-31"})
    assert case.status == "completed"
    assert "gueltig_bis" not in case.data


def test_formulare_pruefen_pflichtangaben(deployed: Engine) -> None:
    with clock.frozen(clock.parse_iso(STICHTAG)):
        case = CaseDriver(deployed, PROCESS)
        with pytest.raises(FormValidationError) as refused:
            case.complete(ANTRAG_AUFNEHMEN, {**ANTRAG, "bg_nummer": "0740294744", "geburtsdatum": "2025-02-01"})
        assert set(refused.value.field_errors) == {"bg_nummer", "geburtsdatum"}
        case.complete(ANTRAG_AUFNEHMEN, ANTRAG)
        with pytest.raises(FormValidationError) as refused:
            case.complete(LEISTUNG_PRUEFEN, {"leistungsstatus": "bewilligt"})
        assert set(refused.value.field_errors) == {"bescheid_vom", "bewilligt_bis"}
        assert case.open_task_names() == [LEISTUNG_PRUEFEN], "nichts gespeichert"
