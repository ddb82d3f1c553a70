"""Path tests: Beschaffung und Verteilung von Büromaterialien (Konzept Ziffer 4.2) – approval limit TL/FDL."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.api import Engine
from engine.errors import FormValidationError, FourEyesError
from tests.support.cases import CaseDriver
from tests.support.engines import engine_with_config
from tests.support.records import aktionen

PROCESS = "bueromaterial"
ANFORDERN = "Büromaterial anfordern"
FREIGABE_TL = "Bestellung freigeben (Teamleitung)"
FREIGABE_FDL = "Bestellung freigeben (Fachdienstleitung)"
BESTELLEN = "Bestellung auslösen"
LIEFERUNG = "Lieferung entgegennehmen und prüfen"
REKLAMIEREN = "Fehlmengen reklamieren"
VERTEILEN = "Büromaterial verteilen"
ABLEHNUNG = "Anfordernde über Ablehnung informieren"


def anforderung(betrag: float) -> dict:
    return {
        "bedarfstraeger": "LSB",
        "positionen": "10 Packungen Kopierpapier A4\n20 Ordner breit",
        "geschaetzter_betrag": betrag,
        "begruendung_bedarf": "Vorrat für das Quartal",
    }


BESTELLUNG = {"lieferant": "Bürobedarf Leinetal GmbH", "bestellnummer": "B-4711", "bestellbetrag": 118.4}


def angefordert(engine: Engine, betrag: float) -> CaseDriver:
    case = CaseDriver(engine, PROCESS)
    case.complete(ANFORDERN, anforderung(betrag))
    return case


def bestellen_bis_lieferung(case: CaseDriver, heute: str) -> None:
    case.complete(BESTELLEN, {**BESTELLUNG, "bestellt_am": heute})
    assert case.open_task_names() == [LIEFERUNG]


@pytest.mark.parametrize("betrag", [120.0, 250.0], ids=["unter_grenze", "genau_grenze"])
def test_bis_zur_wertgrenze_gibt_die_teamleitung_frei(deployed: Engine, betrag: float) -> None:
    case = angefordert(deployed, betrag)
    assert [(t.name, t.lane) for t in case.open_tasks()] == [(FREIGABE_TL, "TL")]
    heute = case.data["gestartet_am"]
    case.complete(FREIGABE_TL, {"freigegeben": True})
    bestellen_bis_lieferung(case, heute)
    case.complete(LIEFERUNG, {"geliefert_am": heute, "lieferung_vollstaendig": True, "lieferschein_nr": "LS-88"})
    case.complete(VERTEILEN, {"verteilt_an": ["LSB", "EGS"], "verteilt_am": heute})
    assert case.status == "completed"
    assert case.data["verteilt_an"] == ["LSB", "EGS"]


def test_ueber_der_wertgrenze_gibt_die_fachdienstleitung_frei(deployed: Engine) -> None:
    case = angefordert(deployed, 250.01)
    assert [(t.name, t.lane) for t in case.open_tasks()] == [(FREIGABE_FDL, "FDL")]
    assert [t for t in deployed.inbox(deployed.actor("tl")) if t.instance_id == case.instance_id] == []
    case.complete(FREIGABE_FDL, {"freigegeben": True, "freigabe_bemerkung": "Sammelbestellung für den Standort"})
    assert case.open_task_names() == [BESTELLEN]


def test_wertgrenze_kommt_aus_der_konfiguration(deployed: Engine, db_url: str, tmp_path: Path) -> None:
    with engine_with_config(db_url, tmp_path, freigabe_tl_bis="100.00") as engine:
        case = angefordert(engine, 120.0)
        assert case.open_task_names() == [FREIGABE_FDL]


def test_abgelehnte_anforderung_wird_mitgeteilt(deployed: Engine) -> None:
    case = angefordert(deployed, 80.0)
    with pytest.raises(FormValidationError) as refused:
        case.complete(FREIGABE_TL, {"freigegeben": False})
    assert list(refused.value.field_errors) == ["freigabe_bemerkung"], "Ablehnung nur mit Begründung"
    case.complete(FREIGABE_TL, {"freigegeben": False, "freigabe_bemerkung": "Vorrat reicht noch bis Juni"})
    assert [(t.name, t.lane) for t in case.open_tasks()] == [(ABLEHNUNG, "EGS")]
    case.complete(ABLEHNUNG, {"informiert_am": case.data["gestartet_am"]})
    assert case.status == "completed"
    assert "bestellbetrag" not in case.data


def test_fehlmengen_werden_reklamiert_und_nachgeliefert(deployed: Engine) -> None:
    case = angefordert(deployed, 120.0)
    heute = case.data["gestartet_am"]
    case.complete(FREIGABE_TL, {"freigegeben": True})
    bestellen_bis_lieferung(case, heute)
    with pytest.raises(FormValidationError):
        case.complete(LIEFERUNG, {"geliefert_am": heute, "lieferung_vollstaendig": False})
    case.complete(LIEFERUNG, {"geliefert_am": heute, "lieferung_vollstaendig": False, "fehlmengen": "5 Ordner"})
    assert case.open_task_names() == [REKLAMIEREN]
    case.complete(REKLAMIEREN, {"reklamiert_am": heute, "reklamation_text": "5 Ordner fehlen laut Lieferschein"})
    assert case.open_task_names() == [LIEFERUNG], "Nachlieferung wird erneut geprüft"
    case.complete(LIEFERUNG, {"geliefert_am": heute, "lieferung_vollstaendig": True})
    case.complete(VERTEILEN, {"verteilt_an": ["LSB"], "verteilt_am": heute})
    assert case.status == "completed"


def test_wer_anfordert_gibt_nicht_selbst_frei(deployed: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("kira.tl", ("EGS", "56.4"), ("TL", "56.4"))
    case = CaseDriver(deployed, PROCESS, starter="kira.tl")
    case.complete(ANFORDERN, anforderung(60.0), as_user="kira.tl")
    with pytest.raises(FourEyesError, match="Vier-Augen-Prinzip"):
        case.complete(FREIGABE_TL, {"freigegeben": True}, as_user="kira.tl")
    assert case.open_task_names() == [FREIGABE_TL], "nichts gespeichert"
    assert aktionen(deployed, case.instance_id).count("access_denied") == 1
    case.complete(FREIGABE_TL, {"freigegeben": True}, as_user="tl")
    assert case.open_task_names() == [BESTELLEN]


def test_betrag_und_datum_werden_geprueft(deployed: Engine) -> None:
    case = CaseDriver(deployed, PROCESS)
    with pytest.raises(FormValidationError) as refused:
        case.complete(ANFORDERN, {**anforderung(0.0), "bedarfstraeger": "Hausmeister"})
    assert set(refused.value.field_errors) == {"geschaetzter_betrag", "bedarfstraeger"}
    case.complete(ANFORDERN, anforderung(99.5))
    case.complete(FREIGABE_TL, {"freigegeben": True})
    with pytest.raises(FormValidationError) as refused:
        case.complete(BESTELLEN, {**BESTELLUNG, "bestellt_am": "2999-01-01"})
    assert list(refused.value.field_errors) == ["bestellt_am"]
