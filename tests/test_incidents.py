"""Incidents: one broken case never stops the timer worker or the others, and someone is told.

The poison timers below killed the in-process timer thread before (``TypeError`` while saving), so every
other due timer of the platform stopped until restart.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from engine import clock, incidents
from engine.api import Engine
from engine.auth import system_actor
from engine.errors import PermissionDeniedError, RuleViolationError, ScriptError
from engine.models import AuditEvent, HumanTask, Incident, ProcessInstance
from tests.support import hostile
from tests.support.engines import DATA, make_engine

START = clock.parse_iso("2025-05-05T08:00:00+02:00")


@pytest.fixture
def owners(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    engine.init_db()
    from engine.demo import create_demo_users

    create_demo_users(engine)
    yield engine
    engine.close()


def start_timer_cases(engine: Engine, script: str) -> tuple[int, int]:
    """A case whose timer script is ``script`` and a healthy one, both due a day later."""
    hostile.deploy(engine, "test_gift", hostile.timer_script_process("test_gift", script))
    hostile.deploy(engine, "test_gesund", hostile.timer_script_process("test_gesund", "fertig = True"))
    with clock.frozen(START):
        poisoned = engine.start_case(engine.actor("egs"), "test_gift")
        healthy = engine.start_case(engine.actor("egs"), "test_gesund")
    return poisoned.instance_id, healthy.instance_id


def status(engine: Engine, instance_id: int) -> str:
    with engine.db.reading() as session:
        row = session.get(ProcessInstance, instance_id)
        assert row is not None
        return row.status


@pytest.mark.parametrize(
    "script",
    ["wert = reversed([1, 2])", "wert = range(3)", "wert = b'x'", "wert = 1j", "wert = [1][5]"],
)
def test_a_poisoned_timer_stops_only_its_case_and_the_worker_goes_on(owners: Engine, script: str) -> None:
    poisoned, healthy = start_timer_cases(owners, script)
    with clock.frozen(START + timedelta(days=2)):
        owners.run_worker(interval=0, max_rounds=2)  # the worker loop survives the poisoned case
    assert status(owners, healthy) == "completed"
    assert status(owners, poisoned) == "error"
    [incident] = owners.incidents(owners.actor("modeller"))
    assert incident.instance_id == poisoned and incident.kind == "timer" and incident.element_id == "Task_Rechnen"
    assert "wert" in incident.message or "IndexError" in incident.message
    assert not incident.may_mark_fixed and incident.may_retry
    # A stopped case is not retried in a loop: the next round leaves it alone.
    assert owners.fire_due_timers(START + timedelta(days=3)) == 0
    assert len(owners.incidents(owners.actor("modeller"))) == 1


def test_retry_sets_the_case_going_and_a_second_failure_is_a_new_incident(owners: Engine) -> None:
    poisoned, _ = start_timer_cases(owners, "wert = range(3)")
    owners.fire_due_timers(START + timedelta(days=2))
    [incident] = owners.incidents(owners.actor("fdl"))
    owners.retry_incident(owners.actor("fdl"), incident.id)
    assert status(owners, poisoned) == "running"
    assert owners.incidents(owners.actor("fdl")) == []
    owners.fire_due_timers(START + timedelta(days=2, hours=1))
    [again] = owners.incidents(owners.actor("fdl"))
    assert again.id != incident.id and status(owners, poisoned) == "error"
    with owners.db.reading() as session:
        actions = list(session.scalars(sa.select(AuditEvent.action).where(AuditEvent.instance_id == poisoned)))
    assert actions.count("script_error") == 2 and "incident_retried" in actions


def test_cancel_needs_a_reason_and_ends_the_case(owners: Engine) -> None:
    poisoned, _ = start_timer_cases(owners, "wert = 1j")
    owners.fire_due_timers(START + timedelta(days=2))
    [incident] = owners.incidents(owners.actor("modeller"))
    with pytest.raises(RuleViolationError, match="Grund"):
        owners.cancel_case(owners.actor("modeller"), incident.id, "  ")
    owners.cancel_case(owners.actor("modeller"), incident.id, "Modellfehler, Antrag neu erfasst")
    assert status(owners, poisoned) == "cancelled"
    with owners.db.reading() as session:
        assert session.scalar(sa.select(sa.func.count()).where(HumanTask.instance_id == poisoned)) == 0
        event = session.scalar(
            sa.select(AuditEvent).where(AuditEvent.instance_id == poisoned, AuditEvent.action == "case_cancelled")
        )
        assert event is not None and event.details["reason"] == "Modellfehler, Antrag neu erfasst"
    assert owners.incidents(owners.actor("modeller")) == []


def test_only_owners_and_the_sites_leads_handle_incidents(owners: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    start_timer_cases(owners, "wert = 1j")
    owners.fire_due_timers(START + timedelta(days=2))
    [incident] = owners.incidents(owners.actor("tl"))  # TL of 56.4, where the case runs
    foreign_lead = make_user("tl_567", ("TL", "56.7"))
    foreign_owner = make_user("pv_567", ("MODELLER", "56.7"))
    for outsider in (owners.actor("egs"), owners.actor("audit"), foreign_lead, foreign_owner):
        assert owners.incidents(outsider) == [] and owners.incident_count(outsider) == 0
        with pytest.raises(PermissionDeniedError):
            owners.retry_incident(outsider, incident.id)
        with pytest.raises(PermissionDeniedError):
            owners.cancel_case(outsider, incident.id, "weg damit")
    assert owners.incident_count(owners.actor("fdl")) == 1


def test_a_failed_step_in_the_browser_is_an_incident_until_a_later_step_succeeds(owners: Engine) -> None:
    script = "ergebnis = 1 // (heute().year - 2025)"  # fails in 2025, works from 2026 on
    hostile.deploy(owners, "test_teilen", hostile.script_process("test_teilen", script))
    egs = owners.actor("egs")
    with clock.frozen(START):
        case = owners.start_case(egs, "test_teilen")
        task = next(t for t in owners.inbox(egs) if t.instance_id == case.instance_id)
        with pytest.raises(ScriptError, match="ZeroDivisionError"):
            owners.complete_task(egs, task.task_uuid, {})
    [incident] = owners.incidents(owners.actor("modeller"))
    assert incident.kind == "step" and incident.case_status == "running"
    assert incident.may_mark_fixed and not incident.may_retry
    # The clerk's form is not stale: the failed step changed nothing of the case.
    with clock.frozen(START.replace(year=2026)):
        owners.complete_task(egs, task.task_uuid, {}, expected_lock_version=1)
    assert owners.incidents(owners.actor("modeller")) == []
    with owners.db.reading() as session:
        closed = session.scalar(sa.select(Incident).where(Incident.instance_id == case.instance_id))
        assert closed is not None and closed.resolution == "Durch einen erfolgreichen Schritt behoben"


def test_transient_failures_wait_with_a_growing_pause(owners: Engine) -> None:
    poisoned, _ = start_timer_cases(owners, "fertig = True")
    failure = sa_exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))
    with clock.frozen(START + timedelta(days=2)), owners.db.transaction() as session:
        first = incidents.record(session, poisoned, "timer", failure)
        second = incidents.record(session, poisoned, "timer", failure)
        assert first.id == second.id and second.attempts == 2 and second.transient
        assert second.next_retry_at == START + timedelta(days=2, minutes=1)
    assert "automatisch wiederholt" in second.message
    # While the pause lasts the worker leaves the case alone; afterwards it fires and the incident closes.
    assert owners.fire_due_timers(START + timedelta(days=2, seconds=30)) == 1  # only the healthy case
    assert status(owners, poisoned) == "running"
    assert owners.fire_due_timers(START + timedelta(days=2, minutes=2)) == 1
    assert status(owners, poisoned) == "completed"
    assert owners.incidents(owners.actor("modeller")) == []
    assert [incidents.pause_after(n).total_seconds() for n in (1, 2, 3, 20)] == [30, 60, 120, 3600]


def test_a_message_whose_step_fails_is_an_incident_of_the_receiving_case(owners: Engine) -> None:
    text = (DATA / "msg_receiver.bpmn").read_text(encoding="utf-8")
    start = text.index('<bpmn:userTask id="Task_Pruefen"')
    end = text.index("</bpmn:userTask>", start) + len("</bpmn:userTask>")
    script = (
        '<bpmn:scriptTask id="Task_Pruefen" name="Unterlagen prüfen"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="egsRole" value="Durchführender" /></spiffworkflow:properties>'
        "</bpmn:extensionElements><bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing>"
        "<bpmn:script>anzahl = 1 // 0</bpmn:script></bpmn:scriptTask>"
    )
    text = (text[:start] + script + text[end:]).replace("test_receiver", "test_empfang_kaputt")
    hostile.deploy(owners, "test_empfang_kaputt", text)
    case = owners.start_case(owners.actor("egs"), "test_empfang_kaputt", business_key="AZ-4711")
    with pytest.raises(ScriptError, match="ZeroDivisionError"):
        owners.send_message(system_actor("post"), "Unterlagen eingegangen", "AZ-4711", {"art": "Lohnschein"}, True)
    [incident] = owners.incidents(owners.actor("modeller"))
    assert (incident.instance_id, incident.kind, incident.element_id) == (case.instance_id, "message", "Task_Pruefen")
    assert status(owners, case.instance_id) == "running", "nothing of the failed delivery is stored"


def test_a_case_that_runs_out_of_work_without_an_end_event_is_an_incident(owners: Engine) -> None:
    """Only an end event completes a case; a path that just stops (here: a script with no outgoing flow)."""
    text = hostile.script_process("test_offen", "x = 1")
    for removed in (
        '    <bpmn:endEvent id="Event_Ende"><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>\n',
        '    <bpmn:sequenceFlow id="F3" sourceRef="Task_Rechnen" targetRef="Event_Ende" />\n',
        "<bpmn:outgoing>F3</bpmn:outgoing>",
        "<bpmn:flowNodeRef>Event_Ende</bpmn:flowNodeRef>",
    ):
        assert removed in text
        text = text.replace(removed, "")
    hostile.deploy(owners, "test_offen", text)
    egs = owners.actor("egs")
    case = owners.start_case(egs, "test_offen")
    task = next(t for t in owners.inbox(egs) if t.instance_id == case.instance_id)
    owners.complete_task(egs, task.task_uuid, {})
    assert status(owners, case.instance_id) == "error"
    [incident] = owners.incidents(owners.actor("fdl"))
    assert incident.instance_id == case.instance_id and "ohne ein Endereignis" in incident.message
    assert not incident.may_retry and not incident.may_mark_fixed, "only cancelling helps"


def test_an_sgb_ii_lead_does_not_see_incidents_of_fb50_cases(owners: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    """FB 50 (SGB XII) keeps its data apart: the site's SGB II leads see neither the case nor its incident."""
    text = hostile.timer_script_process("test_fb50_gift", "wert = range(3)").replace('name="EGS"', 'name="FB50"')
    hostile.deploy(owners, "test_fb50_gift", text)
    with clock.frozen(START):
        owners.start_case(owners.actor("fb50"), "test_fb50_gift", site="56.6")
    owners.fire_due_timers(START + timedelta(days=2))
    lead = make_user("tl_566", ("TL", "56.6"))
    assert owners.incidents(lead) == [] and owners.incident_count(lead) == 0
    [incident] = owners.incidents(owners.actor("modeller"))
    with pytest.raises(PermissionDeniedError):
        owners.cancel_case(lead, incident.id, "nicht meins")
