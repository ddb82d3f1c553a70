"""Service tasks: petty cash (never negative, capped, only custodian/deputy) and Sammelliste entries."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from engine.api import Engine
from engine.auth import system_actor
from engine.demo import create_demo_users
from engine.errors import PermissionDeniedError, RuleViolationError
from engine.model_lint import ModelLintError
from engine.model_loader import ModelFile
from engine.models import CashEntry, CashRegister, HumanTask, PaymentListEntry
from tests.support.engines import DATA


@pytest.fixture
def services(engine: Engine) -> Engine:
    engine.deploy_paths([DATA], system_actor("test"), DATA / "forms")
    create_demo_users(engine)
    return engine


def run(engine: Engine, username: str, data: dict[str, Any]) -> dict[str, Any]:
    """Start a case, submit the booking form as ``username``; return the case data afterwards."""
    actor = engine.actor(username)
    case = engine.start_case(actor, "test_services")
    [task] = engine.open_tasks(actor, case.instance_id)
    engine.complete_task(actor, task.task_uuid, data)
    [task] = engine.open_tasks(actor, case.instance_id)
    return engine.task_view(actor, task.task_uuid).data


def balance(engine: Engine) -> int:
    with engine.db.reading() as session:
        register = session.get(CashRegister, "56.4")
        return register.balance_cents if register else -1


def entries(engine: Engine) -> list[tuple[str, int, int]]:
    with engine.db.reading() as session:
        rows = session.scalars(sa.select(CashEntry).order_by(CashEntry.id)).all()
        return [(r.kind, r.amount_cents, r.balance_after_cents) for r in rows]


def test_petty_cash_books_and_never_goes_negative(services: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("egs2", ("EGS", "56.4"))
    run(services, "egs", {"aktion": "verantwortliche", "verwalter": "egs", "vertretung": "egs2"})
    assert (
        run(services, "egs", {"aktion": "buchen", "art": "einzahlung", "betrag": 300, "zweck": "Aufstockung"})[
            "buchung"
        ]["saldo"]
        == 300.0
    )
    paid = run(services, "egs2", {"aktion": "buchen", "art": "auszahlung", "betrag": 120.5, "zweck": "Notlage"})
    assert paid["buchung"]["saldo"] == 179.5

    with pytest.raises(RuleViolationError, match="übersteigt den Kassenbestand von 179,50 €"):
        run(services, "egs", {"aktion": "buchen", "art": "auszahlung", "betrag": 200, "zweck": "zu viel"})
    with pytest.raises(RuleViolationError, match="über der Obergrenze von 1\u202f000,00 €"):
        run(services, "egs", {"aktion": "buchen", "art": "einzahlung", "betrag": 900, "zweck": "zu viel"})
    with pytest.raises(RuleViolationError, match="höchstens zwei Nachkommastellen"):
        run(services, "egs", {"aktion": "buchen", "art": "auszahlung", "betrag": 1.005, "zweck": "Rundung"})

    assert (
        run(services, "egs", {"aktion": "buchen", "art": "rueckzahlung", "betrag": 120.5, "zweck": "zurück"})[
            "buchung"
        ]["saldo"]
        == 300.0
    )
    closed = run(services, "egs2", {"aktion": "abschluss"})["abschluss"]
    assert (closed["saldo"], closed["buchungen"]) == (300.0, 3)
    assert balance(services) == 30000
    assert entries(services) == [
        ("einzahlung", 30000, 30000),
        ("auszahlung", 12050, 17950),
        ("rueckzahlung", 12050, 30000),
        ("abschluss", 0, 30000),
    ], "the refused bookings left no trace"


def test_only_custodian_and_deputy_may_book(services: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuleViolationError, match="keine Handvorschusskasse eingerichtet"):
        run(services, "egs", {"aktion": "buchen", "art": "einzahlung", "betrag": 10, "zweck": "x"})
    make_user("egs2", ("EGS", "56.4"))
    make_user("egs3", ("EGS", "56.4"))
    with pytest.raises(RuleViolationError, match="zwei verschiedene Personen"):
        run(services, "egs", {"aktion": "verantwortliche", "verwalter": "egs", "vertretung": "egs"})
    with pytest.raises(RuleViolationError, match="'lsb' gehört nicht zum EGS des Standorts 56.4"):
        run(services, "egs", {"aktion": "verantwortliche", "verwalter": "egs", "vertretung": "lsb"})
    run(services, "egs", {"aktion": "verantwortliche", "verwalter": "egs", "vertretung": "egs2"})
    with pytest.raises(PermissionDeniedError, match="Buchen dürfen nur die Kassenverwaltung"):
        run(services, "egs3", {"aktion": "buchen", "art": "einzahlung", "betrag": 10, "zweck": "x"})
    assert balance(services) == 0 and entries(services) == []
    with services.db.reading() as session:
        waiting = session.scalars(sa.select(HumanTask.name).order_by(HumanTask.id)).all()
    assert waiting.count("Buchung erfassen") == 4, "every refused step is still open, nothing half-done"
    assert waiting.count("Ergebnis ansehen") == 1


def test_sammelliste_entries(services: Engine) -> None:
    data = run(services, "egs", {"aktion": "liste", "art": "EGZ", "zweck": "Bäckerei Kornblume GmbH",
                                 "betrag": 1250.4, "verwalter": "2025-05"})  # fmt: skip
    with services.db.reading() as session:
        entry = session.get(PaymentListEntry, data["liste"]["eintrag"])
        assert entry is not None
        assert (entry.measure_type, entry.pay_month, entry.recipient, entry.amount_cents, entry.approved_by) == (
            "EGZ", "2025-05", "Bäckerei Kornblume GmbH", 125040, "egs",
        )  # fmt: skip
    with pytest.raises(RuleViolationError, match="Unbekannte Maßnahmeart 'ABM'"):
        run(services, "egs", {"aktion": "liste", "art": "ABM", "zweck": "x", "betrag": 1, "verwalter": "2025-05"})
    with pytest.raises(RuleViolationError, match="Zahlmonat '05/2025'"):
        run(services, "egs", {"aktion": "liste", "art": "EQ", "zweck": "x", "betrag": 1, "verwalter": "05/2025"})


def test_lint_refuses_unknown_operations_and_parameters(engine: Engine) -> None:
    text = (DATA / "services.bpmn").read_text(encoding="utf-8")
    text = text.replace('id="handvorschuss.tagesabschluss"', 'id="kasse.leeren"')
    text = text.replace('<spiffworkflow:parameter id="zweck" type="any" value="zweck" />', "", 1)
    with pytest.raises(ModelLintError) as caught:
        engine.deploy_files([ModelFile("services.bpmn", text.encode())], system_actor("test"), DATA / "forms")
    details = [p.detail for p in caught.value.problems]
    assert any(d.startswith("Unbekannte Service-Operation 'kasse.leeren'") for d in details), details
    assert "'handvorschuss.buchen' erwartet die Parameter art, betrag, zweck." in details
