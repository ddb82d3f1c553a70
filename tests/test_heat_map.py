"""The process view: runs, waiting and working times per task over filtered cases, on a fixed clock (issue 12)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine.api import Engine
from engine.errors import FormValidationError, PermissionDeniedError
from engine.heat_map import nearest_rank
from engine.models import AuditEvent
from tests.support import pb
from tests.support.event_log import main_path_case

MINUTE = 60.0


def test_nearest_rank_percentiles() -> None:
    assert nearest_rank([], 0.5) is None
    assert nearest_rank([7.0], 0.9) == 7.0
    assert nearest_rank([3.0, 1.0, 2.0, 4.0], 0.5) == 2.0
    assert nearest_rank([float(n) for n in range(1, 11)], 0.9) == 9.0
    assert nearest_rank([float(n) for n in range(1, 12)], 0.9) == 10.0


def test_runs_and_times_per_task_on_known_cases(deployed: Engine) -> None:
    main_path_case(deployed, 0)  # each task: waits 2 min (ready → claimed), worked 8 min
    main_path_case(deployed, 200, claim_first=False)  # each task: waits 10 min, taken when completed (0 min)
    view = deployed.process_view(deployed.actor("audit"), {"prozess": pb.PROCESS})

    assert view.cases == 2 and view.version == 1 and view.xml.startswith("<")
    steps = {step.element_id: step for step in view.steps}
    registration = steps["Task_Anmeldung"]
    assert (registration.name, registration.lane, registration.runs) == (pb.ANMELDEN, "EGS", 2)
    assert (registration.wait_median, registration.wait_p90) == (2 * MINUTE, 10 * MINUTE)
    assert (registration.work_median, registration.work_p90) == (0.0, 8 * MINUTE)
    handover = steps["Task_Uebernahme"]
    assert (handover.lane, handover.runs, handover.wait_p90, handover.work_p90) == ("LSB", 2, 10 * MINUTE, 8 * MINUTE)
    refusal = steps["Task_Versagung"]
    assert (refusal.runs, refusal.wait_median, refusal.work_median) == (0, None, None)
    assert sum(step.runs for step in view.steps) == 20
    assert len(view.slowest()) == 5 and all(step.runs == 2 for step in view.slowest())


def test_the_filter_narrows_the_figures_and_the_view_is_recorded(deployed: Engine) -> None:
    main_path_case(deployed, 0)
    main_path_case(deployed, 60 * 24 * 2, claim_first=False)  # two days later
    audit = deployed.actor("audit")
    view = deployed.process_view(audit, {"prozess": pb.PROCESS, "bis": "2026-03-02"})
    registration = next(step for step in view.steps if step.element_id == "Task_Anmeldung")
    assert view.cases == 1 and registration.runs == 1 and registration.work_median == 8 * MINUTE
    assert deployed.process_view(audit, {"prozess": pb.PROCESS, "standort": "56.5"}).cases == 0
    with deployed.db.reading() as session:
        record = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export")).first()
    assert record is not None and record.details == {
        "export": "prozessansicht", "parameters": {"prozess": pb.PROCESS, "bis": "2026-03-02"}, "rows": 1,
        "format": "html"}  # fmt: skip


def test_only_the_audit_function_sees_the_process_view(deployed: Engine) -> None:
    for username in ("egs", "tl", "fdl", "modeller"):
        with pytest.raises(PermissionDeniedError):
            deployed.process_view(deployed.actor(username), {"prozess": pb.PROCESS})
        with pytest.raises(PermissionDeniedError):
            deployed.exportable_processes(deployed.actor(username))
    with pytest.raises(FormValidationError):
        deployed.process_view(deployed.actor("audit"), {"prozess": pb.PROCESS, "von": "gestern"})
    assert pb.PROCESS in dict(deployed.exportable_processes(deployed.actor("audit")))
