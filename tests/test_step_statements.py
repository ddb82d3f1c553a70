"""The step path's budget: completing a task costs at most six statements on either database.

BEGIN, one read (the case locked, all its inbox rows, whether a draft exists), the audit INSERT (the
chain head is kept on the case row), the case UPDATE, one inbox write, COMMIT. Counted, not timed.
"""

from __future__ import annotations

import sqlalchemy as sa

from engine.api import Engine
from engine.inbox import tasks_of_case
from tests.support import pb

STEP_BUDGET = 6


def count_statements(engine: Engine, action) -> list[str]:  # type: ignore[no-untyped-def]
    statements: list[str] = []

    def executed(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE: counted as the begin
            statements.append(statement.split()[0].upper())

    listeners = [
        ("before_cursor_execute", executed),
        ("begin", lambda *_: statements.append("BEGIN")),
        ("commit", lambda *_: statements.append("COMMIT")),
    ]
    for name, listener in listeners:
        sa.event.listen(engine.db.engine, name, listener)
    try:
        action()
    finally:
        for name, listener in listeners:
            sa.event.remove(engine.db.engine, name, listener)
    return statements


def test_completing_a_task_takes_at_most_six_statements(deployed: Engine) -> None:
    egs = deployed.actor("egs")
    case = deployed.start_case(egs, pb.PROCESS)
    task = pb.open_task(deployed, egs, case.instance_id)
    deployed.claim(egs, task.task_uuid)
    result = {}
    statements = count_statements(
        deployed, lambda: result.update(done=deployed.complete_task(egs, task.task_uuid, pb.anmeldung()))
    )
    assert statements == ["BEGIN", "SELECT", "INSERT", "UPDATE", "UPDATE", "COMMIT"]
    assert len(statements) <= STEP_BUDGET
    # The reused inbox row belongs to the next task now: unclaimed, its own name, and the trail still verifies.
    [next_task] = result["done"].next_tasks
    with deployed.db.reading() as session:
        [row] = tasks_of_case(session, case.instance_id)
    assert row.task_uuid == next_task.task_uuid != task.task_uuid and row.assignee is None
    assert row.name == next_task.name and next_task.may_work
    assert deployed.verify_audit(deployed.actor("audit")) == []


def test_a_case_viewed_between_steps_keeps_one_unbroken_chain(deployed: Engine) -> None:
    """Events outside a step (views, claims) extend the chain head on the case row too."""
    egs = deployed.actor("egs")
    case = deployed.start_case(egs, pb.PROCESS)
    deployed.case_view(egs, case.instance_id)
    task = pb.open_task(deployed, egs, case.instance_id)
    deployed.claim(egs, task.task_uuid)
    deployed.complete_task(egs, task.task_uuid, pb.anmeldung())
    deployed.case_view(egs, case.instance_id)
    assert deployed.verify_audit(deployed.actor("audit")) == []


def test_claiming_a_task_takes_at_most_six_statements(deployed: Engine) -> None:
    egs = deployed.actor("egs")
    case = deployed.start_case(egs, pb.PROCESS)
    task = pb.open_task(deployed, egs, case.instance_id)
    statements = count_statements(deployed, lambda: deployed.claim(egs, task.task_uuid))
    assert statements == ["BEGIN", "SELECT", "UPDATE", "INSERT", "UPDATE", "COMMIT"]
    assert deployed.verify_audit(deployed.actor("audit")) == []
