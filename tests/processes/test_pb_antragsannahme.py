"""Path tests: PB – Antragsannahme (Konzept Ziffer 4.1/4.3, Sonderregelungen § 1).

Every gateway flow and both boundary events of the model are walked: claim by the front desk or by the
visitor management (message "Antrag aufnehmen"), first claim vs. other claim, re-creation in OPEN/PROSOZ
(cut-over table umstellung_neuanlage), paper vs. e-file (umstellung_akte), pre-check by LSB, one deadline
per requested document with message "Unterlagen eingegangen", reminder with Rechtsfolgenbelehrung, LSB
decision on Versagung (§ 66 SGB I), payment system at hand-over (umstellung_zahlungssystem) and the
message "Neuantrag zur Steuerung" to TP1 for first claims.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from engine import clock
from engine.api import Engine
from engine.errors import FormValidationError, NotFoundError, PermissionDeniedError
from engine.inbox import TaskSummary
from engine.models import AuditEvent, ProcessInstance
from tests.support import pb
from tests.support.cases import CaseDriver
from tests.support.engines import engine_with_config
from tests.support.users import user_for

TP1 = "tp1_steuerung_neuantragsteller"
BERLIN_MITTERNACHT = "T00:00:00+01:00"  # deadlines end with their last day; the timer fires at 0:00 CET after it


# --- helpers -----------------------------------------------------------------------------------------------------


def at(text: str) -> datetime:
    return clock.parse_iso(text)


def rows(case: CaseDriver) -> list[tuple[str, str, str | None]]:
    """Open tasks of the case as (name, lane, EGS role), sorted."""
    return sorted((t.name, t.lane, t.egs_role) for t in case.open_tasks())


def lock(case: CaseDriver) -> int:
    return case.engine.case_view(case.engine.actor("audit"), case.instance_id).header.lock_version


def actions(engine: Engine, instance_id: int) -> list[str]:
    with engine.db.reading() as session:
        query = sa.select(AuditEvent.action).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id)
        return list(session.scalars(query))


def cases_of(engine: Engine, process_id: str) -> list[ProcessInstance]:
    with engine.db.reading() as session:
        query = sa.select(ProcessInstance).where(ProcessInstance.process_id == process_id)
        return list(session.scalars(query.order_by(ProcessInstance.id)))


def refused_and_unchanged(case: CaseDriver, name: str, data: dict[str, Any]) -> dict[str, list[str]]:
    """Completing ``name`` with ``data`` is refused; the case keeps its state and the task stays open."""
    before, task = lock(case), case.task(name).task_uuid
    with pytest.raises(FormValidationError) as refused:
        case.complete(name, data)
    assert lock(case) == before and task in [t.task_uuid for t in case.open_tasks()]
    return refused.value.field_errors


def by_document(case: CaseDriver, name: str) -> dict[str, TaskSummary]:
    """The open tasks called ``name`` by the document (field ``unterlage``) each one is about."""
    clerk = user_for(case.engine, "EGS", case.site)
    found = {}
    for task in case.open_tasks():
        if task.name == name:
            found[case.engine.task_view(clerk, task.task_uuid).data["unterlage"]] = task
    return found


def complete_for(case: CaseDriver, name: str, unterlage: str, data: dict[str, Any]) -> None:
    task = by_document(case, name)[unterlage]
    case.header = case.engine.complete_task(user_for(case.engine, task.lane, task.site), task.task_uuid, data).header


def task_data(case: CaseDriver, name: str) -> dict[str, Any]:
    task = case.task(name)
    return case.engine.task_view(user_for(case.engine, task.lane, task.site), task.task_uuid).data


def registered(engine: Engine, **anmeldung: Any) -> CaseDriver:
    case = CaseDriver(engine, pb.PROCESS)
    case.complete(pb.ANMELDEN, pb.anmeldung(**anmeldung))
    return case


def up_to_completeness_check(engine: Engine, **anmeldung: Any) -> CaseDriver:
    """A first claim up to the open task 'Vollständigkeit prüfen' (no comp.ASS entry, paper file)."""
    case = registered(engine, **anmeldung)
    case.complete(pb.ANNEHMEN, pb.ANTRAGSANNAHME)
    case.complete(pb.BG_ERFASSEN, pb.BEDARFSGEMEINSCHAFT)
    case.complete(pb.VORRANG_HINWEISEN, pb.vorrang())
    case.complete(pb.NEU_ANLEGEN, pb.neuanlage())
    case.complete(pb.PAPIERAKTE_ANLEGEN, pb.papierakte())
    return case


def hand_over(case: CaseDriver) -> None:
    case.complete(pb.VOLLSTAENDIGKEIT_PRUEFEN, pb.VOLLSTAENDIG)
    case.complete(pb.TERMINE_DOKUMENTIEREN, pb.termine())
    case.complete(pb.VERTEILEN, pb.VERTEILUNG)
    case.complete(pb.UEBERNEHMEN, pb.UEBERNAHME)


def waiting_for(engine: Engine, fehlende: list[str], frist_tage: int = 14, **extra: Any) -> CaseDriver:
    """Documents requested at the frozen 'now' with one deadline each."""
    case = up_to_completeness_check(engine)
    case.complete(pb.VOLLSTAENDIGKEIT_PRUEFEN, {**pb.UNVOLLSTAENDIG, "fehlende_unterlagen": fehlende, **extra})
    case.complete(pb.ANFORDERN, pb.anforderung(frist_tage))
    return case


# --- first claim, complete, handed over ------------------------------------------------------------------------------


def test_vollstaendiger_erstantrag_geht_an_die_lsb_und_an_tp1(deployed: Engine) -> None:
    case = CaseDriver(deployed, pb.PROCESS)
    assert rows(case) == [(pb.ANMELDEN, "EGS", "Durchführender")]
    case.complete(pb.ANMELDEN, pb.anmeldung())
    assert rows(case) == [(pb.ANNEHMEN, "EGS", "Durchführender")]
    case.complete(pb.ANNEHMEN, pb.ANTRAGSANNAHME)
    assert rows(case) == [(pb.BG_ERFASSEN, "EGS", "Durchführender")], "first claim: capture the whole BG"
    case.complete(
        pb.BG_ERFASSEN,
        {
            **pb.BEDARFSGEMEINSCHAFT,
            "anzahl_personen_bg": 3,
            "rollen_in_bg": ["antragsteller", "partner", "kind_unter_15"],
            "partner_in_bg": True,
            "partner_vorname": "Tomasz",
            "partner_nachname": "Probstfeld",
            "partner_geburtsdatum": "1986-09-02",
            "anzahl_kinder_unter_15": 1,
        },
    )
    case.complete(
        pb.VORRANG_HINWEISEN, pb.vorrang(vorrang_kindergeld="hinweis_gegeben", vorrang_kinderzuschlag="hinweis_gegeben")
    )
    assert rows(case) == [(pb.NEU_ANLEGEN, "EGS", "Durchführender")]
    assert (case.data["neuanlage_open_prosoz"], case.data["neuanlage_grund"]) == (True, "neuantrag")
    case.complete(pb.NEU_ANLEGEN, pb.neuanlage())
    assert rows(case) == [(pb.PAPIERAKTE_ANLEGEN, "EGS", "Mitwirkender")], "Doxis start is open: paper file"
    assert case.data["aktenfuehrung"] == "papier"
    case.complete(pb.PAPIERAKTE_ANLEGEN, pb.papierakte())
    case.complete(pb.VOLLSTAENDIGKEIT_PRUEFEN, pb.VOLLSTAENDIG)
    assert rows(case) == [(pb.TERMINE_DOKUMENTIEREN, "EGS", "Durchführender")]
    case.complete(pb.TERMINE_DOKUMENTIEREN, pb.termine())
    assert rows(case) == [(pb.VERTEILEN, "TL", "Mitwirkender")], "hand-over via the TL's allocation list"
    assert [t.name for t in deployed.inbox(deployed.actor("tl"))] == [pb.VERTEILEN]
    assert [t for t in deployed.inbox(deployed.actor("egs")) if t.instance_id == case.instance_id] == []
    case.complete(pb.VERTEILEN, pb.VERTEILUNG)
    assert rows(case) == [(pb.UEBERNEHMEN, "LSB", "informatorisch Beteiligter")]
    assert cases_of(deployed, TP1) == [], "TP1 starts only after the hand-over"
    case.complete(pb.UEBERNEHMEN, pb.UEBERNAHME)

    assert case.status == "completed" and case.open_tasks() == []
    data = case.data
    assert data["tag_der_antragstellung"] == pb.heute() and data["zahlungssystem"] == "open_prosoz"
    assert (data["partner_vorname"], data["anzahl_personen_bg"], data["vorrang_kindergeld"]) == (
        "Tomasz",
        3,
        "hinweis_gegeben",
    )
    assert data["ausweisnummer"] == "L01X00T47" and data["keine_ausweiskopie"] is True
    [steuerung] = cases_of(deployed, TP1)
    assert steuerung.site == "56.4" and steuerung.business_key != case.header.business_key
    tp1_view = deployed.case_view(deployed.actor("audit"), steuerung.id)
    assert tp1_view.data["bezugsvorgang"] == case.header.business_key
    assert tp1_view.data["neuantrag"] == {
        "bezug": case.header.business_key,
        "vorname": "Jana",
        "nachname": "Probstfeld",
    }
    assert tp1_view.history[0].details["message"] == "Neuantrag zur Steuerung"


def test_erstantrag_ohne_partner_namen_und_ohne_antragsteller_rolle_wird_abgelehnt(deployed: Engine) -> None:
    case = registered(deployed)
    errors = refused_and_unchanged(case, pb.ANNEHMEN, {**pb.ANTRAGSANNAHME, "keine_ausweiskopie": False})
    assert errors == {
        "keine_ausweiskopie": ["Bitte bestätigen: Ausweiskopien werden weder angefertigt noch gespeichert."]
    }
    errors = refused_and_unchanged(case, pb.ANNEHMEN, {**pb.ANTRAGSANNAHME, "ausweis_gueltig_bis": "31.12.2030"})
    assert list(errors) == ["ausweis_gueltig_bis"]
    case.complete(pb.ANNEHMEN, pb.ANTRAGSANNAHME)
    errors = refused_and_unchanged(
        case,
        pb.BG_ERFASSEN,
        {**pb.BEDARFSGEMEINSCHAFT, "anzahl_personen_bg": 2, "rollen_in_bg": ["partner"], "partner_in_bg": True},
    )
    assert errors == {
        "rollen_in_bg": ["Die antragstellende Person gehört immer zur Bedarfsgemeinschaft."],
        "partner_vorname": ["Pflichtfeld – bitte ausfüllen."],
        "partner_nachname": ["Pflichtfeld – bitte ausfüllen."],
        "partner_geburtsdatum": ["Pflichtfeld – bitte ausfüllen."],
    }
    errors = refused_and_unchanged(case, pb.BG_ERFASSEN, {**pb.BEDARFSGEMEINSCHAFT, "anzahl_erwerbsfaehige": 0})
    assert errors == {"anzahl_erwerbsfaehige": ["Der Wert muss mindestens 1 sein."]}, "SGB II needs one ELB"
    case.complete(pb.BG_ERFASSEN, pb.BEDARFSGEMEINSCHAFT)
    errors = refused_and_unchanged(case, pb.VORRANG_HINWEISEN, {**pb.vorrang(), "vorrang_rente": None})
    assert "vorrang_rente" in errors, "a hint per benefit is required"


# --- other claims and the payment system at hand-over (§ 1: comp.ASS until 20.03.2025) -----------------------------


@pytest.mark.parametrize(
    ("uebernahme_am", "zahlungssystem"),
    [("2025-03-20T15:00:00+01:00", "compass"), ("2025-03-21T08:00:00+01:00", "open_prosoz")],
)
def test_sonstiger_antrag_wird_ohne_bg_erfassung_uebergeben_zahlung_nach_stichtag(
    deployed: Engine, uebernahme_am: str, zahlungssystem: str
) -> None:
    with clock.frozen(at("2025-03-10T09:00:00+01:00")):
        case = registered(deployed, anliegen="sonstiger_antrag")
        case.complete(pb.ANNEHMEN, {**pb.ANTRAGSANNAHME, "antragsart": "weiterbewilligungsantrag", "anlagen": []})
        assert rows(case) == [(pb.PAPIERAKTE_ANLEGEN, "EGS", "Mitwirkender")], "no BG, hints or new entry for a WBA"
        case.complete(pb.PAPIERAKTE_ANLEGEN, pb.papierakte())
        case.complete(pb.VOLLSTAENDIGKEIT_PRUEFEN, pb.VOLLSTAENDIG)
        case.complete(pb.TERMINE_DOKUMENTIEREN, pb.termine())
        case.complete(pb.VERTEILEN, pb.VERTEILUNG)
    with clock.frozen(at(uebernahme_am)):
        case.complete(pb.UEBERNEHMEN, pb.UEBERNAHME)
        assert case.data["zahlungssystem"] == zahlungssystem
        if zahlungssystem == "compass":
            assert rows(case) == [(pb.AUSZAHLUNG_COMPASS, "LSB", "informatorisch Beteiligter")]
            errors = refused_and_unchanged(case, pb.AUSZAHLUNG_COMPASS, {"auszahlung_erforderlich": True})
            assert set(errors) == {"auszahlung_betrag", "auszahlung_veranlasst_am"}
            assert "auszahlung_betrag" in refused_and_unchanged(
                case,
                pb.AUSZAHLUNG_COMPASS,
                {
                    "auszahlung_erforderlich": True,
                    "auszahlung_betrag": 18.771,
                    "auszahlung_veranlasst_am": "2025-03-20",
                },
            )
            case.complete(
                pb.AUSZAHLUNG_COMPASS,
                {
                    "auszahlung_erforderlich": True,
                    "auszahlung_betrag": 563.0,
                    "auszahlung_veranlasst_am": "2025-03-20",
                },
            )
    assert case.status == "completed"
    assert case.data.get("auszahlung_betrag") == (563.0 if zahlungssystem == "compass" else None)
    assert cases_of(deployed, TP1) == [], "only first claims go to TP1"


def test_erstantrag_mit_compass_zahlung_startet_tp1_genau_einmal(deployed: Engine) -> None:
    """The message to TP1 is thrown before the comp.ASS payment step; that later step must not send it again."""
    with clock.frozen(at("2025-03-10T09:00:00+01:00")):
        case = up_to_completeness_check(deployed)
        case.complete(pb.VOLLSTAENDIGKEIT_PRUEFEN, pb.VOLLSTAENDIG)
        case.complete(pb.TERMINE_DOKUMENTIEREN, pb.termine())
        case.complete(pb.VERTEILEN, pb.VERTEILUNG)
    with clock.frozen(at("2025-03-20T15:00:00+01:00")):
        case.complete(pb.UEBERNEHMEN, pb.UEBERNAHME)
        assert rows(case) == [(pb.AUSZAHLUNG_COMPASS, "LSB", "informatorisch Beteiligter")]
        assert len(cases_of(deployed, TP1)) == 1
        case.complete(pb.AUSZAHLUNG_COMPASS, {"auszahlung_erforderlich": False})
    assert case.status == "completed"
    assert len(cases_of(deployed, TP1)) == 1, "one first claim, one TP1 case"


# --- re-creation in OPEN/PROSOZ (§ 1: not migrated on 12.02.2025) ---------------------------------------------------


@pytest.mark.parametrize(
    ("compass_stand", "erfasst_am", "neu_anlegen", "grund"),
    [
        ("erfasst_mit_lsb", "2025-02-11", False, "migriert"),
        ("erfasst_mit_lsb", "2025-02-12", True, "nach_stichtag_erfasst"),
        ("erfasst_ohne_lsb", "2025-02-11", True, "nicht_migriert"),
        ("erfasst_ohne_lsb", "2025-02-12", True, "nach_stichtag_erfasst"),
        ("nicht_erfasst", None, True, "neuantrag"),
    ],
)
def test_neuanlage_in_open_prosoz_nach_stand_in_compass(
    deployed: Engine, compass_stand: str, erfasst_am: str | None, neu_anlegen: bool, grund: str
) -> None:
    with clock.frozen(at("2025-02-20T09:00:00+01:00")):
        case = registered(deployed, tag_der_antragstellung="2025-02-10")
        annahme = {**pb.ANTRAGSANNAHME, "compass_stand": compass_stand}
        if erfasst_am:
            errors = refused_and_unchanged(case, pb.ANNEHMEN, annahme)
            assert errors == {"compass_erfasst_am": ["Pflichtfeld – bitte ausfüllen."]}
            annahme["compass_erfasst_am"] = erfasst_am
        case.complete(pb.ANNEHMEN, annahme)
        case.complete(pb.BG_ERFASSEN, pb.BEDARFSGEMEINSCHAFT)
        case.complete(pb.VORRANG_HINWEISEN, pb.vorrang())
        assert (case.data["neuanlage_open_prosoz"], case.data["neuanlage_grund"]) == (neu_anlegen, grund)
        if neu_anlegen:
            assert rows(case) == [(pb.NEU_ANLEGEN, "EGS", "Durchführender")]
            case.complete(pb.NEU_ANLEGEN, pb.neuanlage())
        assert rows(case) == [(pb.PAPIERAKTE_ANLEGEN, "EGS", "Mitwirkender")]
    assert case.data["tag_der_antragstellung"] == "2025-02-10"


# --- paper file vs. e-file (§ 1: Doxis start configurable, open = paper) -------------------------------------------


@pytest.mark.parametrize(
    ("heute", "akte"), [("2025-06-30T16:00:00+02:00", "papier"), ("2025-07-01T08:00:00+02:00", "eakte")]
)
def test_akte_ab_dem_konfigurierten_doxis_start(
    deployed: Engine, db_url: str, tmp_path: Path, heute: str, akte: str
) -> None:
    with engine_with_config(db_url, tmp_path, doxis_start='"2025-07-01"') as doxis, clock.frozen(at(heute)):
        case = registered(doxis)
        case.complete(pb.ANNEHMEN, pb.ANTRAGSANNAHME)
        case.complete(pb.BG_ERFASSEN, pb.BEDARFSGEMEINSCHAFT)
        case.complete(pb.VORRANG_HINWEISEN, pb.vorrang())
        case.complete(pb.NEU_ANLEGEN, pb.neuanlage())
        assert case.data["aktenfuehrung"] == akte
        if akte == "eakte":
            assert rows(case) == [(pb.EAKTE_ANLEGEN, "EGS", "Mitwirkender")]
            errors = refused_and_unchanged(case, pb.EAKTE_ANLEGEN, {**pb.eakte(), "scanverfahren_zertifiziert": False})
            assert errors == {
                "scanverfahren_zertifiziert": ["Ohne zertifiziertes Scanverfahren bitte weiter die Papierakte führen."]
            }
            case.complete(pb.EAKTE_ANLEGEN, pb.eakte())
        else:
            case.complete(pb.PAPIERAKTE_ANLEGEN, pb.papierakte())
        assert rows(case) == [(pb.VOLLSTAENDIGKEIT_PRUEFEN, "EGS", "Durchführender")]


# --- pre-check by LSB (Ziffer 4.3: Anforderung von Unterlagen nach Vorprüfung der LSB) --------------------------------


def test_vorpruefung_der_lsb_legt_die_anzufordernden_unterlagen_fest(deployed: Engine) -> None:
    with clock.frozen(at("2025-04-01T10:00:00+02:00")):
        case = up_to_completeness_check(deployed)
        case.complete(
            pb.VOLLSTAENDIGKEIT_PRUEFEN,
            {
                "unterlagen_vollstaendig": False,
                "vorpruefung_lsb": True,
                "fehlende_unterlagen": ["kontoauszuege"],
            },
        )
        assert rows(case) == [(pb.VORPRUEFEN, "LSB", "Mitwirkender")]
        assert task_data(case, pb.VORPRUEFEN)["fehlende_unterlagen"] == ["kontoauszuege"], "the EGS list is prefilled"
        errors = refused_and_unchanged(
            case,
            pb.VORPRUEFEN,
            {"unterlagen_vollstaendig": False, "vorpruefung_vermerk": "x", "fehlende_unterlagen": []},
        )
        assert errors == {"fehlende_unterlagen": ["Bitte mindestens 1 auswählen."]}
        case.complete(
            pb.VORPRUEFEN,
            {
                "unterlagen_vollstaendig": False,
                "fehlende_unterlagen": ["kontoauszuege", "anlage_eks"],
                "vorpruefung_vermerk": "Selbständige Tätigkeit: Anlage EKS erforderlich.",
            },
        )
        assert rows(case) == [(pb.ANFORDERN, "EGS", "Durchführender")]
        prefilled = task_data(case, pb.ANFORDERN)
        assert prefilled["angeforderte_unterlagen"] == ["kontoauszuege", "anlage_eks"]
        assert prefilled["frist_tage"] == 14, 'default deadline from konfig("fristen.unterlagen_tage")'


def test_vorpruefung_der_lsb_ohne_weitere_unterlagen_fuehrt_zur_uebergabe(deployed: Engine) -> None:
    case = up_to_completeness_check(deployed)
    case.complete(pb.VOLLSTAENDIGKEIT_PRUEFEN, {"unterlagen_vollstaendig": True, "vorpruefung_lsb": True})
    case.complete(
        pb.VORPRUEFEN, {"unterlagen_vollstaendig": True, "vorpruefung_vermerk": "Vermögen geprüft, nichts fehlt."}
    )
    assert rows(case) == [(pb.TERMINE_DOKUMENTIEREN, "EGS", "Durchführender")]


# --- one deadline per document, message, reminder, Versagung ---------------------------------------------------------


def test_jede_unterlage_hat_eine_eigene_frist_bis_zur_versagung(deployed: Engine) -> None:
    t0 = at("2025-04-01T10:00:00+02:00")
    with clock.frozen(t0):
        case = up_to_completeness_check(deployed)
        errors = refused_and_unchanged(
            case, pb.VOLLSTAENDIGKEIT_PRUEFEN, {"unterlagen_vollstaendig": False, "vorpruefung_lsb": False}
        )
        assert errors == {"fehlende_unterlagen": ["Pflichtfeld – bitte ausfüllen."]}
        errors = refused_and_unchanged(
            case, pb.VOLLSTAENDIGKEIT_PRUEFEN, {**pb.UNVOLLSTAENDIG, "fehlende_unterlagen": ["sonstige"]}
        )
        assert errors == {"fehlende_unterlagen_sonstige": ["Pflichtfeld – bitte ausfüllen."]}
        case.complete(
            pb.VOLLSTAENDIGKEIT_PRUEFEN,
            {
                **pb.UNVOLLSTAENDIG,
                "fehlende_unterlagen": ["kontoauszuege", "mietvertrag", "sonstige"],
                "fehlende_unterlagen_sonstige": "Schulbescheinigung Lea",
            },
        )
        errors = refused_and_unchanged(case, pb.ANFORDERN, {**pb.anforderung(14), "angeforderte_unterlagen": []})
        assert errors == {"angeforderte_unterlagen": ["Bitte mindestens 1 auswählen."]}
        case.complete(pb.ANFORDERN, pb.anforderung(14))

    first_deadline = at("2025-04-16" + BERLIN_MITTERNACHT)  # 01.04. + 14 days: ends with 15.04.
    waiting = by_document(case, pb.EINGANG_ERFASSEN)
    assert sorted(waiting) == ["kontoauszuege", "mietvertrag", "sonstige"]
    assert {(t.lane, t.egs_role, t.due_at) for t in waiting.values()} == {("EGS", "Durchführender", first_deadline)}
    assert case.header.next_timer_at == first_deadline

    with clock.frozen(t0 + timedelta(days=2)):
        post = {
            "vorgangsnummer": case.header.business_key,
            "eingang_am": "2025-04-03",
            "dokumente": ["Mietvertrag", "Schulbescheinigung Lea (Kopie)"],
        }
        assert case.send("Unterlagen eingegangen", post) == 1
    assert sorted(by_document(case, pb.EINGANG_ERFASSEN)) == ["kontoauszuege"], "only the named documents stop"
    assert case.task(pb.EINGANG_ERFASSEN).due_at == first_deadline, "the deadline of the others keeps running"

    assert case.fire_timers(at=first_deadline - timedelta(seconds=1)) == 0
    assert case.fire_timers(at=first_deadline + timedelta(seconds=1)) == 1
    assert rows(case) == [(pb.ERINNERN, "EGS", "Durchführender")]
    reminder = task_data(case, pb.ERINNERN)
    assert (reminder["unterlage"], reminder["erinnerung_frist_tage"]) == ("kontoauszuege", 7), (
        "konfig fristen.erinnerung_tage"
    )
    with clock.frozen(at("2025-04-16T09:00:00+02:00")):
        errors = refused_and_unchanged(case, pb.ERINNERN, {**pb.erinnerung(7), "rechtsfolgenbelehrung_erteilt": False})
        assert list(errors) == ["rechtsfolgenbelehrung_erteilt"], (
            "no Versagung without written notice (§ 66 Abs. 3 SGB I)"
        )
        case.complete(pb.ERINNERN, pb.erinnerung(7))
    second_deadline = at("2025-04-24" + BERLIN_MITTERNACHT)  # 16.04. + 7 days: ends with 23.04.
    assert case.task(pb.EINGANG_ERFASSEN).due_at == second_deadline

    with clock.frozen(at("2025-04-20T11:00:00+02:00")):
        other = {
            "vorgangsnummer": case.header.business_key,
            "dokumente": ["Lohnabrechnung März"],
            "eingang_am": "2025-04-20",
        }
        assert case.send("Unterlagen eingegangen", other) == 1
    assert [(t.name, t.due_at) for t in case.open_tasks()] == [(pb.EINGANG_ERFASSEN, second_deadline)], "still waiting"

    assert case.fire_timers(at=second_deadline + timedelta(seconds=1)) == 1
    assert rows(case) == [(pb.VERSAGUNG_PRUEFEN, "LSB", "informatorisch Beteiligter")]
    assert [t for t in deployed.inbox(deployed.actor("egs")) if t.instance_id == case.instance_id] == []
    data = case.data
    assert data["fehlende_unterlagen"] == ["kontoauszuege"]
    assert sorted(
        (e["unterlage"], e["status"], e["eingang_am"], e["frist_bis"], e["erinnert"])
        for e in data["ergebnisse_unterlagen"]
    ) == [
        ("kontoauszuege", "fehlt", None, "2025-04-23", True),
        ("mietvertrag", "eingegangen", "2025-04-03", "2025-04-15", False),
        ("sonstige", "eingegangen", "2025-04-03", "2025-04-15", False),
    ]
    with pytest.raises(FormValidationError):
        case.complete(pb.VERSAGUNG_PRUEFEN, {"entscheidung": "versagung"})
    case.complete(
        pb.VERSAGUNG_PRUEFEN,
        {
            "entscheidung": "versagung",
            "begruendung": "Kontoauszüge trotz Erinnerung mit Rechtsfolgenbelehrung nicht vorgelegt.",
        },
    )
    assert case.status == "completed" and case.data["entscheidung"] == "versagung"
    assert actions(deployed, case.instance_id).count("timer_fired") == 2
    assert actions(deployed, case.instance_id).count("message") == 2
    assert cases_of(deployed, TP1) == []


def test_eingang_vor_fristablauf_beendet_die_frist(deployed: Engine) -> None:
    t0 = at("2025-04-01T10:00:00+02:00")
    with clock.frozen(t0):
        case = waiting_for(deployed, ["anlage_kdu"])
    with clock.frozen(t0 + timedelta(days=3)):
        errors = refused_and_unchanged(case, pb.EINGANG_ERFASSEN, {"eingang_am": "2025-04-05"})
        assert errors == {"eingang_am": ["Das Datum darf nicht in der Zukunft liegen."]}
        case.complete(pb.EINGANG_ERFASSEN, {"unterlage": "anlage_kdu", "eingang_am": "2025-04-04"})
    assert case.fire_timers(at=t0 + timedelta(days=40)) == 0, "no deadline runs any more"
    assert rows(case) == [(pb.VOLLSTAENDIGKEIT_PRUEFEN, "EGS", "Durchführender")], "checked again"
    assert case.header.next_timer_at is None
    assert case.data["ergebnisse_unterlagen"] == [
        {
            "unterlage": "anlage_kdu",
            "status": "eingegangen",
            "eingang_am": "2025-04-04",
            "frist_bis": "2025-04-15",
            "erinnert": False,
        }
    ]
    assert "timer_fired" not in actions(deployed, case.instance_id)


def test_angezeigte_unterlage_kann_nicht_umgeschrieben_werden(deployed: Engine) -> None:
    with clock.frozen(at("2025-04-01T10:00:00+02:00")):
        case = waiting_for(deployed, ["anlage_kdu"])
        errors = refused_and_unchanged(
            case, pb.EINGANG_ERFASSEN, {"unterlage": "mietvertrag", "eingang_am": "2025-04-01"}
        )
        assert errors == {"unterlage": ["Dieser Wert ist bereits festgehalten und darf nicht geändert werden."]}


@pytest.mark.parametrize(
    ("entscheidung", "weiter"), [("nachfrist", pb.ANFORDERN), ("unterlagen_eingegangen", pb.VOLLSTAENDIGKEIT_PRUEFEN)]
)
def test_lsb_setzt_nachfrist_oder_prueft_erneut(deployed: Engine, entscheidung: str, weiter: str) -> None:
    t0 = at("2025-04-01T10:00:00+02:00")
    with clock.frozen(t0):
        case = waiting_for(deployed, ["kontoauszuege", "mietvertrag"], frist_tage=1)
    with clock.frozen(t0 + timedelta(hours=2)):
        complete_for(case, pb.EINGANG_ERFASSEN, "mietvertrag", pb.eingang())
    assert case.fire_timers(at=at("2025-04-03T01:00:01+02:00")) == 1  # 0:00 CET
    with clock.frozen(at("2025-04-03T09:00:00+02:00")):
        case.complete(pb.ERINNERN, pb.erinnerung(1))
    assert case.fire_timers(at=at("2025-04-05T01:00:01+02:00")) == 1
    with clock.frozen(at("2025-04-07T09:00:00+02:00")):
        case.complete(
            pb.VERSAGUNG_PRUEFEN, {"entscheidung": entscheidung, "begruendung": "Rücksprache mit dem Kunden."}
        )
        assert rows(case) == [(weiter, "EGS", "Durchführender")]
        if entscheidung == "nachfrist":
            prefilled = task_data(case, pb.ANFORDERN)
            assert prefilled["angeforderte_unterlagen"] == ["kontoauszuege"], "only what is still missing"
            assert prefilled["frist_tage"] == 14
            case.complete(pb.ANFORDERN, pb.anforderung(10))
            [(name, due)] = [(t.name, t.due_at) for t in case.open_tasks()]
            assert (name, due) == (pb.EINGANG_ERFASSEN, at("2025-04-18" + BERLIN_MITTERNACHT)), "a new deadline"
        else:
            assert task_data(case, pb.VOLLSTAENDIGKEIT_PRUEFEN)["fehlende_unterlagen"] == ["kontoauszuege"]


def test_nachricht_ohne_wartende_frist_wird_abgelehnt(deployed: Engine) -> None:
    case = up_to_completeness_check(deployed)
    before = lock(case)
    with pytest.raises(NotFoundError, match="wartet auf die Nachricht „Unterlagen eingegangen“"):
        case.send("Unterlagen eingegangen", {"vorgangsnummer": case.header.business_key, "dokumente": ["Mietvertrag"]})
    assert lock(case) == before and "message" not in actions(deployed, case.instance_id)
    assert rows(case) == [(pb.VOLLSTAENDIGKEIT_PRUEFEN, "EGS", "Durchführender")]


def test_nur_der_egs_erfasst_den_eingang(deployed: Engine) -> None:
    with clock.frozen(at("2025-04-01T10:00:00+02:00")):
        case = waiting_for(deployed, ["kontoauszuege"])
        task = case.task(pb.EINGANG_ERFASSEN)
        before = lock(case)
        for intruder in ("lsb", "tl"):
            with pytest.raises(PermissionDeniedError):
                deployed.complete_task(deployed.actor(intruder), task.task_uuid, pb.eingang())
    assert lock(case) == before
    assert actions(deployed, case.instance_id).count("access_denied") == 2


# --- start by the visitor management (message "Antrag aufnehmen") ------------------------------------------------


def test_start_durch_die_besuchersteuerung_uebernimmt_den_tag_der_antragstellung(deployed: Engine) -> None:
    besuch = {
        "vorname": "Milan",
        "nachname": "Oberwiesner",
        "geburtsdatum": "1979-11-30",
        "anliegen": "erstantrag",
        "tag_der_antragstellung": "2025-03-03",
    }
    with clock.frozen(at("2025-03-04T09:00:00+01:00")):
        with deployed.db.transaction() as session:
            version = deployed.specs.latest(session, pb.PROCESS)
            row = deployed.casework.start(
                session,
                version,
                site="56.6",
                business_key=None,
                actor="egs_56.6",
                data={"bezugsvorgang": "VG-2025-000001"},
                message=("Antrag aufnehmen", besuch),
            )
            instance_id = row.id
        case = CaseDriver.__new__(CaseDriver)  # a driver for the case the message started
        case.engine, case.instance_id, case.site = deployed, instance_id, "56.6"
        case.header = deployed.case_view(deployed.actor("audit"), instance_id).header
        assert rows(case) == [(pb.ANMELDEN, "EGS", "Durchführender")]
        assert case.header.claim_date.isoformat() == "2025-03-03" and case.header.applicant_name == "Oberwiesner, Milan"
        prefilled = task_data(case, pb.ANMELDEN)
        assert {k: prefilled[k] for k in besuch} == besuch and prefilled["bezugsvorgang"] == "VG-2025-000001"
        errors = refused_and_unchanged(case, pb.ANMELDEN, {**besuch, "tag_der_antragstellung": "2025-03-04"})
        assert errors == {
            "tag_der_antragstellung": ["Dieser Wert ist bereits festgehalten und darf nicht geändert werden."]
        }
        case.complete(pb.ANMELDEN, besuch)
        assert rows(case) == [(pb.ANNEHMEN, "EGS", "Durchführender")]
    assert [t.site for t in case.open_tasks()] == ["56.6"], "the case runs at the site of the visit"
