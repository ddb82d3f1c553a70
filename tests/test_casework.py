"""Messages between cases, cases started by a message, site restrictions, four eyes, configuration."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine.api import Engine
from engine.auth import system_actor
from engine.demo import create_demo_users
from engine.errors import FourEyesError, NotFoundError, PermissionDeniedError, RuleViolationError
from engine.models import AuditEvent, ProcessInstance
from tests.support.engines import DATA


@pytest.fixture
def cases(engine: Engine) -> Engine:
    engine.deploy_paths([DATA], system_actor("test"), DATA / "forms")
    create_demo_users(engine)
    return engine


def only_task(engine: Engine, username: str, instance_id: int) -> str:
    [task] = engine.open_tasks(engine.actor(username), instance_id)
    return task.task_uuid


def actions(engine: Engine, instance_id: int) -> list[str]:
    with engine.db.reading() as session:
        return list(
            session.scalars(
                sa.select(AuditEvent.action).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id)
            )
        )


def test_new_case_sees_its_number_site_and_start_date(cases: Engine) -> None:
    case = cases.start_case(cases.actor("egs"), "test_konfig")
    view = cases.task_view(cases.actor("egs"), only_task(cases, "egs", case.instance_id))
    assert view.data["vorgangsnummer"] == case.business_key
    assert view.data["ort"] == "56.4"
    assert view.data["tagessatz"] == 18.77, "563 € / 30 days from config/egs.toml"
    assert view.data["frist"] == 14


def test_message_stops_the_waiting_case(cases: Engine) -> None:
    egs = cases.actor("egs")
    receiver = cases.start_case(egs, "test_receiver", business_key="07402//0094744")
    sender = cases.start_case(egs, "test_sender")
    cases.complete_task(
        egs, only_task(cases, "egs", sender.instance_id), {"ziel": "07402//0094744", "art": "unterlagen"}
    )

    [task] = cases.open_tasks(egs, receiver.instance_id)
    assert task.name == "Unterlagen prüfen", "the boundary message interrupted 'Auf Unterlagen warten'"
    view = cases.task_view(egs, task.task_uuid)
    assert view.data["post"] == {"vorgangsnummer": "07402//0094744", "eingang_am": view.data["gestartet_am"]}
    assert actions(cases, receiver.instance_id)[-2:] == ["message", "task_viewed"]
    assert cases.case_view(egs, sender.instance_id).header.status == "completed"


def test_undeliverable_message_refuses_the_step_and_stores_nothing(cases: Engine) -> None:
    egs = cases.actor("egs")
    sender = cases.start_case(egs, "test_sender")
    task_uuid = only_task(cases, "egs", sender.instance_id)
    with pytest.raises(RuleViolationError, match="kein offener Vorgang 07402//0000000 wartet darauf"):
        cases.complete_task(egs, task_uuid, {"ziel": "07402//0000000", "art": "unterlagen"})
    assert only_task(cases, "egs", sender.instance_id) == task_uuid
    assert actions(cases, sender.instance_id) == ["start", "rule_violation"]


def test_message_starts_a_case_at_a_site_that_offers_the_process(cases: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    clerk = make_user("egs66", ("EGS", "56.6"))
    sender = cases.start_case(clerk, "test_sender", site="56.6")
    cases.complete_task(
        clerk, only_task(cases, "egs66", sender.instance_id), {"ziel": "Grundsicherung", "art": "anliegen"}
    )
    fb50 = cases.actor("fb50")
    [task] = cases.inbox(fb50)
    assert (task.name, task.site, task.lane) == ("Anliegen aufnehmen", "56.6", "FB50")
    view = cases.task_view(fb50, task.task_uuid)
    assert view.data["anliegen"] == {"anliegen_text": "Grundsicherung"}
    assert view.data["bezugsvorgang"] == sender.business_key
    assert cases.inbox(clerk) == [], "the SGB II clerk does not get the FB 50 case"


def test_process_not_offered_at_the_site_is_refused(cases: Engine) -> None:
    egs = cases.actor("egs")
    sender = cases.start_case(egs, "test_sender", site="56.4")
    task_uuid = only_task(cases, "egs", sender.instance_id)
    with pytest.raises(RuleViolationError, match="wird am Standort 56.4 nicht angeboten"):
        cases.complete_task(egs, task_uuid, {"ziel": "Grundsicherung", "art": "anliegen"})
    with cases.db.reading() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ProcessInstance)) == 1
    with pytest.raises(RuleViolationError):
        cases.start_case(cases.actor("fb50"), "test_started", site="56.4", system=True)


def test_send_message_from_outside(cases: Engine) -> None:
    egs, lsb = cases.actor("egs"), cases.actor("lsb")
    receiver = cases.start_case(egs, "test_receiver", business_key="07402//0094745")
    with pytest.raises(PermissionDeniedError):
        cases.send_message(lsb, "Unterlagen eingegangen", "07402//0094745")
    with pytest.raises(NotFoundError, match="wartet auf die Nachricht „Gibt es nicht“"):
        cases.send_message(egs, "Gibt es nicht", "07402//0094745")
    assert cases.send_message(egs, "Unterlagen eingegangen", "07402//0094745", {"eingang_am": "2025-03-03"}) == 1
    assert [t.name for t in cases.open_tasks(egs, receiver.instance_id)] == ["Unterlagen prüfen"]


def test_four_eyes_rule_is_enforced_by_the_engine(cases: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    egs = cases.actor("egs")
    colleague = make_user("egs2", ("EGS", "56.4"))
    case = cases.start_case(egs, "test_four_eyes")
    cases.complete_task(egs, only_task(cases, "egs", case.instance_id), {})
    approval = only_task(cases, "egs", case.instance_id)
    with pytest.raises(FourEyesError, match="Vier-Augen-Prinzip"):
        cases.claim(egs, approval)
    with pytest.raises(FourEyesError):
        cases.complete_task(egs, approval, {})
    assert [a for a in actions(cases, case.instance_id) if a == "access_denied"] == ["access_denied"] * 2
    cases.complete_task(colleague, approval, {})
    assert cases.case_view(colleague, case.instance_id).header.status == "completed"


def test_process_with_plain_and_message_start(cases: Engine) -> None:
    fb50 = cases.actor("fb50")
    direct = cases.start_case(fb50, "test_two_starts", site="56.6")
    [task] = cases.open_tasks(fb50, direct.instance_id)
    assert "anliegen" not in cases.task_view(fb50, task.task_uuid).data
    with cases.db.transaction() as session:
        version = cases.specs.latest(session, "test_two_starts")
        row = cases.casework.start(
            session, version, site="56.7", business_key=None, actor="test",
            message=("Zweites Anliegen", {"text": "Hilfe zur Pflege"}),
        )  # fmt: skip
        by_message = row.id
    assert cases.open_tasks(system_actor("x"), by_message) == [], "the system actor works no lane"
    with cases.db.reading() as session:
        from engine.inbox import tasks_of_case

        [open_task] = tasks_of_case(session, by_message)
    assert open_task.name == "Anliegen aufnehmen" and open_task.site == "56.7"


def test_message_only_process_cannot_be_started_directly(cases: Engine) -> None:
    with pytest.raises(RuleViolationError, match="nur durch eine Nachricht gestartet"):
        cases.start_case(cases.actor("fb50"), "test_started", site="56.6")


def test_time_date_timer_is_scheduled_and_fires(cases: Engine) -> None:
    from engine import clock

    with clock.frozen(clock.parse_iso("2025-05-20T10:00:00+02:00")):
        case = cases.start_case(cases.actor("egs"), "test_timedate")
    assert case.next_timer_at == clock.parse_iso("2025-06-01T08:00:00+02:00")
    assert cases.fire_due_timers(clock.parse_iso("2025-06-01T07:59:00+02:00")) == 0
    assert cases.fire_due_timers(clock.parse_iso("2025-06-01T08:01:00+02:00")) == 1
    assert [t.name for t in cases.open_tasks(cases.actor("egs"), case.instance_id)] == ["Nach dem Stichtag"]


def test_several_groups_may_start_a_process(cases: Engine) -> None:
    tl, lsb = cases.actor("tl"), cases.actor("lsb")
    assert "test_konfig" in [p.process_id for p in cases.startable_processes(tl)]
    assert "test_konfig" not in [p.process_id for p in cases.startable_processes(lsb)]
    assert "test_started" not in [p.process_id for p in cases.startable_processes(cases.actor("fb50"))], (
        "a process started only by message is not offered for a direct start"
    )
    assert cases.start_case(tl, "test_konfig").status == "running"
    with pytest.raises(PermissionDeniedError, match="Nur EGS / TL am Standort 56.4"):
        cases.start_case(lsb, "test_konfig")
