"""Path tests for the FB 50 intake (Eingangsservice SGB XII / AsylbLG, Konzept Ziffer 5).

Only sites 56.6–56.8 offer the process; its cases are visible only to FB 50 and the EGS of the case's site; the
moment of Kenntnis (§ 18 SGB XII) is a timestamp that may not lie in the future and cannot be changed once recorded.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from engine import clock
from engine.api import Engine
from engine.errors import FormValidationError, PermissionDeniedError, RuleViolationError
from engine.models import AuditEvent, HumanTask, ProcessInstance
from tests.support.cases import CaseDriver
from tests.support.users import user_for

PROCESS = "fb50_eingangsservice"
AUFNEHMEN = "Anliegen nach SGB XII / AsylbLG aufnehmen"
DRINGLICHKEIT = "Dringlichkeit prüfen"
WEITERLEITUNG = "Anliegen und Unterlagen an FB 50 weiterleiten"
NOTLAGE = "Akute Notlage sofort klären"
UEBERNAHME = "Anliegen übernehmen (FB 50)"


def vor(minuten: int = 0) -> str:
    """An ISO timestamp (Europe/Berlin, with offset) ``minuten`` minutes ago."""
    return (clock.now() - timedelta(minutes=minuten)).astimezone(clock.BERLIN).replace(microsecond=0).isoformat()


def besuch(**fields: Any) -> dict[str, Any]:
    """The payload of „Anliegen FB 50“ as visitor management (modeller D) sends it."""
    return {
        "vorname": "Olga",
        "nachname": "Wendehals",
        "anliegen_text": "Rente reicht nicht für Miete und Lebensunterhalt",
        "kenntnis_am": vor(20),
        **fields,
    }


def minute(timestamp: str) -> str:
    return datetime.fromisoformat(timestamp).replace(second=0).isoformat()


def start_by_message(engine: Engine, site: str, payload: dict[str, Any]) -> CaseDriver:
    return CaseDriver.by_message(engine, PROCESS, "Anliegen FB 50", payload, site=site)


def aufnahme(**fields: Any) -> dict[str, Any]:
    return {
        "vorname": "Kurt",
        "nachname": "Hagedorn",
        "geburtsdatum": "1956-03-02",
        "kenntnis_am": vor(5),
        "kontaktweg": "persoenlich",
        "anliegen_art": "grundsicherung",
        "anliegen_text": "Grundsicherung im Alter beantragen",
        "bisheriger_bezug": "keiner",
        "telefon": "0551 4711",
        "strasse": "Lindenweg 4",
        "plz": "37083",
        "ort": "Göttingen",
        "unterlagen_entgegengenommen": ["antrag_sgb12", "rentenbescheid"],
        **fields,
    }


def count_cases(engine: Engine) -> int:
    with engine.db.reading() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(ProcessInstance)) or 0


def uebernahme() -> dict[str, Any]:
    return {"uebernommen_fb50": True, "leistungsart_fb50": "grundsicherung", "aktenzeichen_fb50": "50.2-2025/0815"}


def test_message_from_visitor_management_normal_hand_over(deployed: Engine) -> None:
    payload = besuch()
    case = start_by_message(deployed, "56.6", payload)
    [task] = case.open_tasks()
    assert (task.name, task.lane, task.site) == (AUFNEHMEN, "EGS", "56.6")
    data = case.data
    assert data["besuch"] == payload, "the message is kept unchanged"
    assert data["kenntnis_am"] == minute(payload["kenntnis_am"]), "the moment of Kenntnis is taken over"
    assert case.header.applicant_name == "Wendehals, Olga"

    with pytest.raises(FormValidationError) as caught:
        case.complete(AUFNEHMEN, aufnahme(vorname="Olga", nachname="Wendehals", kenntnis_am=vor(0)))
    assert caught.value.field_errors == {
        "kenntnis_am": ["Dieser Wert ist bereits festgehalten und darf nicht geändert werden."]
    }
    case.complete(
        AUFNEHMEN, aufnahme(vorname="Olga", nachname="Wendehals", anliegen_art="hlu", kenntnis_am=data["kenntnis_am"])
    )
    case.complete(DRINGLICHKEIT, {"akute_notlage": False})
    assert [(t.name, t.lane) for t in case.open_tasks()] == [(WEITERLEITUNG, "EGS")]
    case.complete(
        WEITERLEITUNG, {"weitergeleitet_am": clock.today_berlin().isoformat(), "weiterleitungsweg": "hauspost"}
    )
    [fb50] = case.open_tasks()
    assert (fb50.name, fb50.lane, fb50.egs_role) == (UEBERNAHME, "FB50", "informatorisch Beteiligter")
    case.complete(UEBERNAHME, uebernahme())
    assert case.status == "completed"
    assert case.data["kenntnis_am"] == minute(payload["kenntnis_am"])


def test_direct_start_urgent_case_goes_to_fb50_at_once(deployed: Engine) -> None:
    case = CaseDriver(deployed, PROCESS, site="56.7")
    assert [(t.name, t.lane, t.site) for t in case.open_tasks()] == [(AUFNEHMEN, "EGS", "56.7")]
    kenntnis = vor(10)
    case.complete(AUFNEHMEN, aufnahme(kenntnis_am=kenntnis, anliegen_art="asylblg_grundleistungen"))
    with pytest.raises(FormValidationError) as caught:
        case.complete(DRINGLICHKEIT, {"akute_notlage": True})
    assert set(caught.value.field_errors) == {"notlagen", "begruendung_dringlichkeit"}
    case.complete(
        DRINGLICHKEIT,
        {
            "akute_notlage": True,
            "notlagen": ["keine_mittel"],
            "person_wartet": True,
            "begruendung_dringlichkeit": "Seit drei Tagen ohne Geld für Lebensmittel.",
        },
    )
    [task] = case.open_tasks()
    assert (task.name, task.lane, task.site, task.egs_role) == (NOTLAGE, "FB50", "56.7", "Mitwirkender")
    with pytest.raises(FormValidationError) as caught:
        case.complete(NOTLAGE, {"sofortmassnahme": "vorschuss", "notlage_geklaert_am": vor(0)})
    assert set(caught.value.field_errors) == {"vorschuss_betrag"}
    case.complete(NOTLAGE, {"sofortmassnahme": "vorschuss", "vorschuss_betrag": 50.0, "notlage_geklaert_am": vor(0)})
    case.complete(UEBERNAHME, {**uebernahme(), "leistungsart_fb50": "asylblg"})
    assert case.status == "completed"
    assert case.data["kenntnis_am"] == kenntnis and case.data["vorschuss_betrag"] == 50.0


def test_moment_of_kenntnis_must_be_a_past_timestamp(deployed: Engine) -> None:
    case = CaseDriver(deployed, PROCESS, site="56.8")
    [task] = case.open_tasks()
    morgen = (clock.now() + timedelta(days=1)).astimezone(clock.BERLIN).replace(microsecond=0).isoformat()
    with pytest.raises(FormValidationError) as caught:
        case.complete(AUFNEHMEN, aufnahme(kenntnis_am=morgen))
    assert caught.value.field_errors == {"kenntnis_am": ["Das Datum darf nicht in der Zukunft liegen."]}
    for wrong in ("2025-03-03", "2025-03-03T09:15:00", "gestern"):
        with pytest.raises(FormValidationError) as caught:
            case.complete(AUFNEHMEN, aufnahme(kenntnis_am=wrong))
        assert list(caught.value.field_errors) == ["kenntnis_am"], wrong
    with pytest.raises(FormValidationError) as caught:
        case.complete(AUFNEHMEN, aufnahme(plz="3708"))
    assert list(caught.value.field_errors) == ["plz"]
    [still] = case.open_tasks()
    assert still.task_uuid == task.task_uuid and "kenntnis_am" not in case.data, "nothing was stored"


def test_case_is_visible_only_to_fb50_and_the_egs_of_its_site(deployed: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    case = start_by_message(deployed, "56.6", besuch())
    lsb_66 = make_user("lsb66", ("LSB", "56.6"))
    egs_64 = deployed.actor("egs")
    fb50_67 = make_user("fb50_67", ("FB50", "56.7"))
    for outsider in (lsb_66, egs_64, fb50_67):
        with pytest.raises(PermissionDeniedError):
            deployed.case_view(outsider, case.instance_id)
        assert [t for t in deployed.inbox(outsider) if t.instance_id == case.instance_id] == []
    with deployed.db.reading() as session:
        refused = session.scalars(
            sa.select(AuditEvent.actor).where(
                AuditEvent.instance_id == case.instance_id, AuditEvent.action == "access_denied"
            )
        ).all()
    assert sorted(refused) == ["egs", "fb50_67", "lsb66"], "every refused look is audited"

    egs_66 = user_for(deployed, "EGS", "56.6")
    assert deployed.case_view(egs_66, case.instance_id).header.site == "56.6"
    [task] = deployed.inbox(egs_66)
    with pytest.raises(PermissionDeniedError):
        deployed.task_view(lsb_66, task.task_uuid)
    case.complete(AUFNEHMEN, aufnahme(kenntnis_am=case.data["kenntnis_am"]))
    case.complete(DRINGLICHKEIT, {"akute_notlage": False})
    case.complete(
        WEITERLEITUNG, {"weitergeleitet_am": clock.today_berlin().isoformat(), "weiterleitungsweg": "persoenlich"}
    )
    fb50 = deployed.actor("fb50")
    assert deployed.case_view(fb50, case.instance_id).open_tasks[0].name == UEBERNAHME
    with pytest.raises(PermissionDeniedError):
        deployed.complete_task(egs_66, deployed.inbox(fb50)[0].task_uuid, uebernahme())


def test_not_offered_at_sites_without_fb50_intake(deployed: Engine) -> None:
    with pytest.raises(RuleViolationError, match="wird am Standort 56.4 nicht angeboten"):
        CaseDriver(deployed, PROCESS, site="56.4")
    with pytest.raises(RuleViolationError, match="wird am Standort 56.5 nicht angeboten"):
        start_by_message(deployed, "56.5", besuch())
    assert count_cases(deployed) == 0, "nothing was stored"
    with deployed.db.reading() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(HumanTask)) == 0
        reasons = session.scalars(sa.select(AuditEvent.action).where(AuditEvent.actor == "egs")).all()
    assert "rule_violation" in reasons, "the refused start is audited"


def test_locked_moment_of_kenntnis_survives_the_web_form(deployed: Engine) -> None:
    """The web form shows the locked timestamp as TT.MM.JJJJ HH:MM and sends it back: that must be accepted."""
    from webapp.formatting import datumzeit

    case = start_by_message(deployed, "56.8", besuch(kenntnis_am=vor(90)))
    egs = user_for(deployed, "EGS", "56.8")
    [task] = deployed.inbox(egs)
    stored = case.data["kenntnis_am"]
    raw = {k: [v] if isinstance(v, str) else v for k, v in aufnahme(vorname="Olga", nachname="Wendehals").items()}
    raw["kenntnis_am"] = [datumzeit(stored)]
    deployed.submit_form(egs, task.task_uuid, raw)
    assert case.data["kenntnis_am"] == stored
    assert [t.name for t in case.open_tasks()] == [DRINGLICHKEIT]


def test_kenntnis_later_today_is_refused_too(deployed: Engine) -> None:
    case = CaseDriver(deployed, PROCESS, site="56.6")
    gleich = (clock.now() + timedelta(minutes=5)).astimezone(clock.BERLIN).replace(microsecond=0).isoformat()
    with pytest.raises(FormValidationError):
        case.complete(AUFNEHMEN, aufnahme(kenntnis_am=gleich))
