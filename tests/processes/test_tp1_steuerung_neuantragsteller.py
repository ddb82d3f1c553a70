"""Path tests for TP1 – Steuerung von Neuantragstellern im EGS (Konzept Ziffer 4.1, 4.2, 4.4).

Every gateway flow and the appointment timer (fired / not fired) is walked through the engine API; the case is
started directly by the EGS and by the message „Neuantrag zur Steuerung“ from PB (modelled by modeller A).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from engine import clock
from engine.api import Engine
from engine.errors import FormValidationError, PermissionDeniedError
from engine.models import ProcessInstance
from tests.support.cases import CaseDriver

PROCESS = "tp1_steuerung_neuantragsteller"
NACHFRIST_TAGE = 7  # config/egs.toml fristen.erinnerung_tage


def in_tagen(tage: float) -> str:
    """An ISO timestamp (Europe/Berlin) ``tage`` days from now, as the date-time field stores it."""
    moment = clock.now() + timedelta(days=tage)
    return moment.astimezone(clock.BERLIN).replace(microsecond=0).isoformat()


def heute() -> str:
    return clock.today_berlin().isoformat()


def einladung(tage: float = 3) -> dict[str, Any]:
    return {
        "termin_erstgespraech": in_tagen(tage),
        "einladungsart": "schriftlich",
        "einladung_versandt_am": heute(),
        "rechtsfolgenbelehrung": True,
    }


def erstgespraech(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "erschienen": True,
        "erstgespraech_am": heute(),
        "aktivierung": "angezeigt",
        "weg": "jobakademie",
        "hinweise_erteilt": ["mitwirkung", "erreichbarkeit"],
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def start_by_message(engine: Engine, site: str = "56.4") -> CaseDriver:
    """Start TP1 as PB would, by the message „Neuantrag zur Steuerung“, and drive it on."""
    payload = {"bezug": "VG-2025-000042", "vorname": "Jana", "nachname": "Probstfeld"}
    return CaseDriver.by_message(engine, PROCESS, "Neuantrag zur Steuerung", payload, site=site)


JA_LISTE = "Verteilungsliste der Jobakademie bereitstellen"
JA_ZUTEILEN = "Fall der Jobakademie zuteilen"
JA_EINLADUNG = "Einladung zur Jobakademie versenden"
JA_LISTE_DATEN = {
    "verteilungsliste_bezeichnung": "Verteilungsliste Jobakademie KW 16",
    "verteilungsliste_stand": "2025-04-14",
    "gruppen_mit_freien_plaetzen": "JA-2025-17: 3 Plätze",
}


def ja_zuteilung() -> dict[str, Any]:
    frist = (clock.today_berlin() + timedelta(days=3)).isoformat()
    beginn = (clock.today_berlin() + timedelta(days=14)).isoformat()
    return {
        "platz_verfuegbar": True,
        "jobakademie_gruppe": "JA-2025-17",
        "gruppe_beginn": beginn,
        "einladung_spaetestens_am": frist,
    }


def jobakademie_case(engine: Engine, tp1: CaseDriver) -> CaseDriver:
    """The one Jobakademie allocation case that TP1 started by the message „Neufall Jobakademie“."""
    with engine.db.reading() as session:
        [instance_id] = session.scalars(
            sa.select(ProcessInstance.id).where(
                ProcessInstance.process_id == "jobakademie_zuteilung",
                ProcessInstance.related_key == tp1.header.business_key,
            )
        ).all()
    return CaseDriver.existing(engine, instance_id)


def start_direct(engine: Engine) -> CaseDriver:
    case = CaseDriver(engine, PROCESS, site="56.4")
    assert case.open_task_names() == ["Neuantragsteller erfassen"]
    case.complete("Neuantragsteller erfassen", {"vorname": "Milan", "nachname": "Oberwiesner"})
    return case


def lanes(case: CaseDriver) -> list[tuple[str, str]]:
    return sorted((t.name, t.lane) for t in case.open_tasks())


def test_message_start_jobakademie_then_ifk_takes_over(deployed: Engine) -> None:
    case = start_by_message(deployed)
    assert lanes(case) == [("Zum Erstgespräch einladen", "EGS")]
    assert case.data["vorname"] == "Jana" and case.data["nachname"] == "Probstfeld"
    assert case.data["bezug_pb"] == "VG-2025-000042"
    assert case.header.applicant_name == "Probstfeld, Jana"

    case.complete("Zum Erstgespräch einladen", einladung())
    [task] = case.open_tasks()
    assert task.name == "Erstgespräch führen" and task.due_at is not None, "the appointment deadline is the due date"
    case.complete("Erstgespräch führen", erstgespraech())
    assert case.open_tasks() == [], "TP1 waits while the one Jobakademie process allocates"
    assert case.fire_timers(days=30) == 0, "the appointment timer ended with the Erstgespräch"

    ja = jobakademie_case(deployed, case)
    assert ja.data["bezugsvorgang"] == case.header.business_key
    assert (ja.data["vorname"], ja.data["nachname"]) == ("Jana", "Probstfeld")
    ja.complete(JA_LISTE, JA_LISTE_DATEN)
    ja.complete(JA_ZUTEILEN, ja_zuteilung())
    assert case.open_tasks() == []
    ja.complete(
        JA_EINLADUNG, {"einladung_versandt_am": heute(), "einladungsweg": "post", "rechtsfolgenbelehrung": True}
    )
    assert ja.status == "completed", "the allocation is reported back to TP1, not to the IFK a second time"
    [ifk] = case.open_tasks()
    assert (ifk.lane, ifk.egs_role) == ("IFK", "informatorisch Beteiligter")
    case.complete(
        ifk.name,
        {
            "uebernommen_am": heute(),
            "potenzialanalyse_am": heute(),
            "kooperationsplan": "erstellt",
            "kooperationsplan_am": heute(),
        },
    )
    assert case.status == "completed"
    assert case.data["jobakademie"]["jobakademie_gruppe"] == "JA-2025-17"
    assert case.data["jobakademie"]["jobakademie_vorgang"] == ja.header.business_key


def test_direct_start_and_direct_ifk_take_over(deployed: Engine) -> None:
    case = start_direct(deployed)
    case.complete("Zum Erstgespräch einladen", einladung())
    case.complete(
        "Erstgespräch führen",
        erstgespraech(weg="ifk_direkt", begruendung_ifk_direkt="Arbeitsaufnahme zum Monatsersten in Aussicht"),
    )
    assert lanes(case) == [("Neuantragsteller übernehmen (Potenzialanalyse, Kooperationsplan)", "IFK")]
    with pytest.raises(FormValidationError) as caught:
        case.complete(
            "Neuantragsteller übernehmen (Potenzialanalyse, Kooperationsplan)",
            {"uebernommen_am": heute(), "kooperationsplan": "termin_vereinbart"},
        )
    assert "kooperationsplan_termin" in caught.value.field_errors
    case.complete(
        "Neuantragsteller übernehmen (Potenzialanalyse, Kooperationsplan)",
        {
            "uebernommen_am": heute(),
            "kooperationsplan": "termin_vereinbart",
            "kooperationsplan_termin": (clock.today_berlin() + timedelta(days=7)).isoformat(),
        },
    )
    assert case.status == "completed"
    assert case.header.applicant_name == "Oberwiesner, Milan"


def test_no_activation_ends_with_a_note(deployed: Engine) -> None:
    case = start_direct(deployed)
    case.complete("Zum Erstgespräch einladen", einladung())
    case.complete("Erstgespräch führen", erstgespraech(aktivierung="keine", weg=None))
    assert lanes(case) == [("Vermerk ohne Aktivierung fertigen", "EGS")]
    case.complete(
        "Vermerk ohne Aktivierung fertigen",
        {
            "grund_keine_aktivierung": "kinderbetreuung",
            "vermerk": "Tochter (1 Jahr) wird zu Hause betreut; keine Betreuungsmöglichkeit.",
            "wiedervorlage_am": (clock.today_berlin() + timedelta(days=400)).isoformat(),
        },
    )
    assert case.status == "completed"
    assert case.data["aktivierung"] == "keine" and case.data["grund_keine_aktivierung"] == "kinderbetreuung"


def test_no_show_reminder_then_deadline_then_ifk_checks_meldeversaeumnis(deployed: Engine) -> None:
    case = start_direct(deployed)
    case.complete("Zum Erstgespräch einladen", einladung(tage=2))

    # 1st appointment: the clerk records the no-show herself
    case.complete("Erstgespräch führen", {"erschienen": False})
    assert lanes(case) == [("Nichterscheinen nachfassen", "EGS")]
    with pytest.raises(FormValidationError) as caught:
        case.complete(
            "Nichterscheinen nachfassen", {"grund_nichterscheinen": "unbekannt", "nachfassen": "neuer_termin"}
        )
    assert set(caught.value.field_errors) == {"termin_erstgespraech", "erinnerung_versandt_am"}
    case.complete(
        "Nichterscheinen nachfassen",
        {
            "grund_nichterscheinen": "unbekannt",
            "nachfassen": "neuer_termin",
            "termin_erstgespraech": in_tagen(5),
            "erinnerung_versandt_am": heute(),
        },
    )
    [task] = case.open_tasks()
    assert task.name == "Erstgespräch führen", "the reminder leads back to a new appointment"

    # 2nd appointment: nobody documents anything; the timer fires after the grace period
    assert case.fire_timers(days=5 + NACHFRIST_TAGE - 0.5) == 0
    assert case.open_task_names() == ["Erstgespräch führen"]
    assert case.fire_timers(days=5 + NACHFRIST_TAGE + 0.5) == 1
    assert lanes(case) == [("Nichterscheinen nachfassen", "EGS")]
    case.complete(
        "Nichterscheinen nachfassen",
        {"grund_nichterscheinen": "nicht_erreichbar", "nachfassen": "abgabe_ifk", "kontaktversuche": "2 Anrufe"},
    )
    [ifk] = case.open_tasks()
    assert (ifk.name, ifk.lane, ifk.egs_role) == ("Meldeversäumnis prüfen (§ 32 SGB II)", "IFK", "Mitwirkender")
    case.complete(
        ifk.name,
        {"ergebnis_meldeversaeumnis": "anhoerung", "begruendung_meldeversaeumnis": "Zweimal ohne Grund ferngeblieben."},
    )
    assert case.status == "completed"
    assert case.data["rechtsfolgenbelehrung"] is True


def test_appointment_timer_due_date_comes_from_the_appointment_and_configuration(deployed: Engine) -> None:
    case = start_direct(deployed)
    termin = in_tagen(10)
    case.complete("Zum Erstgespräch einladen", {**einladung(), "termin_erstgespraech": termin})
    [task] = case.open_tasks()
    assert task.due_at is not None
    assert abs(task.due_at - (clock.parse_iso(termin) + timedelta(days=NACHFRIST_TAGE))) < timedelta(seconds=1)
    assert case.fire_timers(days=10 + NACHFRIST_TAGE - 1) == 0
    case.complete("Erstgespräch führen", erstgespraech())
    assert case.fire_timers(days=60) == 0
    assert case.open_task_names() == []
    assert jobakademie_case(case.engine, case).open_task_names() == [JA_LISTE]


def test_refusals_store_nothing(deployed: Engine) -> None:
    with pytest.raises(PermissionDeniedError):
        CaseDriver(deployed, PROCESS, site="56.4", starter="ifk")
    case = start_direct(deployed)
    case.complete("Zum Erstgespräch einladen", einladung())
    [task] = case.open_tasks()
    before = case.header.lock_version
    with pytest.raises(FormValidationError) as caught:
        case.complete("Erstgespräch führen", {"erschienen": True})
    assert set(caught.value.field_errors) == {"erstgespraech_am", "aktivierung"}
    with pytest.raises(FormValidationError) as caught:
        case.complete("Erstgespräch führen", erstgespraech(weg="ifk_direkt"))
    assert set(caught.value.field_errors) == {"begruendung_ifk_direkt"}
    with pytest.raises(FormValidationError):
        morgen = (clock.today_berlin() + timedelta(days=1)).isoformat()
        case.complete("Erstgespräch führen", erstgespraech(erstgespraech_am=morgen))
    [still] = case.open_tasks()
    assert still.task_uuid == task.task_uuid
    assert case.engine.case_view(case.engine.actor("audit"), case.instance_id).header.lock_version == before
