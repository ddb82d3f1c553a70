"""Path tests: Zuarbeit bei der Führung der Leistungs-/IFK-Akten (Konzept Ziffer 1 und 4.2) – Papier oder Doxis."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import clock
from engine.api import Engine
from engine.errors import FormValidationError
from tests.support.cases import CaseDriver
from tests.support.engines import engine_with_config
from tests.support.records import faelle

PROCESS = "akten_zuarbeit"
ERFASSEN = "Schriftstück erfassen"
PAPIER = "In die Papierakte einheften"
SCANNEN = "Scannen und in die E-Akte übernehmen"
HEUTE = "2025-06-02T09:30:00+02:00"
SCHRIFTSTUECK = {
    "akte_vorgangsnummer": "07402//0094744",
    "akte": "leistungsakte",
    "schriftstueck": "Mietvertrag Hauptstraße 3",
    "eingang_am": "2025-06-02",
}
SCAN = {
    "dokumentklasse": "nachweis",
    "seitenzahl": 4,
    "scan_geprueft": True,
    "importiert_am": "2025-06-02",
    "original_verbleib": "rueckgabe",
}


def erfasst(engine: Engine) -> CaseDriver:
    case = CaseDriver(engine, PROCESS)
    case.complete(ERFASSEN, SCHRIFTSTUECK)
    return case


def test_ohne_doxis_starttermin_bleibt_es_bei_der_papierakte(deployed: Engine) -> None:
    assert deployed.konfig.get("umstellung.doxis_start") == ""
    with clock.frozen(clock.parse_iso(HEUTE)):
        case = erfasst(deployed)
        assert [(t.name, t.lane) for t in case.open_tasks()] == [(PAPIER, "EGS")]
        with pytest.raises(FormValidationError):
            case.complete(PAPIER, {"ablageort": "", "abgelegt_am": "2025-06-02"})
        case.complete(PAPIER, {"ablageort": "Register B, Fach 12", "abgelegt_am": "2025-06-02"})
    assert case.status == "completed"
    assert case.data["ablageort"] == "Register B, Fach 12"


def test_nach_dem_doxis_start_wird_gescannt(deployed: Engine, db_url: str, tmp_path: Path) -> None:
    with engine_with_config(db_url, tmp_path, doxis_start='"2025-06-02"') as engine:
        with clock.frozen(clock.parse_iso(HEUTE)):
            case = erfasst(engine)
            assert case.open_task_names() == [SCANNEN], "Stichtag selbst zählt schon zur E-Akte"
            with pytest.raises(FormValidationError) as refused:
                case.complete(SCANNEN, {**SCAN, "scan_geprueft": False})
            assert list(refused.value.field_errors) == ["scan_geprueft"]
            case.complete(SCANNEN, SCAN)
        assert case.status == "completed"


def test_vor_dem_doxis_start_noch_papierakte(deployed: Engine, db_url: str, tmp_path: Path) -> None:
    with engine_with_config(db_url, tmp_path, doxis_start='"2025-06-03"') as engine:
        with clock.frozen(clock.parse_iso(HEUTE)):
            case = erfasst(engine)
            assert case.open_task_names() == [PAPIER]


def test_start_durch_nachricht_uebernimmt_die_angaben(deployed: Engine) -> None:
    with clock.frozen(clock.parse_iso(HEUTE)):
        post = CaseDriver(deployed, "posteingang", site="56.5")
        post.complete(
            "Posteingang erfassen und zuordnen",
            {
                "eingang_am": "2025-06-02",
                "absender": "Hausverwaltung Leinebogen",
                "postart": "brief",
                "betreff": "Nebenkostenabrechnung 2024",
                "bezug_vorgangsnummer": "07402//0094744",
                "zustaendig": "LSB",
                "weiterbehandlung": "zur_akte",
                "akte": "leistungsakte",
            },
        )
    [akte] = faelle(deployed, PROCESS)
    case = CaseDriver.existing(deployed, akte.id)
    assert case.site == "56.5", "gestartet am Standort des Posteingangs"
    assert [(t.name, t.site) for t in case.open_tasks()] == [(PAPIER, "56.5")]
    data = case.data
    assert data["bezugsvorgang"] == post.header.business_key
    assert (data["akte_vorgangsnummer"], data["akte"], data["schriftstueck"], data["eingang_am"]) == (
        "07402//0094744",
        "leistungsakte",
        "Nebenkostenabrechnung 2024",
        "2025-06-02",
    )
    case.complete(PAPIER, {"ablageort": "Register A", "abgelegt_am": "2025-06-02"})
    assert case.status == "completed"
