"""Helpers to walk PB Antragsannahme through the engine API in tests."""

from __future__ import annotations

from typing import Any

from engine import clock
from engine.api import Engine
from engine.auth import Actor
from engine.inbox import TaskSummary
from engine.read_models import CaseHeader

PROCESS = "pb_antragsannahme"

# Task names in the order of the main path.
ANMELDEN = "Besucher anmelden und Anliegen erfassen"
ANNEHMEN = "Antrag annehmen und Identität prüfen"
BG_ERFASSEN = "Bedarfsgemeinschaft erfassen"
VORRANG_HINWEISEN = "Auf vorrangige Leistungen hinweisen (§ 12a SGB II)"
NEU_ANLEGEN = "Antrag in OPEN/PROSOZ anlegen"
PAPIERAKTE_ANLEGEN = "Papierakte anlegen bzw. ergänzen"
EAKTE_ANLEGEN = "Unterlagen in die e-Akte (Doxis) übernehmen"
VOLLSTAENDIGKEIT_PRUEFEN = "Vollständigkeit prüfen"
VORPRUEFEN = "Antrag vorprüfen und Unterlagenbedarf festlegen"
ANFORDERN = "Fehlende Unterlagen anfordern"
EINGANG_ERFASSEN = "Eingang der Unterlage erfassen"
ERINNERN = "Erinnerung mit Rechtsfolgenbelehrung versenden"
VERSAGUNG_PRUEFEN = "Versagung prüfen (§ 66 SGB I)"
TERMINE_DOKUMENTIEREN = "Termine des EGS im Leistungsfall dokumentieren"
VERTEILEN = "Fall in Verteilungsliste aufnehmen"
UEBERNEHMEN = "Antrag übernehmen"
AUSZAHLUNG_COMPASS = "Auszahlung vor dem Zahllauf in comp.ASS veranlassen"


def heute() -> str:
    return clock.today_berlin().isoformat()


def anmeldung(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "vorname": "Jana",
        "nachname": "Probstfeld",
        "geburtsdatum": "1988-04-12",
        "anliegen": "erstantrag",
        "tag_der_antragstellung": heute(),
    }
    return {**data, **overrides}


ANTRAGSANNAHME = {
    "antragsart": "hauptantrag",
    "ausgegebene_vordrucke": ["HA", "KDU"],
    "anlagen": ["KDU", "EK"],
    "ausweisart": "personalausweis",
    "ausweisnummer": "L01X00T47",
    "ausweis_gueltig_bis": "2031-05-31",
    "identitaet_geprueft": True,
    "keine_ausweiskopie": True,
    "compass_stand": "nicht_erfasst",
}
BEDARFSGEMEINSCHAFT = {
    "anzahl_personen_bg": 1,
    "rollen_in_bg": ["antragsteller"],
    "anzahl_erwerbsfaehige": 1,
    "partner_in_bg": False,
    "anzahl_kinder_unter_15": 0,
    "anzahl_kinder_15_bis_24": 0,
    "weitere_personen_haushalt": 0,
}
VORRANGIGE_LEISTUNGEN_KEYS = (
    "vorrang_kindergeld",
    "vorrang_kinderzuschlag",
    "vorrang_unterhaltsvorschuss",
    "vorrang_arbeitslosengeld",
    "vorrang_rente",
    "vorrang_wohngeld",
    "vorrang_elterngeld",
    "vorrang_ausbildungsfoerderung",
    "vorrang_krankengeld",
)


def vorrang(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {k: "nicht_einschlaegig" for k in VORRANGIGE_LEISTUNGEN_KEYS}
    data.update({"vorrang_wohngeld": "hinweis_gegeben", "aufforderung_vorrangige_antraege": False})
    data["hinweise_erteilt_am"] = heute()
    return {**data, **overrides}


def neuanlage() -> dict[str, Any]:
    return {"bg_nummer": "07402//0094744", "open_prosoz_angelegt_am": heute(), "open_prosoz_angelegt": True}


def papierakte() -> dict[str, Any]:
    return {"papierakte_angelegt_am": heute(), "papierakte_angelegt": True}


def eakte() -> dict[str, Any]:
    return {"eakte_erfasst_am": heute(), "unterlagen_gescannt": True, "scanverfahren_zertifiziert": True}


VOLLSTAENDIG = {"unterlagen_vollstaendig": True, "vorpruefung_lsb": False}
UNVOLLSTAENDIG = {"unterlagen_vollstaendig": False, "vorpruefung_lsb": False, "fehlende_unterlagen": ["kontoauszuege"]}
VERTEILUNG = {"lsb_team": "team_a"}
UEBERNAHME = {"uebernommen": True}


def termine() -> dict[str, Any]:
    return {
        "termine_egs": ["vorsprache", "antragsannahme", "erstberatung"],
        "letzter_termin_am": heute(),
        "termine_vermerk": "Antrag am Empfang angenommen, Erstberatung durchgeführt.",
        "termine_dokumentiert": True,
    }


def anforderung(frist_tage: int = 14) -> dict[str, Any]:
    return {"frist_tage": frist_tage, "anforderung_versandt_am": heute()}


def eingang() -> dict[str, Any]:
    return {"eingang_am": heute()}


def erinnerung(frist_tage: int = 7) -> dict[str, Any]:
    return {
        "erinnerung_versandt_am": heute(),
        "erinnerung_frist_tage": frist_tage,
        "rechtsfolgenbelehrung_erteilt": True,
    }


def open_task(engine: Engine, actor: Actor, instance_id: int) -> TaskSummary:
    """The single open task of a case that ``actor`` sees (fails loudly otherwise)."""
    tasks = [t for t in engine.inbox(actor) if t.instance_id == instance_id]
    assert len(tasks) == 1, f"expected one open task for {actor.username}, got {[t.name for t in tasks]}"
    return tasks[0]


def step(engine: Engine, actor: Actor, instance_id: int, expected_task: str, data: dict[str, Any]) -> CaseHeader:
    """Complete the open task of a case after checking it is the expected one."""
    task = open_task(engine, actor, instance_id)
    assert task.name == expected_task, f"open is '{task.name}', not '{expected_task}'"
    return engine.complete_task(actor, task.task_uuid, data).header


def case_waiting_for_documents(engine: Engine, frist_tage: int = 14) -> int:
    """A first claim whose missing document was requested: its deadline timer is waiting."""
    egs = engine.actor("egs")
    case = engine.start_case(egs, PROCESS)
    walk_to_documents_requested(engine, egs, case.instance_id, frist_tage)
    return case.instance_id


def walk_to_completeness_check(engine: Engine, actor: Actor, instance_id: int, **anmeldung_overrides: Any) -> None:
    """From the registration of a first claim up to the open task 'Vollständigkeit prüfen' (paper file)."""
    step(engine, actor, instance_id, ANMELDEN, anmeldung(**anmeldung_overrides))
    step(engine, actor, instance_id, ANNEHMEN, ANTRAGSANNAHME)
    step(engine, actor, instance_id, BG_ERFASSEN, BEDARFSGEMEINSCHAFT)
    step(engine, actor, instance_id, VORRANG_HINWEISEN, vorrang())
    step(engine, actor, instance_id, NEU_ANLEGEN, neuanlage())
    step(engine, actor, instance_id, PAPIERAKTE_ANLEGEN, papierakte())


def walk_to_documents_requested(engine: Engine, actor: Actor, instance_id: int, frist_tage: int = 14) -> None:
    """A first claim with one missing document (Kontoauszüge) that has just been requested."""
    walk_to_completeness_check(engine, actor, instance_id)
    step(engine, actor, instance_id, VOLLSTAENDIGKEIT_PRUEFEN, UNVOLLSTAENDIG)
    step(engine, actor, instance_id, ANFORDERN, anforderung(frist_tage))
