"""Path tests for the safeguard of EGS staffing (Sicherstellung der EGS-Besetzung, Konzept Ziffer 7).

Risk signal against the thresholds of config/egs.toml [sicherstellung], FDL decision, time-limited redeployment
(end date validated against sicherstellung.umsetzung_hoechstens_tage), information, end by timer or early, review.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from engine import clock
from engine.api import Engine
from engine.auth import system_actor
from engine.demo import create_demo_users
from engine.errors import FormValidationError, PermissionDeniedError
from tests.support.cases import CaseDriver
from tests.support.engines import PROCESSES, ROOT, make_engine

PROCESS = "sicherstellung_egs_besetzung"
KENNZAHLEN = "Kennzahlen zur Besetzung erfassen"
ENTSCHEIDUNG = "Über Umsetzung in den EGS entscheiden"
KORRIGIEREN = "Umsetzungszeitraum korrigieren"
INFORMATION = "Beschäftigte und Teams über die Umsetzung informieren"
EINWEISUNG = "Umgesetzte Beschäftigte im EGS einweisen"
BEGLEITEN = "Umsetzung läuft – bei Bedarf vorzeitig beenden"
UEBERPRUEFUNG = "Umsetzung beenden und Besetzung überprüfen"
HOECHSTENS_TAGE = 90  # config/egs.toml sicherstellung.umsetzung_hoechstens_tage


def tag(tage: int = 0) -> str:
    return (clock.today_berlin() + timedelta(days=tage)).isoformat()


def kennzahlen(offen: int, ueberfaellig: int, soll: float = 4.0, abwesend: float = 1.5) -> dict[str, Any]:
    return {
        "gemeldet_von": "egs",
        "stichtag": tag(),
        "offene_aufgaben": offen,
        "ueberfaellige_aufgaben": ueberfaellig,
        "vzae_soll": soll,
        "vzae_abwesend": abwesend,
        "abwesenheitsgruende": "Urlaub, Krankheit",
    }


def umsetzung(von: str, bis: str, **fields: Any) -> dict[str, Any]:
    return {
        "massnahme": "umsetzung",
        "begruendung_entscheidung": "Zwei Kolleginnen langfristig erkrankt, Wartezeiten über einer Stunde.",
        "umsetzung_von": von,
        "umsetzung_bis": bis,
        "beschaeftigte_lsb": "Petra Sandmann\nJonas Kerbel",
        "vzae_lsb": 1.5,
        **fields,
    }


def lanes(case: CaseDriver) -> list[tuple[str, str]]:
    return sorted((t.name, t.lane) for t in case.open_tasks())


def gefaehrdet_bis_zur_entscheidung(engine: Engine) -> CaseDriver:
    case = CaseDriver(engine, PROCESS, site="56.4")
    assert lanes(case) == [(KENNZAHLEN, "EGS")]
    case.complete(KENNZAHLEN, kennzahlen(offen=150, ueberfaellig=12))
    assert lanes(case) == [(ENTSCHEIDUNG, "FDL")]
    return case


def bis_zur_umsetzung(case: CaseDriver, bis: str) -> None:
    information = {"information_am": tag(), "informiert": ["beschaeftigte", "team_lsb"], "vertretung_geregelt": True}
    case.complete(INFORMATION, information)
    assert lanes(case) == [(EINWEISUNG, "EGS")]
    case.complete(EINWEISUNG, {"einweisung_am": tag(), "einweisung_inhalte": ["besuchersteuerung", "post"]})
    [task] = case.open_tasks()
    assert (task.name, task.lane) == (BEGLEITEN, "FDL")
    assert task.due_at is not None and task.due_at.astimezone(clock.BERLIN).date().isoformat() > bis


def test_below_the_thresholds_nothing_happens(deployed: Engine) -> None:
    case = CaseDriver(deployed, PROCESS, site="56.4")
    # 4 VZÄ planned, 1.5 absent → 2.5 present; 100 open = 40 per present VZÄ (not above), 10 overdue (not above)
    case.complete(KENNZAHLEN, kennzahlen(offen=100, ueberfaellig=10))
    assert case.status == "completed"
    data = case.data
    assert (data["gefaehrdet"], data["gefaehrdungsgruende"]) == (False, [])
    assert (data["schwelle_offene_je_vzae"], data["schwelle_ueberfaellige"]) == (40, 10), "read from the configuration"
    assert (data["vzae_anwesend"], data["offene_je_vzae"], data["abwesenheitsquote"]) == (2.5, 40.0, 0.38)


def test_risk_but_fdl_decides_no_redeployment(deployed: Engine) -> None:
    case = CaseDriver(deployed, PROCESS, site="56.4")
    case.complete(KENNZAHLEN, kennzahlen(offen=101, ueberfaellig=0))
    assert case.data["gefaehrdungsgruende"] == ["offene Aufgaben je anwesendem VZÄ über der Schwelle"]
    [task] = case.open_tasks()
    assert (task.lane, task.egs_role) == ("FDL", "informatorisch Beteiligter")
    case.complete(ENTSCHEIDUNG, {"massnahme": "keine", "begruendung_entscheidung": "Terminvergabe wird gestrafft."})
    assert case.status == "completed"
    assert "umsetzung_bis" not in case.data


def test_redeployment_with_correction_timer_end_and_new_assessment(deployed: Engine) -> None:
    case = gefaehrdet_bis_zur_entscheidung(deployed)
    zu_lang = tag(HOECHSTENS_TAGE + 1)
    case.complete(ENTSCHEIDUNG, umsetzung(tag(), zu_lang, vzae_ifk=0))
    assert lanes(case) == [(KORRIGIEREN, "FDL")]
    assert case.data["umsetzung_zeitraum_zulaessig"] is False
    assert case.data["umsetzung_hoechstens_bis"] == tag(HOECHSTENS_TAGE)

    with pytest.raises(FormValidationError) as caught:  # the latest end date is shown, not editable
        case.complete(
            KORRIGIEREN, {"umsetzung_hoechstens_bis": tag(400), "umsetzung_von": tag(), "umsetzung_bis": tag(400)}
        )
    assert list(caught.value.field_errors) == ["umsetzung_hoechstens_bis"]
    case.complete(KORRIGIEREN, {"umsetzung_von": tag(), "umsetzung_bis": tag(-1)})  # end in the past: again
    assert lanes(case) == [(KORRIGIEREN, "FDL")]
    case.complete(KORRIGIEREN, {"umsetzung_von": tag(), "umsetzung_bis": tag(30)})
    assert lanes(case) == [(INFORMATION, "TL")]
    assert case.data["umsetzung_zeitraum_zulaessig"] is True

    bis_zur_umsetzung(case, tag(30))
    assert case.fire_timers(days=30) == 0, "the redeployment runs until the end of its last day"
    assert case.open_task_names() == [BEGLEITEN]
    assert case.fire_timers(days=31.5) == 1
    assert lanes(case) == [(UEBERPRUEFUNG, "FDL")]
    case.complete(
        UEBERPRUEFUNG,
        {"rueckkehr_bestaetigt": True, "besetzung_ausreichend": False, "bewertung": "Krankenstand hält an."},
    )
    assert lanes(case) == [(KENNZAHLEN, "EGS")], "the situation is assessed again"
    case.complete(KENNZAHLEN, kennzahlen(offen=20, ueberfaellig=0, abwesend=0))
    assert case.status == "completed"
    assert case.data["gefaehrdet"] is False


def test_redeployment_ended_early_by_the_fdl(deployed: Engine) -> None:
    case = gefaehrdet_bis_zur_entscheidung(deployed)
    with pytest.raises(FormValidationError) as caught:
        case.complete(ENTSCHEIDUNG, umsetzung(tag(), tag(60), vzae_ifk=0.5))
    assert set(caught.value.field_errors) == {"beschaeftigte_ifk", "begruendung_ifk"}
    case.complete(
        ENTSCHEIDUNG,
        umsetzung(
            tag(),
            tag(HOECHSTENS_TAGE),
            vzae_ifk=0.5,
            beschaeftigte_ifk="Lena Brakel",
            begruendung_ifk="LSB selbst unterbesetzt (Jahresabschluss).",
        ),
    )
    assert lanes(case) == [(INFORMATION, "TL")], "exactly the maximum duration is allowed"
    bis_zur_umsetzung(case, tag(HOECHSTENS_TAGE))
    assert case.fire_timers(days=10) == 0
    case.complete(BEGLEITEN, {"vorzeitig_beendet_am": tag(), "grund_vorzeitige_beendigung": "Kolleginnen zurück."})
    assert lanes(case) == [(UEBERPRUEFUNG, "FDL")]
    case.complete(UEBERPRUEFUNG, {"rueckkehr_bestaetigt": True, "besetzung_ausreichend": True, "bewertung": "Gut."})
    assert case.status == "completed"
    assert case.fire_timers(days=HOECHSTENS_TAGE + 5) == 0, "the end timer went with the early end"


def test_overdue_tasks_alone_and_nobody_present_are_risks(deployed: Engine) -> None:
    case = CaseDriver(deployed, PROCESS, site="56.5")
    case.complete(KENNZAHLEN, kennzahlen(offen=0, ueberfaellig=11, soll=3, abwesend=3))
    assert case.data["gefaehrdungsgruende"] == ["niemand anwesend", "überfällige Aufgaben über der Schwelle"]
    assert case.data["offene_je_vzae"] is None
    assert [(t.name, t.lane, t.site) for t in case.open_tasks()] == [(ENTSCHEIDUNG, "FDL", "56.5")]


def test_refusals_store_nothing(deployed: Engine) -> None:
    case = CaseDriver(deployed, PROCESS, site="56.4")
    [task] = case.open_tasks()
    with pytest.raises(FormValidationError) as caught:
        case.complete(KENNZAHLEN, kennzahlen(offen=-1, ueberfaellig=0, soll=0))
    assert set(caught.value.field_errors) == {"offene_aufgaben", "vzae_soll"}
    with pytest.raises(FormValidationError) as caught:
        case.complete(KENNZAHLEN, {**kennzahlen(offen=1, ueberfaellig=0), "stichtag": tag(1)})
    assert list(caught.value.field_errors) == ["stichtag"]
    with pytest.raises(PermissionDeniedError):
        case.complete(KENNZAHLEN, kennzahlen(offen=1, ueberfaellig=0), as_user="lsb")
    [still] = case.open_tasks()
    assert still.task_uuid == task.task_uuid and "offene_aufgaben" not in case.data
    case.complete(KENNZAHLEN, kennzahlen(offen=500, ueberfaellig=50))
    with pytest.raises(PermissionDeniedError):
        case.complete(ENTSCHEIDUNG, {"massnahme": "keine", "begruendung_entscheidung": "x"}, as_user="egs")
    with pytest.raises(FormValidationError) as caught:
        case.complete(ENTSCHEIDUNG, {"massnahme": "umsetzung", "begruendung_entscheidung": "x"})
    assert set(caught.value.field_errors) == {"umsetzung_von", "umsetzung_bis", "beschaeftigte_lsb", "vzae_lsb"}
    assert case.open_task_names() == [ENTSCHEIDUNG]


def test_thresholds_come_from_the_configuration(db_url: str, tmp_path: Path) -> None:
    config = (ROOT / "config" / "egs.toml").read_text(encoding="utf-8")
    config = config.replace("offene_aufgaben_je_vzae = 40", "offene_aufgaben_je_vzae = 10")
    assert "offene_aufgaben_je_vzae = 10" in config
    (tmp_path / "egs.toml").write_text(config, encoding="utf-8")
    engine = make_engine(db_url, config_file=tmp_path / "egs.toml")
    try:
        engine.deploy_paths([PROCESSES], system_actor("test"))
        create_demo_users(engine)
        case = CaseDriver(engine, PROCESS, site="56.4")
        case.complete(KENNZAHLEN, kennzahlen(offen=26, ueberfaellig=0))  # 26 > 10 × 2.5
        assert case.data["schwelle_offene_je_vzae"] == 10 and case.data["gefaehrdet"] is True
        assert case.open_task_names() == [ENTSCHEIDUNG]
    finally:
        engine.close()
