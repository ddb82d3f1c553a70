"""Small models for moving cases between versions: a chain of user tasks, optionally with a deadline on one
task, a called process or a multi-instance task. Every version of a test process is built by the same
function with other tasks, so two versions differ only where a test says so."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from SpiffWorkflow.util.task import TaskState

from engine.api import Engine
from engine.auth import Actor, system_actor
from engine.model_loader import ModelFile
from engine.models import HumanTask, ProcessInstance
from tests.support.engines import DATA

ROLE = '<spiffworkflow:property name="egsRole" value="Durchführender" />'
FORM = '<spiffworkflow:property name="formJsonSchemaFilename" value="test_leer.json" />'
SITE = "56.4"


def _user_task(task_id: str, name: str, incoming: str, outgoing: str, multi: str = "") -> str:
    return (
        f'    <bpmn:userTask id="{task_id}" name="{name}"><bpmn:extensionElements><spiffworkflow:properties>'
        f"{FORM}{ROLE}</spiffworkflow:properties></bpmn:extensionElements>"
        f"<bpmn:incoming>{incoming}</bpmn:incoming><bpmn:outgoing>{outgoing}</bpmn:outgoing>{multi}</bpmn:userTask>\n"
    )


def _process(pid: str, tasks: Sequence[tuple[str, str]], *, timer_on: str | None, call: str | None,
             multi_on: str | None) -> str:  # fmt: skip
    nodes = ["Event_Start", *(task_id for task_id, _ in tasks), "Event_Ende"]
    extra: list[str] = []
    body = '    <bpmn:startEvent id="Event_Start"><bpmn:outgoing>F0</bpmn:outgoing></bpmn:startEvent>\n'
    for i, (task_id, name) in enumerate(tasks):
        if task_id == call:
            body += (
                f'    <bpmn:callActivity id="{task_id}" name="{name}" calledElement="{pid}_teil">'
                f"<bpmn:extensionElements><spiffworkflow:properties>{ROLE}</spiffworkflow:properties>"
                f"</bpmn:extensionElements><bpmn:incoming>F{i}</bpmn:incoming>"
                f"<bpmn:outgoing>F{i + 1}</bpmn:outgoing></bpmn:callActivity>\n"
            )
            continue
        multi = ""
        if task_id == multi_on:
            multi = (
                "<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>2</bpmn:loopCardinality>"
                "</bpmn:multiInstanceLoopCharacteristics>"
            )
        body += _user_task(task_id, name, f"F{i}", f"F{i + 1}", multi)
        if task_id == timer_on:
            extra += ["Timer", "Event_Timer_Ende"]
            body += (
                f'    <bpmn:boundaryEvent id="Timer" name="Frist" attachedToRef="{task_id}">'
                '<bpmn:outgoing>F_Timer</bpmn:outgoing><bpmn:timerEventDefinition id="TimerDef">'
                '<bpmn:timeDuration>"P14D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>\n'
                '    <bpmn:endEvent id="Event_Timer_Ende"><bpmn:incoming>F_Timer</bpmn:incoming></bpmn:endEvent>\n'
                '    <bpmn:sequenceFlow id="F_Timer" sourceRef="Timer" targetRef="Event_Timer_Ende" />\n'
            )
    body += f'    <bpmn:endEvent id="Event_Ende"><bpmn:incoming>F{len(tasks)}</bpmn:incoming></bpmn:endEvent>\n'
    for i in range(len(tasks) + 1):
        body += f'    <bpmn:sequenceFlow id="F{i}" sourceRef="{nodes[i]}" targetRef="{nodes[i + 1]}" />\n'
    refs = "".join(f"<bpmn:flowNodeRef>{node}</bpmn:flowNodeRef>" for node in [*nodes, *extra])
    return (
        f'  <bpmn:process id="{pid}" name="Test: {pid}" isExecutable="true">\n'
        '    <bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="egsBereich" '
        'value="allgemeine_verwaltung" /></spiffworkflow:properties></bpmn:extensionElements>\n'
        f'    <bpmn:laneSet id="LaneSet_{pid}">'
        f'<bpmn:lane id="Lane_{pid}" name="EGS">{refs}</bpmn:lane></bpmn:laneSet>\n'
        f"{body}  </bpmn:process>\n"
    )


def model(
    pid: str,
    tasks: Sequence[tuple[str, str]],
    *,
    timer_on: str | None = None,
    called: Sequence[tuple[str, str]] = (),
    call: str | None = None,
    multi_on: str | None = None,
) -> str:
    """Start → the user ``tasks`` in a row → end; ``call``: that task is a call activity of ``{pid}_teil``
    (the user tasks ``called``), ``timer_on``: a 14-day boundary timer, ``multi_on``: two instances."""
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"\n'
        '    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"\n'
        f'    id="Definitions_{pid}" targetNamespace="http://egs.example/test">\n'
    )
    text += _process(pid, tasks, timer_on=timer_on, call=call, multi_on=multi_on)
    if called:
        part = _process(f"{pid}_teil", called, timer_on=None, call=None, multi_on=None)
        for old, new in (("Event_", "Teil_Event_"), ('"F', '"TF'), (">F", ">TF")):
            part = part.replace(old, new)
        text += part
    return text + "</bpmn:definitions>\n"


def deploy(engine: Engine, pid: str, text: str) -> None:
    engine.deploy_files([ModelFile(f"{pid}.bpmn", text.encode("utf-8"))], system_actor("test"), DATA / "forms")


def start(engine: Engine, clerk: Actor, pid: str) -> int:
    return engine.start_case(clerk, pid, site=SITE).instance_id


def open_task(engine: Engine, instance_id: int) -> HumanTask:
    """The inbox row of the case's only open task."""
    with engine.db.reading() as session:
        (task,) = session.scalars(sa.select(HumanTask).where(HumanTask.instance_id == instance_id)).all()
        return task


def complete(engine: Engine, clerk: Actor, instance_id: int) -> None:
    engine.complete_task(clerk, open_task(engine, instance_id).task_uuid, {})


def case_data(engine: Engine, instance_id: int) -> dict[str, Any]:
    """The data the case's open task sees (loaded for reading, as the case page does)."""
    with engine.db.reading() as session:
        row = session.get(ProcessInstance, instance_id)
        assert row is not None
        _, workflow = engine.runtime.load(session, row)
        (task,) = workflow.get_tasks(state=TaskState.READY, manual=True)
        return dict(task.data)
