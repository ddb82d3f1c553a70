"""Scripts in models run in a sandbox: escape attempts fail with a clear error and the case stays intact."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import sqlalchemy as sa

from engine import clock
from engine.api import Engine
from engine.auth import system_actor
from engine.errors import EngineError, ScriptError
from engine.models import AuditEvent, ProcessInstance
from engine.scripting import Sandbox
from tests.support.engines import DATA

ESCAPES = [
    ("import os\nos.system('touch /tmp/egs-pwned')", "'import' ist in Skripten nicht erlaubt"),
    ("__import__('os').system('id')", "'__import__' steht in Skripten nicht zur Verfügung"),
    ("x = ().__class__.__base__.__subclasses__()", "Zugriff auf Attribute, die mit '_' beginnen, ist verboten"),
    ("open('/etc/passwd').read()", "'open' steht in Skripten nicht zur Verfügung"),
    ("eval('1 + 1')", "'eval' ist in Skripten nicht erlaubt"),
    ("exec('x = 1')", "'exec' ist in Skripten nicht erlaubt"),
    ("getattr(heute, '__globals__')", "'getattr' steht in Skripten nicht zur Verfügung"),
    ("x = heute.__globals__['clock']", "Zugriff auf Attribute, die mit '_' beginnen, ist verboten"),
    ("x = type(1)", "'type' steht in Skripten nicht zur Verfügung"),
    ("x = '{0.__class__}'.format(1)", "format"),
    ("def f():\n    yield 1\nx = f().gi_frame.f_globals", "restricted name"),
    ("class Boese:\n    pass", "Klassen dürfen in Skripten nicht definiert werden"),
    ("try:\n    x = 1\nexcept:\n    pass", "'except:' ohne Ausnahmetyp ist nicht erlaubt"),
    ("while True:\n    pass", "Zeitlimit"),
    ("n = 0\nwhile True:\n    try:\n        n = n + 1\n    except Exception:\n        pass", "Zeitlimit"),
    ("x = 'a' * 10**9", "Ergebnis wäre zu groß"),
    ("x = 2 ** 10**8", "Exponent zu groß"),
    ("x = [i for i in range(10**9)]", "range() mit mehr als"),
    ("s = 'ab'\nfor i in range(100):\n    s += s", "Ergebnis wäre zu groß"),
]


@pytest.mark.parametrize(("script", "expected"), ESCAPES)
def test_escape_attempts_are_refused(script: str, expected: str) -> None:
    data: dict[str, object] = {"eingabe": 1}
    with pytest.raises(ScriptError) as caught:
        Sandbox(timeout=0.3).execute(script, data)
    assert expected in caught.value.message
    assert data == {"eingabe": 1}, "a refused script leaves the data untouched"
    assert not os.path.exists("/tmp/egs-pwned")


def test_allowed_scripts_compute_and_write_back() -> None:
    data: dict[str, object] = {"betrag": 563, "tage": 30, "liste": [1, 2]}
    Sandbox().execute(
        "tagessatz = round(betrag / tage, 2)\nliste.append(3)\nsumme = sum(liste)\nfrist = str(heute())", data
    )
    assert data["tagessatz"] == 18.77
    assert data["liste"] == [1, 2, 3] and data["summe"] == 6
    assert data["frist"] == clock.today_berlin().isoformat()


def test_expressions_for_gateways_and_timers() -> None:
    sandbox = Sandbox()
    assert sandbox.evaluate("unterlagen_vollstaendig == True", {"unterlagen_vollstaendig": True}) is True
    assert sandbox.evaluate('"P" + str(frist_tage) + "D"', {"frist_tage": 14}) == "P14D"
    with pytest.raises(ScriptError, match="NameError"):
        sandbox.evaluate("gibt_es_nicht > 1", {})


@pytest.fixture
def script_engine(engine: Engine) -> Engine:
    engine.deploy_paths([DATA], system_actor("test"), DATA / "forms")
    from engine.demo import create_demo_users

    create_demo_users(engine)
    return engine


def start_and_enter(engine: Engine, process: str, data: dict[str, object]) -> tuple[int, str, Exception | None]:
    egs = engine.actor("egs")
    case = engine.start_case(egs, process)
    task = next(t for t in engine.inbox(egs) if t.instance_id == case.instance_id)
    try:
        engine.complete_task(egs, task.task_uuid, data)
    except ScriptError as exc:
        return case.instance_id, task.task_uuid, exc
    return case.instance_id, task.task_uuid, None


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"text": "ab", "anzahl": 10**8, "modus": "normal"}, "Ergebnis wäre zu groß"),
        ({"text": "ab", "anzahl": 2, "modus": "schleife"}, "Zeitlimit"),
        ({"text": "ab", "anzahl": 2, "modus": "format"}, "format"),
    ],
)
def test_failing_script_refuses_the_step_and_keeps_the_case(
    script_engine: Engine, data: dict[str, object], expected: str
) -> None:
    instance_id, task_uuid, error = start_and_enter(script_engine, "test_script_step", data)
    assert isinstance(error, ScriptError)
    assert expected in error.message and "Task_Berechnen" in error.message
    egs = script_engine.actor("egs")
    still_open = [t for t in script_engine.inbox(egs) if t.instance_id == instance_id]
    assert [t.task_uuid for t in still_open] == [task_uuid]
    with script_engine.db.reading() as session:
        row = session.get(ProcessInstance, instance_id)
        assert row is not None and row.lock_version == 1 and row.status == "running"
        query = sa.select(AuditEvent.action).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id)
        actions = list(session.scalars(query))
    assert actions == ["start", "script_error"]
    # The same step with harmless input still works afterwards.
    script_engine.complete_task(egs, task_uuid, {"text": "ab", "anzahl": 3, "modus": "normal"})
    view = script_engine.case_view(egs, instance_id)
    assert view.data["ergebnis"] == "ababab" and view.data["laenge"] == 6


def test_script_error_after_a_timer_stops_only_that_case(script_engine: Engine) -> None:
    egs = script_engine.actor("egs")
    start = clock.parse_iso("2025-05-05T08:00:00+02:00")
    with clock.frozen(start):
        broken = script_engine.start_case(egs, "test_timer_script")
        healthy = script_engine.start_case(egs, "test_timer_script")
    with clock.frozen(start + timedelta(hours=1)):
        task = next(t for t in script_engine.inbox(egs) if t.instance_id == healthy.instance_id)
        script_engine.complete_task(egs, task.task_uuid, {})
    assert script_engine.fire_due_timers(start + timedelta(days=2)) == 0
    with script_engine.db.reading() as session:
        row = session.get(ProcessInstance, broken.instance_id)
        assert row is not None and row.status == "error" and "Zeitlimit" in (row.error_message or "")
        assert session.get(ProcessInstance, healthy.instance_id).status == "completed"  # type: ignore[union-attr]
    # A case in error is not retried in a loop by the worker.
    assert script_engine.fire_due_timers(start + timedelta(days=3)) == 0


def test_a_case_loaded_for_reading_cannot_run_model_code(script_engine: Engine) -> None:
    """Reloading a case in the web process must not fall back to SpiffWorkflow's unrestricted engine:
    model code runs only in the jail."""
    instance_id, _, _ = start_and_enter(
        script_engine, "test_script_step", {"text": "x", "anzahl": 1, "modus": "normal"}
    )
    with script_engine.db.reading() as session:
        row = session.get(ProcessInstance, instance_id)
        assert row is not None
        _, workflow = script_engine.runtime.load(session, row)
    task = workflow.get_tasks()[0]
    with pytest.raises(EngineError, match="nur im Jail"):
        workflow.script_engine.evaluate(task, "1 + 1")
    with pytest.raises(EngineError, match="nur im Jail"):
        workflow.script_engine.execute(task, "x = 1")
