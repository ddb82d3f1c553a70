"""Path tests for the safeguard of EGS staffing (Sicherstellung der EGS-Besetzung, Konzept Ziffer 7).

The figures come from the engine (service task ``besetzung.kennzahlen``: staff, absences, holidays, open
tasks, the risk rule of config/egs.toml [sicherstellung]); the FDL decides; a redeployment grants the named
LSB/IFK staff the EGS group for the period (``besetzung.umsetzen``, end validated against
sicherstellung.umsetzung_hoechstens_tage) and ends it by timer or early (``besetzung.umsetzung_beenden``).
The clock stands on a working day: on weekends and holidays the rule never holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from engine import clock
from engine.api import Engine
from engine.auth import system_actor
from engine.demo import create_demo_users
from engine.errors import FormValidationError, PermissionDeniedError, RuleViolationError
from engine.staff import StaffInput
from tests.support.cases import CaseDriver
from tests.support.engines import PROCESSES, ROOT, make_engine
from tests.support.records import audit_events

PROCESS = "sicherstellung_egs_besetzung"
ENTSCHEIDUNG = "Über Umsetzung in den EGS entscheiden"
KORRIGIEREN = "Umsetzungszeitraum korrigieren"
INFORMATION = "Beschäftigte und Teams über die Umsetzung informieren"
EINWEISUNG = "Umgesetzte Beschäftigte im EGS einweisen"
BEGLEITEN = "Umsetzung läuft – bei Bedarf vorzeitig beenden"
UEBERPRUEFUNG = "Umsetzung beenden und Besetzung überprüfen"
HOECHSTENS_TAGE = 90  # config/egs.toml sicherstellung.umsetzung_hoechstens_tage
TUESDAY = date(2026, 12, 8)


@pytest.fixture(autouse=True)
def working_day() -> Iterator[None]:
    with clock.frozen(datetime.combine(TUESDAY, time(9), clock.BERLIN)):
        yield


def tag(tage: int = 0) -> str:
    return (clock.today_berlin() + timedelta(days=tage)).isoformat()


def staff(engine: Engine, site: str = "56.4", egs: int = 1) -> None:
    """``egs`` EGS staff (the rule wants 2 present), an LSB and an IFK person with logins (demo lsb, ifk)."""
    fdl = system_actor("test")
    for i in range(egs):
        engine.add_staff(fdl, site, StaffInput(f"EGS {i}", "EGS", Decimal(39), date(2020, 1, 1)))
    engine.add_staff(fdl, site, StaffInput("Petra Sandmann", "LSB", Decimal(39), date(2020, 1, 1), None, "lsb"))
    engine.add_staff(fdl, site, StaffInput("Lena Brakel", "IFK", Decimal(30), date(2020, 1, 1), None, "ifk"))


def umsetzung(von: str, bis: str, **fields: Any) -> dict[str, Any]:
    return {
        "massnahme": "umsetzung",
        "begruendung_entscheidung": "Zwei Kolleginnen langfristig erkrankt, Wartezeiten über einer Stunde.",
        "umsetzung_von": von,
        "umsetzung_bis": bis,
        "beschaeftigte_lsb": "Petra Sandmann",
        "vzae_lsb": 1.0,
        **fields,
    }


def lanes(case: CaseDriver) -> list[tuple[str, str]]:
    return sorted((t.name, t.lane) for t in case.open_tasks())


def gefaehrdet_bis_zur_entscheidung(engine: Engine) -> CaseDriver:
    staff(engine)
    case = CaseDriver(engine, PROCESS, site="56.4")
    assert lanes(case) == [(ENTSCHEIDUNG, "FDL")], "figures computed, not typed in"
    assert case.data["gefaehrdungsgruende"] == ["weniger als 2 EGS-Beschäftigte anwesend"]
    return case


def bis_zur_umsetzung(case: CaseDriver, bis: str) -> None:
    information = {"information_am": tag(), "informiert": ["beschaeftigte", "team_lsb"], "vertretung_geregelt": True}
    case.complete(INFORMATION, information)
    assert lanes(case) == [(EINWEISUNG, "EGS")]
    case.complete(EINWEISUNG, {"einweisung_am": tag(), "einweisung_inhalte": ["besuchersteuerung", "post"]})
    [task] = case.open_tasks()
    assert (task.name, task.lane) == (BEGLEITEN, "FDL")
    assert task.due_at is not None and task.due_at.astimezone(clock.BERLIN).date().isoformat() > bis


def test_ausreichend_besetzt_nichts_passiert(deployed: Engine) -> None:
    staff(deployed, egs=2)
    case = CaseDriver(deployed, PROCESS, site="56.4")
    assert case.status == "completed"
    data = case.data
    assert (data["gefaehrdet"], data["gefaehrdungsgruende"]) == (False, [])
    figures = data["kennzahlen"]
    assert (figures["egs_anwesend"], figures["schwelle_egs_anwesend"], figures["stichtag"]) == (2, 2, tag())
    assert figures["vzae_anteile"].startswith("VZÄ-Anteile wie im Konzept")


def test_gefaehrdet_aber_keine_umsetzung(deployed: Engine) -> None:
    case = gefaehrdet_bis_zur_entscheidung(deployed)
    [task] = case.open_tasks()
    assert (task.lane, task.egs_role) == ("FDL", "informatorisch Beteiligter")
    case.complete(ENTSCHEIDUNG, {"massnahme": "keine", "begruendung_entscheidung": "Terminvergabe wird gestrafft."})
    assert case.status == "completed"
    assert "umsetzung_bis" not in case.data and audit_events(deployed, "redeployment_granted") == []


def test_umsetzung_mit_korrektur_timer_ende_und_neuer_bewertung(deployed: Engine) -> None:
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
    assert not deployed.actor("lsb").has_group("EGS", "56.4")
    case.complete(KORRIGIEREN, {"umsetzung_von": tag(), "umsetzung_bis": tag(30)})
    assert lanes(case) == [(INFORMATION, "TL")]
    assert case.data["umsetzung"]["personen"] == ["Petra Sandmann"]
    assert deployed.actor("lsb").has_group("EGS", "56.4"), "the grant is there from today"
    [granted] = audit_events(deployed, "redeployment_granted")
    assert granted.actor == "fdl" and granted.details["bis"] == tag(30)

    bis_zur_umsetzung(case, tag(30))
    assert case.fire_timers(days=30) == 0, "the redeployment runs until the end of its last day"
    assert case.open_task_names() == [BEGLEITEN]
    assert case.fire_timers(days=31.5) == 1
    assert lanes(case) == [(UEBERPRUEFUNG, "FDL")]
    [ended] = audit_events(deployed, "redeployment_ended")
    assert ended.details["vorzeitig"] is False
    with clock.frozen(datetime.combine(TUESDAY + timedelta(days=31), time(9), clock.BERLIN)):  # a Friday
        assert not deployed.actor("lsb").has_group("EGS", "56.4")
        case.complete(
            UEBERPRUEFUNG,
            {"rueckkehr_bestaetigt": True, "besetzung_ausreichend": False, "bewertung": "Krankenstand hält an."},
        )
        assert lanes(case) == [(ENTSCHEIDUNG, "FDL")], "the situation is computed again: still at risk"
        deployed.add_staff(system_actor("test"), "56.4", StaffInput("EGS neu", "EGS", Decimal(39), date(2020, 1, 1)))
        case.complete(ENTSCHEIDUNG, {"massnahme": "keine", "begruendung_entscheidung": "Neue Kollegin ab heute."})
    assert case.status == "completed"


def test_umsetzung_vorzeitig_beendet(deployed: Engine) -> None:
    case = gefaehrdet_bis_zur_entscheidung(deployed)
    with pytest.raises(FormValidationError) as caught:
        case.complete(ENTSCHEIDUNG, umsetzung(tag(), tag(60), vzae_ifk=0.5))
    assert set(caught.value.field_errors) == {"beschaeftigte_ifk", "begruendung_ifk"}
    with pytest.raises(RuleViolationError, match="'Nemo' gehört nicht zur LSB"):
        case.complete(ENTSCHEIDUNG, umsetzung(tag(), tag(60), beschaeftigte_lsb="Petra Sandmann\nNemo"))
    assert audit_events(deployed, "redeployment_granted") == [], "all or nothing"
    case.complete(
        ENTSCHEIDUNG,
        umsetzung(
            tag(),
            tag(HOECHSTENS_TAGE),
            vzae_ifk=0.5,
            beschaeftigte_ifk="Lena Brakel",
            begruendung_ifk="LSB selbst unterbesetzt (Jahresabschluss).",
        ),  # fmt: skip
    )
    assert lanes(case) == [(INFORMATION, "TL")], "exactly the maximum duration is allowed"
    assert deployed.actor("ifk").has_group("EGS", "56.4") and deployed.actor("lsb").has_group("EGS", "56.4")
    bis_zur_umsetzung(case, tag(HOECHSTENS_TAGE))
    assert case.fire_timers(days=10) == 0
    case.complete(BEGLEITEN, {"vorzeitig_beendet_am": tag(), "grund_vorzeitige_beendigung": "Kolleginnen zurück."})
    assert lanes(case) == [(UEBERPRUEFUNG, "FDL")]
    assert not deployed.actor("lsb").has_group("EGS", "56.4"), "an early end ends the grant now"
    assert [e.details["vorzeitig"] for e in audit_events(deployed, "redeployment_ended")] == [True, True]
    case.complete(UEBERPRUEFUNG, {"rueckkehr_bestaetigt": True, "besetzung_ausreichend": True, "bewertung": "Gut."})
    assert case.status == "completed"
    assert case.fire_timers(days=HOECHSTENS_TAGE + 5) == 0, "the end timer went with the early end"


def test_refusals_store_nothing(deployed: Engine) -> None:
    case = gefaehrdet_bis_zur_entscheidung(deployed)
    with pytest.raises(PermissionDeniedError):
        case.complete(ENTSCHEIDUNG, {"massnahme": "keine", "begruendung_entscheidung": "x"}, as_user="egs")
    with pytest.raises(FormValidationError) as caught:
        case.complete(ENTSCHEIDUNG, {"massnahme": "umsetzung", "begruendung_entscheidung": "x"})
    assert set(caught.value.field_errors) == {"umsetzung_von", "umsetzung_bis", "beschaeftigte_lsb", "vzae_lsb"}
    with pytest.raises(RuleViolationError, match="nicht zur LSB"):  # an IFK person named as LSB
        case.complete(ENTSCHEIDUNG, umsetzung(tag(), tag(5), beschaeftigte_lsb="Lena Brakel"))
    assert case.open_task_names() == [ENTSCHEIDUNG]


def test_thresholds_come_from_the_configuration(db_url: str, tmp_path: Path) -> None:
    config = (ROOT / "config" / "egs.toml").read_text(encoding="utf-8")
    config = config.replace("egs_mindestens_anwesend = 2", "egs_mindestens_anwesend = 1")
    assert "egs_mindestens_anwesend = 1" in config
    (tmp_path / "egs.toml").write_text(config, encoding="utf-8")
    engine = make_engine(db_url, config_file=tmp_path / "egs.toml")
    try:
        engine.deploy_paths([PROCESSES], system_actor("test"))
        create_demo_users(engine)
        staff(engine, egs=1)
        case = CaseDriver(engine, PROCESS, site="56.4")
        assert case.data["kennzahlen"]["schwelle_egs_anwesend"] == 1 and case.data["gefaehrdet"] is False
    finally:
        engine.close()
