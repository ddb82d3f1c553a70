"""Path tests: Verwaltung der Handvorschüsse (Konzept Ziffer 4.2) – Kassenverantwortung, Buchungen, Grenzen.

Covers the processes ``handvorschuss_verantwortliche`` (FDL sets custodian and deputy) and ``handvorschuss``
(payout on LSB order, repayment, top-up); the daily close has its own test file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.api import Engine
from engine.errors import FormValidationError, PermissionDeniedError, RuleViolationError
from engine.models import CashEntry, CashRegister
from tests.support.cases import CaseDriver
from tests.support.engines import engine_with_config
from tests.support.handvorschuss import BESTIMMEN, ERFASSEN, buchung, verantwortliche_bestimmen
from tests.support.records import aktionen

UEBERNAHME = "Übernahme der Kasse bestätigen"
ANORDNEN = "Auszahlung aus dem Handvorschuss anordnen"
AUSZAHLEN = "Identität prüfen und Auszahlung auslösen"
QUITTUNG = "Bargeld aushändigen und quittieren lassen"


@pytest.fixture
def kasse(deployed: Engine, make_user) -> Engine:  # type: ignore[no-untyped-def]
    """The cash of site 56.4 with custodian 'egs' and deputy 'egs.vertretung'; a third EGS clerk 'egs.kollege'."""
    make_user("egs.vertretung", ("EGS", "56.4"))
    make_user("egs.kollege", ("EGS", "56.4"))
    verantwortliche_bestimmen(deployed, "egs", "egs.vertretung")
    return deployed


def register(engine: Engine, site: str = "56.4") -> CashRegister | None:
    with engine.db.reading() as session:
        return session.get(CashRegister, site)


def saldo(engine: Engine, site: str = "56.4") -> float:
    row = register(engine, site)
    assert row is not None
    return row.balance_cents / 100


def buchungen(engine: Engine) -> list[tuple[str, int, int, str]]:
    with engine.db.reading() as session:
        rows = session.scalars(sa.select(CashEntry).order_by(CashEntry.id))
        return [(r.kind, r.amount_cents, r.balance_after_cents, r.actor) for r in rows]


def auszahlung_angeordnet(engine: Engine, betrag: float) -> CaseDriver:
    case = buchung(engine, "auszahlung", betrag, als="egs.kollege")
    assert [(t.name, t.lane) for t in case.open_tasks()] == [(ANORDNEN, "LSB")]
    case.complete(ANORDNEN, {"auszahlung_angeordnet": True, "rechtsgrundlage": "vorschuss_42_sgb1",
                             "begruendung_lsb": "Zahlung erst zum Monatsende, kein Geld für Lebensmittel"})  # fmt: skip
    assert case.open_task_names() == [AUSZAHLEN]
    return case


def test_fdl_bestimmt_kassenverwaltung_und_vertretung(deployed: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("egs.vertretung", ("EGS", "56.4"))
    case = verantwortliche_bestimmen(deployed, "egs", "egs.vertretung")
    assert [(t.name, t.lane) for t in case.open_tasks()] == [(UEBERNAHME, "EGS")]
    assert case.data["kassenverantwortung"] == {"verwalter": "egs", "vertretung": "egs.vertretung"}
    row = register(deployed)
    assert row is not None and (row.custodian, row.deputy, row.balance_cents) == ("egs", "egs.vertretung", 0)
    with pytest.raises(FormValidationError):
        case.complete(UEBERNAHME, {"uebernommener_bestand": 0.0, "uebernahme_bestaetigt": False})
    case.complete(UEBERNAHME, {"uebernommener_bestand": 0.0, "uebernahme_bestaetigt": True})
    assert case.status == "completed"


@pytest.mark.parametrize(
    ("verwalter", "vertretung", "grund"),
    [("egs", "egs", "zwei verschiedene Personen"), ("egs", "lsb", "'lsb' gehört nicht zum EGS des Standorts 56.4")],
    ids=["dieselbe_person", "nicht_im_egs"],
)
def test_ungeeignete_verantwortliche_werden_abgelehnt(
    deployed: Engine, verwalter: str, vertretung: str, grund: str
) -> None:
    with pytest.raises(RuleViolationError, match=grund):
        verantwortliche_bestimmen(deployed, verwalter, vertretung)
    assert register(deployed) is None, "nichts gespeichert"
    [case_row] = [t for t in deployed.inbox(deployed.actor("fdl"))]
    assert case_row.name == BESTIMMEN, "die Aufgabe der FDL bleibt offen"
    assert aktionen(deployed, case_row.instance_id)[-1] == "rule_violation"


def test_auffuellung_und_angeordnete_auszahlung(kasse: Engine) -> None:
    einzahlung = buchung(kasse, "einzahlung", 500.0, zweck="Auffüllung aus der Kreiskasse")
    assert einzahlung.status == "completed"
    assert einzahlung.data["kassenbuchung"]["saldo"] == 500.0
    case = auszahlung_angeordnet(kasse, 120.5)
    case.complete(AUSZAHLEN, {"empfaenger_identitaet_geprueft": True}, as_user="egs.vertretung")
    assert case.data["kassenbuchung"]["saldo"] == 379.5
    assert saldo(kasse) == 379.5
    assert case.open_task_names() == [QUITTUNG]
    case.complete(QUITTUNG, {"quittung_unterschrieben": True}, as_user="egs.vertretung")
    assert case.status == "completed"
    assert buchungen(kasse) == [("einzahlung", 50000, 50000, "egs"), ("auszahlung", 12050, 37950, "egs.vertretung")]


def test_auszahlung_ueber_dem_kassenbestand_wird_abgelehnt(kasse: Engine) -> None:
    buchung(kasse, "einzahlung", 100.0)
    case = auszahlung_angeordnet(kasse, 150.0)
    vorher = buchungen(kasse)
    with pytest.raises(RuleViolationError, match="übersteigt den Kassenbestand"):
        case.complete(AUSZAHLEN, {"empfaenger_identitaet_geprueft": True}, as_user="egs")
    assert saldo(kasse) == 100.0, "der Bestand wird nie negativ"
    assert buchungen(kasse) == vorher, "keine Buchung gespeichert"
    assert case.open_task_names() == [AUSZAHLEN], "die Auszahlung bleibt offen"
    assert "kassenbuchung" not in case.data


def test_rueckzahlung_stellt_den_bestand_wieder_her(kasse: Engine) -> None:
    buchung(kasse, "einzahlung", 300.0)
    case = auszahlung_angeordnet(kasse, 120.0)
    case.complete(AUSZAHLEN, {"empfaenger_identitaet_geprueft": True}, as_user="egs")
    assert saldo(kasse) == 180.0
    rueckzahlung = buchung(kasse, "rueckzahlung", 120.0, als="egs.vertretung", zweck="Rückzahlung Vorschuss")
    assert rueckzahlung.status == "completed"
    assert saldo(kasse) == 300.0
    assert [b[0] for b in buchungen(kasse)] == ["einzahlung", "auszahlung", "rueckzahlung"]


def test_nur_kassenverwaltung_und_vertretung_duerfen_buchen(kasse: Engine) -> None:
    with pytest.raises(PermissionDeniedError, match="Buchen dürfen nur die Kassenverwaltung"):
        buchung(kasse, "einzahlung", 50.0, als="egs.kollege")
    assert buchungen(kasse) == [] and saldo(kasse) == 0.0
    buchung(kasse, "einzahlung", 200.0)
    case = auszahlung_angeordnet(kasse, 20.0)
    with pytest.raises(PermissionDeniedError):
        case.complete(AUSZAHLEN, {"empfaenger_identitaet_geprueft": True}, as_user="egs.kollege")
    assert saldo(kasse) == 200.0 and len(buchungen(kasse)) == 1
    assert aktionen(kasse, case.instance_id)[-1] == "access_denied"
    with pytest.raises(PermissionDeniedError):
        case.complete(AUSZAHLEN, {"empfaenger_identitaet_geprueft": True}, as_user="lsb")


def test_obergrenze_des_standorts(kasse: Engine) -> None:
    buchung(kasse, "einzahlung", 1000.0)
    assert saldo(kasse) == 1000.0, "Obergrenze 56.4 aus konfig('handvorschuss.obergrenze')"
    with pytest.raises(RuleViolationError, match="über der Obergrenze"):
        buchung(kasse, "einzahlung", 0.01)
    assert saldo(kasse) == 1000.0 and len(buchungen(kasse)) == 1


def test_obergrenze_kommt_aus_der_konfiguration(kasse: Engine, db_url: str, tmp_path: Path) -> None:
    grenzen = '{ "56.4" = 200.00, "56.5" = 1000.00, "56.6" = 1000.00, "56.7" = 1000.00, "56.8" = 1000.00 }'
    with engine_with_config(db_url, tmp_path, obergrenze=grenzen) as engine:
        with pytest.raises(RuleViolationError, match="Obergrenze von 200,00"):
            buchung(engine, "einzahlung", 250.0)
        buchung(engine, "einzahlung", 200.0)
    assert saldo(kasse) == 200.0


def test_lsb_ordnet_keine_auszahlung_an(kasse: Engine) -> None:
    buchung(kasse, "einzahlung", 100.0)
    case = buchung(kasse, "auszahlung", 40.0)
    with pytest.raises(PermissionDeniedError):
        case.complete(ANORDNEN, {"auszahlung_angeordnet": True, "rechtsgrundlage": "vorschuss_42_sgb1",
                                 "begruendung_lsb": "-"}, as_user="egs")  # fmt: skip
    with pytest.raises(FormValidationError) as refused:
        case.complete(ANORDNEN, {"auszahlung_angeordnet": True, "begruendung_lsb": "Notlage"})
    assert list(refused.value.field_errors) == ["rechtsgrundlage"]
    case.complete(ANORDNEN, {"auszahlung_angeordnet": False, "begruendung_lsb": "Zahlung ist bereits angewiesen"})
    assert case.status == "completed"
    assert saldo(kasse) == 100.0 and len(buchungen(kasse)) == 1


def test_ohne_eingerichtete_kasse_keine_buchung(deployed: Engine) -> None:
    case = CaseDriver(deployed, "handvorschuss", site="56.5")
    with pytest.raises(RuleViolationError, match="Am Standort 56.5 ist keine Handvorschusskasse eingerichtet"):
        case.complete(ERFASSEN, {"art": "einzahlung", "betrag": 100.0, "zweck": "Erstausstattung"})
    assert case.open_task_names() == [ERFASSEN]
    assert register(deployed, "56.5") is None


def test_auszahlung_braucht_empfaenger_und_vorgang(kasse: Engine) -> None:
    case = CaseDriver(kasse, "handvorschuss")
    with pytest.raises(FormValidationError) as refused:
        case.complete(ERFASSEN, {"art": "auszahlung", "betrag": -5.0, "zweck": "Notlage"})
    assert set(refused.value.field_errors) == {"betrag", "empfaenger", "bezug_vorgangsnummer"}
