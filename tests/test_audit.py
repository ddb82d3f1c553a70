"""The audit trail is append-only and tamper-evident."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from engine import audit, audit_verify
from engine.api import Engine
from engine.errors import PermissionDeniedError
from engine.models import AuditEvent
from tests.support import pb
from tests.support.tampering import bypassing_guards


def walked_case(engine: Engine) -> int:
    egs = engine.actor("egs")
    case = engine.start_case(egs, pb.PROCESS)
    pb.step(engine, egs, case.instance_id, "Besucher anmelden und Anliegen erfassen", pb.anmeldung())
    engine.case_view(egs, case.instance_id)
    return case.instance_id


def test_every_step_and_view_is_recorded_with_submitted_data(deployed: Engine) -> None:
    instance_id = walked_case(deployed)
    with deployed.db.reading() as session:
        events = audit.events_for_instance(session, instance_id)
    assert [(e.action, e.actor) for e in events] == [
        ("start", "egs"),
        ("complete", "egs"),
        ("case_viewed", "egs"),
    ]
    complete = events[1]
    assert complete.details["task"] == "Besucher anmelden und Anliegen erfassen"
    assert complete.details["data"]["nachname"] == "Probstfeld"
    assert complete.details["changes"]["nachname"] == [None, "Probstfeld"]
    assert all(e.prev_hash == prev.hash for prev, e in zip(events, events[1:], strict=False))


def test_chains_verify_clean(deployed: Engine) -> None:
    walked_case(deployed)
    walked_case(deployed)
    with deployed.db.reading() as session:
        assert audit.verify_chains(session) == []


@pytest.mark.parametrize("statement", ["UPDATE audit_event SET actor = 'mallory'", "DELETE FROM audit_event"])
def test_database_refuses_changes_to_the_trail(deployed: Engine, statement: str) -> None:
    walked_case(deployed)
    with pytest.raises(DBAPIError, match="append-only"):
        with deployed.db.transaction() as session:
            session.execute(sa.text(statement))
    with deployed.db.reading() as session:
        assert (
            session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.actor == "mallory")) == 0
        )


def test_verification_detects_changed_and_deleted_events(deployed: Engine) -> None:
    """Someone with database superuser rights bypasses the triggers: the hash chain still tells."""
    instance_id = walked_case(deployed)
    with deployed.db.reading() as session:
        start, complete, viewed = audit.events_for_instance(session, instance_id)
    with bypassing_guards(deployed) as session:
        session.execute(sa.update(AuditEvent).where(AuditEvent.id == start.id).values(actor="mallory"))
        session.execute(sa.delete(AuditEvent).where(AuditEvent.id == complete.id))
    with deployed.db.reading() as session:
        problems = [(p.chain, p.event_id, p.problem) for p in audit.verify_chains(session)]
    chain = f"case:{instance_id}"
    assert problems == [
        (chain, start.id, audit_verify.CHANGED),
        (chain, viewed.id, audit_verify.GAP),
    ]


def test_every_action_has_a_german_label() -> None:
    for action in audit.Action:
        assert action.label.strip(), f"{action.value} hat keine Beschriftung"
        assert action.label != action.value, f"{action.value} ist nicht übersetzt"
    assert len({action.label for action in audit.Action}) == len(audit.Action), "labels must tell actions apart"
    assert audit.label("gibt_es_nicht") == "gibt_es_nicht", "an unknown code is shown as it is"


def test_every_action_recorded_by_the_suite_so_far_is_declared(deployed: Engine) -> None:
    """Whatever an engine run writes into the trail must be a declared action (and so have a label)."""
    walked_case(deployed)
    egs = deployed.actor("egs")
    task = deployed.inbox(egs)[0].task_uuid
    deployed.claim(egs, task)
    deployed.save_draft(egs, task, {"vorname": ["Jana"]})
    deployed.unclaim(egs, task)
    deployed.set_priority(deployed.actor("tl"), task, 2)
    deployed.set_due(deployed.actor("tl"), task, None)
    deployed.delegate(deployed.actor("tl"), task, "egs", "Urlaubsvertretung")
    deployed.export(egs, "raci", {})
    with pytest.raises(PermissionDeniedError):
        deployed.task_view(deployed.actor("lsb"), task)
    deployed.verify_audit(deployed.actor("audit"))
    with deployed.db.reading() as session:
        recorded = set(session.scalars(sa.select(AuditEvent.action).distinct()))
    declared = {action.value for action in audit.Action}
    assert recorded <= declared, f"undeclared actions: {recorded - declared}"
    assert {"claim", "draft_saved", "unclaim", "priority", "due", "delegate", "export", "access_denied"} <= recorded


def test_verifying_the_trail_is_for_audit_and_is_itself_recorded(deployed: Engine) -> None:
    with pytest.raises(PermissionDeniedError):
        deployed.verify_audit(deployed.actor("egs"))
    assert deployed.verify_audit(deployed.actor("audit")) == []
    with deployed.db.reading() as session:
        events = session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action.in_(("audit_verified", "access_denied")))
        ).all()
    assert [(e.action, e.actor, e.details.get("operation")) for e in events] == [
        ("access_denied", "egs", "verify_audit"),
        ("audit_verified", "audit", None),
    ]
