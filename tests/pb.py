"""Helpers to walk PB Antragsannahme through the engine API in tests."""

from __future__ import annotations

from typing import Any

from engine import clock
from engine.auth import Actor
from engine.inbox import TaskSummary
from engine.service import CaseHeader, Engine

PROCESS = "pb_antragsannahme"


def anmeldung(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "vorname": "Jana",
        "nachname": "Probstfeld",
        "geburtsdatum": "1988-04-12",
        "anliegen": "erstantrag",
        "tag_der_antragstellung": clock.today_berlin().isoformat(),
    }
    return {**data, **overrides}


ANTRAGSANNAHME = {
    "antragsart": "hauptantrag",
    "anlagen": ["KDU", "EK"],
    "ausweisart": "personalausweis",
    "ausweisnummer": "L01X00T47",
    "identitaet_geprueft": True,
}
VOLLSTAENDIG = {"unterlagen_vollstaendig": True}
UNVOLLSTAENDIG = {"unterlagen_vollstaendig": False, "fehlende_unterlagen": "Kontoauszüge der letzten 3 Monate"}
VERTEILUNG = {"lsb_team": "team_a"}
UEBERNAHME = {"uebernommen": True}


def anforderung(frist_tage: int = 14) -> dict[str, Any]:
    return {"frist_tage": frist_tage, "anforderung_versandt_am": clock.today_berlin().isoformat()}


def eingang() -> dict[str, Any]:
    return {"eingang_am": clock.today_berlin().isoformat()}


def open_task(engine: Engine, actor: Actor, instance_id: int) -> TaskSummary:
    """The single open task of a case that ``actor`` sees (fails loudly otherwise)."""
    tasks = [t for t in engine.inbox(actor) if t.instance_id == instance_id]
    assert len(tasks) == 1, f"expected one open task for {actor.username}, got {[t.name for t in tasks]}"
    return tasks[0]


def step(engine: Engine, actor: Actor, instance_id: int, expected_task: str, data: dict[str, Any]) -> CaseHeader:
    """Complete the open task of a case after checking it is the expected one."""
    task = open_task(engine, actor, instance_id)
    assert task.name == expected_task
    return engine.complete_task(actor, task.task_uuid, data)
