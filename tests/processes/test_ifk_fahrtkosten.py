"""Fahrtkosten für Gruppentermine (Konzept Ziffer 4.4; § 59 SGB II i. V. m. § 309 SGB III).

Walks every gateway flow of ``ifk_fahrtkosten``: cut-over (§ 1) with comp.ASS / OPEN/PROSOZ at the IFK,
refund computed from the checked kilometres and ``reisekosten.km_satz``, rejection, the four-eyes rule on
the approval (approver ≠ checker) and an approval returned for a new check.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from engine import clock
from engine.api import Engine
from engine.errors import FormValidationError, FourEyesError
from engine.models import AuditEvent
from tests.support.cases import CaseDriver

PROCESS = "ifk_fahrtkosten"
ERFASSEN = "Fahrtkostenantrag erfassen"
PRUEFEN = "Teilnahme und Entfernung prüfen"
FREIGABE = "Erstattung freigeben"
AUSZAHLUNG = "Auszahlung anweisen"
ABLEHNUNG = "Ablehnungsbescheid erstellen"
ALT_COMPASS = "Fahrtkosten in comp.ASS erstatten (Altverfahren)"
ALT_OPEN = "Fahrtkosten in OPEN/PROSOZ erstatten (Altverfahren)"


@pytest.fixture
def april() -> Iterator[None]:
    with clock.frozen(clock.parse_iso("2025-04-14T10:00:00+02:00")):
        yield


@pytest.fixture
def kollegin(make_user):  # type: ignore[no-untyped-def]
    return make_user("egs_kollegin", ("EGS", "56.4"))


def antrag(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "vorname": "Jannik",
        "nachname": "Ostermeyer",
        "bg_nummer": "07402//0094751",
        "termin_art": "rekrutierungsveranstaltung",
        "termin_bezeichnung": "Jobbörse Logistik, Göttingen",
        "termin_datum": "2025-03-06",
        "einladung_durch_jobcenter": True,
        "antrag_eingegangen_am": "2025-03-07",
        "entfernung_km_angegeben": 36,
        "fahrtstrecke": "hin_und_zurueck",
        "kontoinhaber": "Jannik Ostermeyer",
        "iban": "DE89370400440532013000",
    }
    data.update(overrides)
    return data


def geprueft(km: int = 32, **overrides: Any) -> dict[str, Any]:
    return {
        "pruefergebnis": "erstattungsfaehig",
        "teilnahme_bestaetigt": True,
        "teilnahme_nachweis": "teilnehmerliste",
        "entfernung_km": km,
        **overrides,
    }


def tasks_by_lane(case: CaseDriver) -> list[tuple[str, str]]:
    return sorted((t.lane, t.name) for t in case.open_tasks())


def audit_actions(engine: Engine, instance_id: int) -> list[str]:
    with engine.db.reading() as session:
        return list(
            session.scalars(
                sa.select(AuditEvent.action).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id)
            )
        )


def test_erstattung_berechnet_geprueft_freigegeben_ausgezahlt(deployed: Engine, april: None, kollegin) -> None:  # type: ignore[no-untyped-def]
    case = CaseDriver(deployed, PROCESS)
    assert tasks_by_lane(case) == [("EGS", ERFASSEN)]
    case.complete(ERFASSEN, antrag())
    assert tasks_by_lane(case) == [("EGS", PRUEFEN)]
    case.complete(PRUEFEN, geprueft(32), as_user="egs")

    data = case.data
    assert data["angewandter_km_satz"] == 0.20, "rate from config/egs.toml [reisekosten]"
    assert data["erstattungsfaehige_km"] == 64, "checked 32 km, both ways"
    assert data["fahrtkosten_betrag"] == 12.80
    assert tasks_by_lane(case) == [("EGS", FREIGABE)]

    case.complete(FREIGABE, {"freigabe": "freigegeben", "freigegebener_betrag": 12.80}, as_user="egs_kollegin")
    assert tasks_by_lane(case) == [("EGS", AUSZAHLUNG)]
    case.complete(AUSZAHLUNG, {"auszahlung_angewiesen_am": "2025-04-14", "kassenzeichen": "FK-2025-0042"})
    assert case.status == "completed"
    assert case.data["kassenzeichen"] == "FK-2025-0042"


def test_einfache_strecke_wird_einmal_erstattet(deployed: Engine, april: None) -> None:
    case = CaseDriver(deployed, PROCESS)
    case.complete(ERFASSEN, antrag(fahrtstrecke="einfach", entfernung_km_angegeben=21))
    case.complete(PRUEFEN, geprueft(21))
    assert (case.data["erstattungsfaehige_km"], case.data["fahrtkosten_betrag"]) == (21, 4.2)


def test_pruefer_darf_nicht_freigeben(deployed: Engine, april: None, kollegin) -> None:  # type: ignore[no-untyped-def]
    case = CaseDriver(deployed, PROCESS)
    case.complete(ERFASSEN, antrag(), as_user="egs_kollegin")
    case.complete(PRUEFEN, geprueft(32), as_user="egs")
    approval = case.task(FREIGABE).task_uuid
    checker = deployed.actor("egs")
    before = case.data

    with pytest.raises(FourEyesError, match="Vier-Augen-Prinzip"):
        deployed.claim(checker, approval)
    with pytest.raises(FourEyesError, match="Vier-Augen-Prinzip"):
        deployed.complete_task(checker, approval, {"freigabe": "freigegeben", "freigegebener_betrag": 12.80})

    assert audit_actions(deployed, case.instance_id).count("access_denied") == 2
    assert case.data == before and tasks_by_lane(case) == [("EGS", FREIGABE)], "nothing stored"
    assert case.task(FREIGABE).assignee is None

    # Whoever only captured the application may approve (the rule binds the check step).
    case.complete(FREIGABE, {"freigabe": "freigegeben", "freigegebener_betrag": 12.80}, as_user="egs_kollegin")
    assert tasks_by_lane(case) == [("EGS", AUSZAHLUNG)]


def test_zurueckgegebene_oder_abweichende_freigabe_fuehrt_zur_neuen_pruefung(
    deployed: Engine, april: None, kollegin
) -> None:  # type: ignore[no-untyped-def]
    case = CaseDriver(deployed, PROCESS)
    case.complete(ERFASSEN, antrag())
    case.complete(PRUEFEN, geprueft(36), as_user="egs")
    assert case.data["fahrtkosten_betrag"] == 14.4
    case.complete(
        FREIGABE,
        {"freigabe": "zurueckgegeben", "freigabe_bemerkung": "Routenplaner ergibt 32 km."},
        as_user="egs_kollegin",
    )
    assert tasks_by_lane(case) == [("EGS", PRUEFEN)]
    case.complete(PRUEFEN, geprueft(32), as_user="egs")
    case.complete(FREIGABE, {"freigabe": "freigegeben", "freigegebener_betrag": 14.4}, as_user="egs_kollegin")
    assert tasks_by_lane(case) == [("EGS", PRUEFEN)], "an amount that differs from the computation is not paid"
    case.complete(PRUEFEN, geprueft(32), as_user="egs")
    case.complete(FREIGABE, {"freigabe": "freigegeben", "freigegebener_betrag": 12.8}, as_user="egs_kollegin")
    assert tasks_by_lane(case) == [("EGS", AUSZAHLUNG)]


def test_ohne_nachgewiesene_teilnahme_wird_abgelehnt(deployed: Engine, april: None) -> None:
    case = CaseDriver(deployed, PROCESS)
    case.complete(ERFASSEN, antrag())
    pruefen = case.task(PRUEFEN).task_uuid
    with pytest.raises(FormValidationError) as refused:
        deployed.complete_task(deployed.actor("egs"), pruefen, geprueft(32, teilnahme_bestaetigt=False))
    assert refused.value.field_errors == {
        "teilnahme_bestaetigt": ["Erstattungsfähig ist der Antrag nur bei nachgewiesener Teilnahme am Gruppentermin."]
    }
    with pytest.raises(FormValidationError) as refused:
        deployed.complete_task(deployed.actor("egs"), pruefen, {"pruefergebnis": "nicht_erstattungsfaehig"})
    assert list(refused.value.field_errors) == ["ablehnungsgrund"]

    case.complete(
        PRUEFEN,
        {
            "pruefergebnis": "nicht_erstattungsfaehig",
            "teilnahme_bestaetigt": False,
            "ablehnungsgrund": "Nicht auf der Teilnehmerliste; keine Bescheinigung vorgelegt.",
        },
    )
    assert tasks_by_lane(case) == [("EGS", ABLEHNUNG)]
    assert "fahrtkosten_betrag" not in case.data, "nothing is computed for a rejected application"
    case.complete(ABLEHNUNG, {"ablehnungsbescheid_datum": "2025-04-14", "ablehnungsbescheid_versandt": True})
    assert case.status == "completed"


def test_antrag_prueft_datum_iban_und_bg_nummer(deployed: Engine, april: None) -> None:
    case = CaseDriver(deployed, PROCESS)
    with pytest.raises(FormValidationError) as refused:
        deployed.complete_task(
            deployed.actor("egs"),
            case.task(ERFASSEN).task_uuid,
            antrag(
                termin_datum="2025-04-15", iban="DE89370400440532013001", bg_nummer="0094751", entfernung_km_angegeben=0
            ),
        )
    assert set(refused.value.field_errors) == {"termin_datum", "iban", "bg_nummer", "entfernung_km_angegeben"}
    assert refused.value.field_errors["termin_datum"] == ["Das Datum darf nicht in der Zukunft liegen."]
    assert tasks_by_lane(case) == [("EGS", ERFASSEN)] and "iban" not in case.data


def test_betraege_mit_cent_werden_angenommen(deployed: Engine, april: None, kollegin) -> None:  # type: ignore[no-untyped-def]
    """4,60 € is a multiple of 0,01 € (the form check works in decimal, not binary floating point)."""
    case = CaseDriver(deployed, PROCESS)
    case.complete(ERFASSEN, antrag(fahrtstrecke="einfach", entfernung_km_angegeben=23))
    case.complete(PRUEFEN, geprueft(23), as_user="egs")
    assert case.data["fahrtkosten_betrag"] == 4.6
    case.complete(FREIGABE, {"freigabe": "freigegeben", "freigegebener_betrag": 4.6}, as_user="egs_kollegin")
    assert tasks_by_lane(case) == [("EGS", AUSZAHLUNG)]


@pytest.mark.parametrize(
    ("tag", "zahlungssystem", "aufgabe"),
    [
        # boundary day of the payment run for April (umstellung.zahlfaelle_compass_bis, Berlin time)
        ("2025-03-20T23:50:00+01:00", "compass", ALT_COMPASS),
        ("2025-03-21T00:10:00+01:00", "open_prosoz", ALT_OPEN),
    ],
)
def test_vor_dem_1_april_2025_erstattet_die_ifk(deployed: Engine, tag: str, zahlungssystem: str, aufgabe: str) -> None:
    with clock.frozen(clock.parse_iso(tag)):
        case = CaseDriver(deployed, PROCESS)
        case.complete(ERFASSEN, antrag())
        assert tasks_by_lane(case) == [("IFK", aufgabe)]
        assert case.data["zahlungssystem"] == zahlungssystem
        case.complete(aufgabe, {"abwicklung_erledigt": True, "abwicklung_am": clock.today_berlin().isoformat()})
    assert case.status == "completed"
    assert "fahrtkosten_betrag" not in case.data


@pytest.mark.parametrize(
    ("tag", "neu", "lane"),
    [("2025-03-31T23:50:00+02:00", False, "IFK"), ("2025-04-01T00:10:00+02:00", True, "EGS")],
)
def test_umstellungstag_der_ifk_unterstuetzung_entscheidet_die_tabelle(
    deployed: Engine, tag: str, neu: bool, lane: str
) -> None:
    """Konzept § 1: from 01.04.2025 EGS does the processing – decided by the table umstellung_ifk_neu."""
    with clock.frozen(clock.parse_iso(tag)):
        case = CaseDriver(deployed, PROCESS)
        case.complete(ERFASSEN, antrag())
        assert case.data["stichtag"] == tag[:10]
        assert case.data["ifk_unterstuetzung_neu"] is neu
        assert {lane_name for lane_name, _ in tasks_by_lane(case)} == {lane}
