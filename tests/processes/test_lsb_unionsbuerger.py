"""Path tests for LSB support with EU citizens in employment (Konzept Ziffer 4.3, Unionsbürger).

EGS collects the evidence of worker status and requests what is missing (deadline from the configuration);
only LSB decides about the exclusion under § 7 Abs. 1 Satz 2 SGB II.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from engine import clock
from engine.api import Engine
from engine.errors import FormValidationError, PermissionDeniedError
from tests.support.cases import CaseDriver

PROCESS = "lsb_unionsbuerger"
ERFASSEN = "Person und Beschäftigung erfassen"
NACHWEISE = "Nachweise zur Arbeitnehmereigenschaft prüfen"
ANFORDERN = "Fehlende Nachweise anfordern"
EINGANG = "Eingang der Nachweise erfassen"
ENTSCHEIDUNG = "Arbeitnehmereigenschaft und Leistungsausschluss prüfen"
HINWEIS = "Auf Überbrückungsleistungen hinweisen"
FRIST_TAGE = 14  # config/egs.toml fristen.unterlagen_tage


def heute() -> str:
    return clock.today_berlin().isoformat()


def erfassung(**fields: Any) -> dict[str, Any]:
    return {
        "vorname": "Ionut",
        "nachname": "Marinescu",
        "geburtsdatum": "1991-07-14",
        "staatsangehoerigkeit": "RO",
        "einreise_am": "2024-09-01",
        "bg_nummer": "07402//0094744",
        "rentenversicherungsnummer": "65170839J003",
        "steuer_id": "36574261809",
        "beschaeftigungsart": "sozialversicherungspflichtig",
        "arbeitgeber": "Logistik Leinetal GmbH",
        "beschaeftigt_seit": "2024-10-01",
        "befristet": True,
        "befristet_bis": "2025-09-30",
        "wochenstunden": 20,
        "bruttolohn_monat": 1100.5,
        **fields,
    }


VOLLSTAENDIG = {
    "nachweise_vorgelegt": ["arbeitsvertrag", "lohnabrechnungen", "arbeitszeitnachweise"],
    "nachweise_vollstaendig": True,
}
UNVOLLSTAENDIG = {
    "nachweise_vorgelegt": ["arbeitsvertrag"],
    "nachweise_vollstaendig": False,
    "fehlende_nachweise": "Lohnabrechnungen Oktober bis Dezember",
}


def bis_zu_den_nachweisen(engine: Engine) -> CaseDriver:
    case = CaseDriver(engine, PROCESS, site="56.4")
    case.complete(ERFASSEN, erfassung())
    assert case.open_task_names() == [NACHWEISE]
    return case


def entscheidung(entscheidung_lsb: str, **fields: Any) -> dict[str, Any]:
    return {
        "arbeitnehmereigenschaft": "arbeitnehmer",
        "entscheidung_lsb": entscheidung_lsb,
        "begruendung_lsb": "20 Wochenstunden, 1.100 € brutto: tatsächliche und echte Tätigkeit.",
        "entschieden_am": heute(),
        **fields,
    }


def test_complete_evidence_goes_to_lsb_which_finds_no_exclusion(deployed: Engine) -> None:
    case = bis_zu_den_nachweisen(deployed)
    case.complete(NACHWEISE, VOLLSTAENDIG)
    [task] = case.open_tasks()
    assert (task.name, task.lane, task.egs_role) == (ENTSCHEIDUNG, "LSB", "informatorisch Beteiligter")
    with pytest.raises(PermissionDeniedError):
        case.complete(ENTSCHEIDUNG, entscheidung("anspruch"), as_user="egs")
    case.complete(ENTSCHEIDUNG, entscheidung("anspruch"))
    assert case.status == "completed"
    assert case.data["bruttolohn_monat"] == 1100.5 and case.data["entscheidung_lsb"] == "anspruch"
    assert case.header.applicant_name == "Marinescu, Ionut"


def test_missing_evidence_requested_received_in_time_then_exclusion_and_hint(deployed: Engine) -> None:
    case = bis_zu_den_nachweisen(deployed)
    case.complete(NACHWEISE, UNVOLLSTAENDIG)
    assert case.open_task_names() == [ANFORDERN]
    case.complete(ANFORDERN, {"anforderung_versandt_am": heute(), "mitwirkung_belehrt": True})
    [task] = case.open_tasks()
    assert task.name == EINGANG and task.due_at is not None
    assert case.fire_timers(days=FRIST_TAGE - 1) == 0
    case.complete(EINGANG, {"nachweise_eingang_am": heute(), "eingegangene_nachweise": "3 Lohnabrechnungen"})
    assert case.open_task_names() == [NACHWEISE], "the evidence is checked again"
    case.complete(NACHWEISE, VOLLSTAENDIG)
    with pytest.raises(FormValidationError) as caught:
        case.complete(ENTSCHEIDUNG, entscheidung("ausschluss", arbeitnehmereigenschaft="nein"))
    assert list(caught.value.field_errors) == ["ausschlussgrund"]
    case.complete(
        ENTSCHEIDUNG, entscheidung("ausschluss", arbeitnehmereigenschaft="nein", ausschlussgrund="arbeitsuche")
    )
    [hint] = case.open_tasks()
    assert (hint.name, hint.lane, hint.egs_role) == (HINWEIS, "EGS", "Durchführender")
    case.complete(
        HINWEIS, {"hinweis_erteilt_am": heute(), "hinweise": ["ueberbrueckungsleistungen", "rueckreisekosten"]}
    )
    assert case.status == "completed"
    assert case.fire_timers(days=60) == 0


def test_deadline_expires_and_lsb_decides_with_what_is_there(deployed: Engine) -> None:
    case = bis_zu_den_nachweisen(deployed)
    case.complete(NACHWEISE, UNVOLLSTAENDIG)
    case.complete(ANFORDERN, {"anforderung_versandt_am": heute(), "mitwirkung_belehrt": True})
    [task] = case.open_tasks()
    assert task.due_at is not None
    assert abs(task.due_at - (clock.now() + timedelta(days=FRIST_TAGE))) < timedelta(minutes=1)
    assert case.fire_timers(days=FRIST_TAGE + 0.1) == 1
    [lsb] = case.open_tasks()
    assert (lsb.name, lsb.lane) == (ENTSCHEIDUNG, "LSB")
    case.complete(ENTSCHEIDUNG, entscheidung("versagung", arbeitnehmereigenschaft="nein"))
    assert case.status == "completed"
    assert case.data["nachweise_vollstaendig"] is False


def test_invalid_identifiers_and_amounts_are_refused(deployed: Engine) -> None:
    case = CaseDriver(deployed, PROCESS, site="56.4")
    [task] = case.open_tasks()
    wrong = {
        "steuer_id": "36574261808",
        "rentenversicherungsnummer": "65170839J004",
        "bg_nummer": "07402/0094744",
        "bruttolohn_monat": -5,
        "wochenstunden": 61,
        "staatsangehoerigkeit": "DE",
        "beschaeftigt_seit": (clock.today_berlin() + timedelta(days=3)).isoformat(),
    }
    for field, value in wrong.items():
        with pytest.raises(FormValidationError) as caught:
            case.complete(ERFASSEN, erfassung(**{field: value}))
        assert list(caught.value.field_errors) == [field], field
    with pytest.raises(FormValidationError) as caught:
        case.complete(ERFASSEN, {k: v for k, v in erfassung().items() if k != "befristet_bis"})
    assert list(caught.value.field_errors) == ["befristet_bis"]
    with pytest.raises(FormValidationError) as caught:
        case.complete(ERFASSEN, {**erfassung(), "bemerkung": "frei"})
    assert list(caught.value.field_errors) == ["bemerkung"], "unknown fields are refused"
    [still] = case.open_tasks()
    assert still.task_uuid == task.task_uuid and "arbeitgeber" not in case.data
    unbefristet = {k: v for k, v in erfassung(befristet=False).items() if k != "befristet_bis"}
    case.complete(ERFASSEN, unbefristet)
    assert case.open_task_names() == [NACHWEISE]


def test_any_amount_in_cents_is_accepted(deployed: Engine) -> None:
    case = CaseDriver(deployed, PROCESS, site="56.4")
    case.complete(ERFASSEN, erfassung(bruttolohn_monat=1234.56, nettolohn_monat=19.99))
    assert case.open_task_names() == [NACHWEISE]
