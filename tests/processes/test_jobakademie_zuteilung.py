"""Fallzuteilung an die Jobakademie (Clearing), Konzept Ziffer 4.2 und 4.4.

Walks every flow of ``jobakademie_zuteilung``: the TL provides the Verteilungsliste, EGS allocates, a case
without a free place goes back to the TL list, the invitation has a deadline (boundary timer) that
returns the case for a new allocation when it passes, and the IFK is informed at the end.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from lxml import etree

from engine import clock
from engine.api import Engine
from engine.errors import FormValidationError
from tests.support.cases import CaseDriver
from tests.support.engines import PROCESSES
from tests.support.records import timer_events

PROCESS = "jobakademie_zuteilung"
NEUFALL = "Neufall für die Jobakademie erfassen"
LISTE = "Verteilungsliste der Jobakademie bereitstellen"
ZUTEILEN = "Fall der Jobakademie zuteilen"
EINLADUNG = "Einladung zur Jobakademie versenden"
KENNTNIS = "Zuteilung zur Jobakademie zur Kenntnis nehmen"

START = clock.parse_iso("2025-04-14T09:00:00+02:00")

NEUFALL_DATEN = {
    "vorname": "Selin",
    "nachname": "Wöhlkens",
    "bg_nummer": "07402//0094760",
    "erstgespraech_am": "2025-04-14",
    "zuteilungshinweise": ["kinderbetreuung"],
}
LISTE_DATEN = {
    "verteilungsliste_bezeichnung": "Verteilungsliste Jobakademie KW 16",
    "verteilungsliste_stand": "2025-04-14",
    "gruppen_mit_freien_plaetzen": "JA-2025-17 ab 28.04.2025: 3 Plätze",
}


def zuteilung(frist: str = "2025-04-17", **overrides: Any) -> dict[str, Any]:
    return {
        "platz_verfuegbar": True,
        "jobakademie_gruppe": "JA-2025-17",
        "gruppe_beginn": "2025-04-28",
        "einladung_spaetestens_am": frist,
        **overrides,
    }


EINLADUNG_DATEN = {"einladung_versandt_am": "2025-04-15", "einladungsweg": "post", "rechtsfolgenbelehrung": True}


def tasks_by_lane(case: CaseDriver) -> list[tuple[str, str]]:
    return sorted((t.lane, t.name) for t in case.open_tasks())


def bis_zur_zuteilung(deployed: Engine) -> CaseDriver:
    case = CaseDriver(deployed, PROCESS)
    assert tasks_by_lane(case) == [("EGS", NEUFALL)]
    case.complete(NEUFALL, NEUFALL_DATEN)
    assert tasks_by_lane(case) == [("TL", LISTE)], "the TL provides the Verteilungsliste"
    case.complete(LISTE, LISTE_DATEN)
    assert tasks_by_lane(case) == [("EGS", ZUTEILEN)]
    return case


def test_zuteilung_einladung_und_information_der_ifk(deployed: Engine) -> None:
    with clock.frozen(START):
        case = bis_zur_zuteilung(deployed)
        case.complete(ZUTEILEN, zuteilung("2025-04-17"))
    assert tasks_by_lane(case) == [("EGS", EINLADUNG)]
    assert case.task(EINLADUNG).due_at == START + timedelta(days=4), "due the day after the invitation deadline"

    with clock.frozen(START + timedelta(days=1)):
        case.complete(EINLADUNG, EINLADUNG_DATEN)
    assert tasks_by_lane(case) == [("IFK", KENNTNIS)]
    assert case.fire_timers(at=START + timedelta(days=30)) == 0, "the invitation was sent in time"
    assert timer_events(deployed, case.instance_id) == []

    case.complete(KENNTNIS, {"kenntnis_genommen": True})
    assert case.status == "completed"
    data = case.data
    assert (data["jobakademie_gruppe"], data["einladung_versandt_am"]) == ("JA-2025-17", "2025-04-15")


def test_ohne_freien_platz_zurueck_an_die_liste_der_teamleitung(deployed: Engine) -> None:
    with clock.frozen(START):
        case = bis_zur_zuteilung(deployed)
        case.complete(ZUTEILEN, {"platz_verfuegbar": False, "kein_platz_grund": "Alle Gruppen bis Mai belegt."})
        assert tasks_by_lane(case) == [("TL", LISTE)], "no EGS task while the TL updates the list"
        case.complete(LISTE, {**LISTE_DATEN, "gruppen_mit_freien_plaetzen": "JA-2025-19 ab 12.05.2025: 2 Plätze"})
        case.complete(ZUTEILEN, zuteilung("2025-05-02", jobakademie_gruppe="JA-2025-19", gruppe_beginn="2025-05-12"))
    assert tasks_by_lane(case) == [("EGS", EINLADUNG)]
    assert case.data["kein_platz_grund"] == "Alle Gruppen bis Mai belegt."


def test_abgelaufene_einladungsfrist_fuehrt_zur_neuen_zuteilung(deployed: Engine) -> None:
    with clock.frozen(START):
        case = bis_zur_zuteilung(deployed)
        case.complete(ZUTEILEN, zuteilung("2025-04-15"))
    due = START + timedelta(days=2)
    assert case.fire_timers(at=due - timedelta(seconds=1)) == 0
    assert tasks_by_lane(case) == [("EGS", EINLADUNG)]

    assert case.fire_timers(at=due + timedelta(minutes=1)) == 1
    assert tasks_by_lane(case) == [("EGS", ZUTEILEN)], "the invitation task is withdrawn, the case is re-allocated"
    assert [e["timers"] for e in timer_events(deployed, case.instance_id)] == [["Einladungsfrist abgelaufen"]]
    assert case.fire_timers(at=due + timedelta(days=1)) == 0, "fires once"

    with clock.frozen(due + timedelta(hours=1)):
        case.complete(ZUTEILEN, zuteilung("2025-04-22", jobakademie_gruppe="JA-2025-18", gruppe_beginn="2025-05-05"))
        case.complete(EINLADUNG, {**EINLADUNG_DATEN, "einladung_versandt_am": "2025-04-16"})
    assert tasks_by_lane(case) == [("IFK", KENNTNIS)]
    assert case.data["jobakademie_gruppe"] == "JA-2025-18"


def test_zuteilung_verlangt_gruppe_und_frist_oder_einen_grund(deployed: Engine) -> None:
    with clock.frozen(START):
        case = bis_zur_zuteilung(deployed)
        task = case.task(ZUTEILEN).task_uuid
        egs = deployed.actor("egs")
        with pytest.raises(FormValidationError) as refused:
            deployed.complete_task(egs, task, {"platz_verfuegbar": True})
        assert set(refused.value.field_errors) == {"jobakademie_gruppe", "gruppe_beginn", "einladung_spaetestens_am"}
        with pytest.raises(FormValidationError) as refused:
            deployed.complete_task(egs, task, {"platz_verfuegbar": False})
        assert set(refused.value.field_errors) == {"kein_platz_grund"}
        case.complete(ZUTEILEN, zuteilung())
        with pytest.raises(FormValidationError) as refused:
            deployed.complete_task(
                egs,
                case.task(EINLADUNG).task_uuid,
                {**EINLADUNG_DATEN, "einladung_versandt_am": "2025-04-14", "rechtsfolgenbelehrung": False},
            )
        assert list(refused.value.field_errors) == ["rechtsfolgenbelehrung"]
    assert tasks_by_lane(case) == [("EGS", EINLADUNG)] and "einladungsweg" not in case.data


def test_die_zuteilung_gibt_es_nur_in_diesem_einen_prozess() -> None:
    """TP1 hands its new applicants over by message instead of allocating them in a branch of its own."""
    bpmn = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
    allocating = {
        path.stem
        for path in PROCESSES.glob("*.bpmn")
        for task in etree.parse(str(path)).iter(f"{bpmn}userTask")
        if "Jobakademie" in (task.get("name") or "") and "zuteil" in (task.get("name") or "").lower()
    }
    assert allocating == {PROCESS}
    tp1 = etree.parse(str(PROCESSES / "tp1_steuerung_neuantragsteller.bpmn"))
    assert {m.get("name") for m in tp1.iter(f"{bpmn}message")} >= {"Neufall Jobakademie", "Jobakademie zugeteilt"}
