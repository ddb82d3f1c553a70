"""Retention and legal hold: personal data goes after the retention period, the proof of the trail stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from engine import audit, audit_verify, clock
from engine.api import Engine
from engine.auth import system_actor
from engine.errors import FormValidationError, NotFoundError, PermissionDeniedError
from engine.models import AuditEvent, ProcessInstance, TaskDraft, search_name_of
from tests.support.cases import CaseDriver
from tests.support.tampering import bypassing_guards, case_events

SYSTEM = system_actor("test")
POST = "postausgang"
LATER = timedelta(days=3651)  # past the default retention period (config/egs.toml: standard_tage = 3650)


def ended_case(engine: Engine, name: str = "Tamara Ellerbrock") -> CaseDriver:
    """A Postausgang case that ended, with a name in its form values and its applicant name set."""
    case = CaseDriver(engine, POST)
    case.complete("Ausgangspost versenden", {
        "absendendes_team": "LSB", "empfaenger": name, "bezug_vorgangsnummer": "07402//0094744",
        "schreiben": "Aufforderung zur Mitwirkung", "versandart": "brief", "versandt_am": case.data["gestartet_am"],
    })  # fmt: skip
    assert case.status == "completed"
    with engine.db.transaction() as session:  # the name a clerk sees in the inbox and search
        session.execute(sa.update(ProcessInstance).where(ProcessInstance.id == case.instance_id)
                        .values(applicant_name=name, search_name=search_name_of(name)))  # fmt: skip
    return case


def trail(engine: Engine, instance_id: int) -> list[AuditEvent]:
    """A case's events without the views (reading a case is recorded too)."""
    return [e for e in case_events(engine, instance_id) if e.action != "case_viewed"]


def findings(engine: Engine) -> list[tuple[str, int, str]]:
    return [(p.chain, p.event_id, p.problem) for p in engine.verify_audit(SYSTEM)]


def test_retention_deletes_personal_data_and_the_trail_still_verifies(deployed: Engine) -> None:
    case = ended_case(deployed)
    running = CaseDriver(deployed, POST)  # not ended: never deleted
    with deployed.db.transaction() as session:
        session.add(TaskDraft(task_uuid=trail(deployed, case.instance_id)[1].task_uuid, user_id=1,
                              values={"empfaenger": ["Tamara"]}, saved_at=clock.now()))  # fmt: skip
    assert deployed.run_retention(SYSTEM) == 0, "not yet past its retention period"
    assert deployed.run_retention(SYSTEM, clock.now() + LATER) == 1
    assert deployed.run_retention(SYSTEM, clock.now() + LATER) == 0, "done once"
    with deployed.db.reading() as session:
        row = session.get(ProcessInstance, case.instance_id)
        assert row is not None and (row.status, row.applicant_name, row.state) == ("deleted", None, "{}")
        assert session.scalar(sa.select(sa.func.count()).select_from(TaskDraft)) == 0
        assert session.get(ProcessInstance, running.instance_id).status == "running"  # type: ignore[union-attr]
    events = trail(deployed, case.instance_id)
    assert "Tamara" not in str([e.details for e in case_events(deployed, case.instance_id)])
    assert [e.action for e in events] == ["start", "complete", "retention_deleted"]
    assert all(audit.redacted(e.details) for e in events[:-1])
    assert events[-1].details["ereignisse_bereinigt"] == 2 and events[-1].actor == "system"
    assert findings(deployed) == []


def test_tampering_after_deletion_is_still_found(deployed: Engine) -> None:
    case = ended_case(deployed)
    deployed.run_retention(SYSTEM, clock.now() + LATER)
    start, complete, record = trail(deployed, case.instance_id)
    with bypassing_guards(deployed) as session:
        details = {**complete.details, "sha256": "0" * 64}
        session.execute(sa.update(AuditEvent).where(AuditEvent.id == complete.id).values(details=details))
    assert findings(deployed) == [(f"case:{case.instance_id}", complete.id, audit_verify.CHANGED)]
    with bypassing_guards(deployed) as session:
        session.execute(sa.delete(AuditEvent).where(AuditEvent.id == record.id))
    assert (f"case:{case.instance_id}", start.id, audit_verify.NO_RECORD) in findings(deployed)


def test_the_guard_lets_only_a_removal_record_through(deployed: Engine) -> None:
    case = ended_case(deployed)
    start = case_events(deployed, case.instance_id)[0]
    for values in ({"details": {"anders": 1}}, {"actor": "x", "details": {"entfernt": "jetzt", "sha256": "0"}}):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with deployed.db.transaction() as session:
                session.execute(sa.update(AuditEvent).where(AuditEvent.id == start.id).values(**values))


def test_a_legal_hold_on_a_case_or_a_person_blocks_deletion(deployed: Engine) -> None:
    audit_user = deployed.actor("audit")
    held_case, held_person, free = ended_case(deployed), ended_case(deployed, "Jana Kowalski"), ended_case(deployed)
    on_case = deployed.set_legal_hold(audit_user, "Prüfung 2026/17", instance_id=held_case.instance_id)
    deployed.set_legal_hold(audit_user, "Klage vor dem Sozialgericht", person="  JANA Kowalski ")
    assert deployed.run_retention(SYSTEM, clock.now() + LATER) == 1
    assert (held_case.status, held_person.status) == ("completed", "completed")
    assert CaseDriver.existing(deployed, free.instance_id).header.status == "deleted"
    lifted = deployed.lift_legal_hold(audit_user, on_case.id, "Prüfung abgeschlossen")
    assert lifted.lifted_by == "audit" and lifted.lift_reason == "Prüfung abgeschlossen"
    assert deployed.run_retention(SYSTEM, clock.now() + LATER) == 1, "the case hold is lifted, the person's is not"
    assert [h.person for h in deployed.legal_holds(audit_user)][0] == "jana kowalski", "active holds first"
    with deployed.db.reading() as session:
        actions = session.execute(
            sa.select(AuditEvent.action, AuditEvent.actor, AuditEvent.instance_id)
            .where(AuditEvent.action.in_(("legal_hold_set", "legal_hold_lifted"))).order_by(AuditEvent.id)
        ).all()  # fmt: skip
    assert [tuple(row) for row in actions] == [
        ("legal_hold_set", "audit", held_case.instance_id),
        ("legal_hold_set", "audit", None),
        ("legal_hold_lifted", "audit", held_case.instance_id),
    ]
    assert findings(deployed) == []


def test_legal_holds_are_for_audit_with_a_reason(deployed: Engine) -> None:
    case = ended_case(deployed)
    with pytest.raises(PermissionDeniedError):
        deployed.set_legal_hold(deployed.actor("tl"), "Grund", instance_id=case.instance_id)
    with pytest.raises(FormValidationError):
        deployed.set_legal_hold(deployed.actor("audit"), "   ", instance_id=case.instance_id)
    with pytest.raises(FormValidationError):
        deployed.set_legal_hold(deployed.actor("audit"), "Grund", instance_id=case.instance_id, person="Jana")
    with pytest.raises(NotFoundError):
        deployed.set_legal_hold(deployed.actor("audit"), "Grund", instance_id=999999)
    with pytest.raises(NotFoundError):
        deployed.lift_legal_hold(deployed.actor("audit"), 999999, "Grund")
    with pytest.raises(PermissionDeniedError):
        deployed.run_retention(deployed.actor("audit"))


def test_retention_days_per_process_come_from_the_configuration(deployed: Engine) -> None:
    from engine.retention import retention_days

    assert retention_days(deployed.konfig, "besuchersteuerung") == 365
    assert retention_days(deployed.konfig, POST) == 3650


def test_the_worker_runs_retention(deployed: Engine) -> None:
    case = ended_case(deployed)
    with clock.frozen(clock.now() + LATER):
        deployed.housekeeping()
    assert CaseDriver.existing(deployed, case.instance_id).header.status == "deleted"
