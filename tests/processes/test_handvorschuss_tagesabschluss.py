"""Path tests: Tagesabschluss der Handvorschusskasse (Konzept Ziffer 4.2) – Buchbestand, Zählung, Differenz."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine.api import Engine
from engine.errors import PermissionDeniedError, RuleViolationError
from engine.models import CashEntry
from tests.support.cases import CaseDriver
from tests.support.handvorschuss import buchung, verantwortliche_bestimmen

PROCESS = "handvorschuss_tagesabschluss"
ZAEHLEN = "Kassenbestand zählen"
KLAEREN = "Kassendifferenz klären"


@pytest.fixture
def kasse(deployed: Engine, make_user) -> Engine:  # type: ignore[no-untyped-def]
    make_user("egs.vertretung", ("EGS", "56.4"))
    make_user("egs.kollege", ("EGS", "56.4"))
    verantwortliche_bestimmen(deployed, "egs", "egs.vertretung")
    buchung(deployed, "einzahlung", 400.0)
    return deployed


def abschluesse(engine: Engine) -> list[tuple[str, int, str]]:
    with engine.db.reading() as session:
        rows = session.scalars(sa.select(CashEntry).where(CashEntry.kind == "abschluss").order_by(CashEntry.id))
        return [(r.purpose, r.balance_after_cents, r.actor) for r in rows]


def test_tagesabschluss_ohne_differenz(kasse: Engine) -> None:
    case = CaseDriver(kasse, PROCESS)
    case.complete(ZAEHLEN, {"gezaehlter_bestand": 400.0, "belege_vollstaendig": True})
    assert case.status == "completed"
    abschluss = case.data["tagesabschluss"]
    assert (abschluss["datum"], abschluss["saldo"], abschluss["buchungen"]) == (case.data["gestartet_am"], 400.0, 1)
    assert case.data["kassendifferenz"] == 0
    [(zweck, bestand, wer)] = abschluesse(kasse)
    assert (bestand, wer) == (40000, "egs") and zweck.startswith("Tagesabschluss")


def test_kassendifferenz_klaert_die_fachdienstleitung(kasse: Engine) -> None:
    case = CaseDriver(kasse, PROCESS)
    case.complete(ZAEHLEN, {"gezaehlter_bestand": 380.0, "belege_vollstaendig": False}, as_user="egs.vertretung")
    assert case.data["kassendifferenz"] == -20.0
    assert [(t.name, t.lane) for t in case.open_tasks()] == [(KLAEREN, "FDL")]
    assert [t.name for t in kasse.inbox(kasse.actor("fdl"))] == [KLAEREN]
    case.complete(KLAEREN, {"ursache": "Auszahlungsbeleg lag im Tresor", "massnahme_differenz": "beleg_nachgebucht",
                            "geklaert_am": case.data["gestartet_am"]})  # fmt: skip
    assert case.status == "completed"


def test_nur_kassenverwaltung_und_vertretung_schliessen_ab(kasse: Engine) -> None:
    case = CaseDriver(kasse, PROCESS)
    with pytest.raises(PermissionDeniedError, match="Buchen dürfen nur"):
        case.complete(ZAEHLEN, {"gezaehlter_bestand": 400.0, "belege_vollstaendig": True}, as_user="egs.kollege")
    assert abschluesse(kasse) == [] and case.open_task_names() == [ZAEHLEN]


def test_ohne_kasse_kein_abschluss(deployed: Engine) -> None:
    case = CaseDriver(deployed, PROCESS, site="56.7")
    with pytest.raises(RuleViolationError, match="keine Handvorschusskasse eingerichtet"):
        case.complete(ZAEHLEN, {"gezaehlter_bestand": 0.0, "belege_vollstaendig": True})
    assert case.open_task_names() == [ZAEHLEN]
