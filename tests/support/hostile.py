"""Models whose code a process owner could have written in the browser: built from a script or condition.

``script_process`` puts a script after a user task ("Warten"), so the clerk's "Abschließen" runs it;
``condition_process`` puts an expression on the gateway after that task; ``timer_script_process`` runs
the script when a boundary timer of one day fires.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from engine.api import Engine
from engine.auth import system_actor
from engine.model_loader import ModelFile
from tests.support.engines import DATA

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="Definitions_{pid}" targetNamespace="http://egs.example/test">
  <bpmn:process id="{pid}" name="Test: {pid}" isExecutable="true">
    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="egsBereich" value="allgemeine_verwaltung" />
    </spiffworkflow:properties></bpmn:extensionElements>
    <bpmn:laneSet id="LaneSet_1"><bpmn:lane id="Lane_EGS" name="EGS">{refs}</bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="Event_Start"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
"""
ROLE = '<spiffworkflow:property name="egsRole" value="Durchführender" />'
USER_TASK = f"""
    <bpmn:userTask id="Task_Warten" name="Warten">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="test_leer.json" />{ROLE}
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
    </bpmn:userTask>
"""
TAIL = "  </bpmn:process>\n</bpmn:definitions>\n"


def _script_task(element_id: str, script: str, incoming: str, outgoing: str) -> str:
    return f"""
    <bpmn:scriptTask id="{element_id}" name="Rechnen">
      <bpmn:extensionElements><spiffworkflow:properties>{ROLE}</spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>{incoming}</bpmn:incoming><bpmn:outgoing>{outgoing}</bpmn:outgoing>
      <bpmn:script>{escape(script)}</bpmn:script>
    </bpmn:scriptTask>
"""


def _refs(*ids: str) -> str:
    return "".join(f"<bpmn:flowNodeRef>{element_id}</bpmn:flowNodeRef>" for element_id in ids)


def _flow(flow_id: str, source: str, target: str, condition: str | None = None) -> str:
    if condition is None:
        return f'    <bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}" />\n'
    return (
        f'    <bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">'
        f"<bpmn:conditionExpression>{escape(condition)}</bpmn:conditionExpression></bpmn:sequenceFlow>\n"
    )


def script_process(pid: str, script: str) -> str:
    """Start → "Warten" → script task ``Task_Rechnen`` → end."""
    return (
        HEAD.format(pid=pid, refs=_refs("Event_Start", "Task_Warten", "Task_Rechnen", "Event_Ende"))
        + USER_TASK
        + _script_task("Task_Rechnen", script, "F2", "F3")
        + '    <bpmn:endEvent id="Event_Ende"><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>\n'
        + _flow("F1", "Event_Start", "Task_Warten")
        + _flow("F2", "Task_Warten", "Task_Rechnen")
        + _flow("F3", "Task_Rechnen", "Event_Ende")
        + TAIL
    )


def service_process(pid: str, operation: str) -> str:
    """Start → "Warten" → service task ``Task_Dienst`` calling ``operation`` (no parameters) → end."""
    service = f"""
    <bpmn:serviceTask id="Task_Dienst" name="Dienst">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="{operation}" resultVariable="dienst">
          <spiffworkflow:parameters></spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
        <spiffworkflow:properties>{ROLE}</spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing>
    </bpmn:serviceTask>
"""
    return (
        HEAD.format(pid=pid, refs=_refs("Event_Start", "Task_Warten", "Task_Dienst", "Event_Ende"))
        + USER_TASK
        + service
        + '    <bpmn:endEvent id="Event_Ende"><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>\n'
        + _flow("F1", "Event_Start", "Task_Warten")
        + _flow("F2", "Task_Warten", "Task_Dienst")
        + _flow("F3", "Task_Dienst", "Event_Ende")
        + TAIL
    )


def condition_process(pid: str, condition: str) -> str:
    """Start → "Warten" → gateway with ``condition`` on one flow (default on the other) → ends."""
    ids = ("Event_Start", "Task_Warten", "Gateway_Pruefen", "Event_Ja", "Event_Nein")
    return (
        HEAD.format(pid=pid, refs=_refs(*ids))
        + USER_TASK
        + '    <bpmn:exclusiveGateway id="Gateway_Pruefen" name="Prüfen?" default="F_Nein">'
        + "<bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F_Ja</bpmn:outgoing>"
        + "<bpmn:outgoing>F_Nein</bpmn:outgoing></bpmn:exclusiveGateway>\n"
        + '    <bpmn:endEvent id="Event_Ja"><bpmn:incoming>F_Ja</bpmn:incoming></bpmn:endEvent>\n'
        + '    <bpmn:endEvent id="Event_Nein"><bpmn:incoming>F_Nein</bpmn:incoming></bpmn:endEvent>\n'
        + _flow("F1", "Event_Start", "Task_Warten")
        + _flow("F2", "Task_Warten", "Gateway_Pruefen")
        + _flow("F_Ja", "Gateway_Pruefen", "Event_Ja", condition)
        + _flow("F_Nein", "Gateway_Pruefen", "Event_Nein")
        + TAIL
    )


def timer_script_process(pid: str, script: str) -> str:
    """Start → "Warten" (boundary timer P1D → script task ``Task_Rechnen`` → end) → end."""
    ids = ("Event_Start", "Task_Warten", "Timer", "Task_Rechnen", "Event_Timer_Ende", "Event_Ende")
    return (
        HEAD.format(pid=pid, refs=_refs(*ids))
        + USER_TASK
        + '    <bpmn:boundaryEvent id="Timer" name="Einen Tag später" attachedToRef="Task_Warten">'
        + '<bpmn:outgoing>F3</bpmn:outgoing><bpmn:timerEventDefinition id="TimerDef">'
        + '<bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>\n'
        + _script_task("Task_Rechnen", script, "F3", "F4")
        + '    <bpmn:endEvent id="Event_Timer_Ende"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>\n'
        + '    <bpmn:endEvent id="Event_Ende"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>\n'
        + _flow("F1", "Event_Start", "Task_Warten")
        + _flow("F2", "Task_Warten", "Event_Ende")
        + _flow("F3", "Timer", "Task_Rechnen")
        + _flow("F4", "Task_Rechnen", "Event_Timer_Ende")
        + TAIL
    )


def loop_process(pid: str, rounds: int) -> str:
    """Start → ``runde = 0`` → script counts up → gateway back until ``rounds`` → end (one step, no people)."""
    ids = ("Event_Start", "Task_Anfang", "Task_Zaehlen", "Gateway_Weiter", "Event_Ende")
    counting = _script_task("Task_Zaehlen", "runde = runde + 1", "F2", "F3")
    counting = counting.replace("<bpmn:incoming>F2</bpmn:incoming>", "<bpmn:incoming>F2</bpmn:incoming>"
                                "<bpmn:incoming>F_Zurueck</bpmn:incoming>")  # fmt: skip
    return (
        HEAD.format(pid=pid, refs=_refs(*ids))
        + _script_task("Task_Anfang", "runde = 0", "F1", "F2")
        + counting
        + '    <bpmn:exclusiveGateway id="Gateway_Weiter" name="Weiter?" default="F_Ende">'
        + "<bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F_Zurueck</bpmn:outgoing>"
        + "<bpmn:outgoing>F_Ende</bpmn:outgoing></bpmn:exclusiveGateway>\n"
        + '    <bpmn:endEvent id="Event_Ende"><bpmn:incoming>F_Ende</bpmn:incoming></bpmn:endEvent>\n'
        + _flow("F1", "Event_Start", "Task_Anfang")
        + _flow("F2", "Task_Anfang", "Task_Zaehlen")
        + _flow("F3", "Task_Zaehlen", "Gateway_Weiter")
        + _flow("F_Zurueck", "Gateway_Weiter", "Task_Zaehlen", f"runde < {rounds}")
        + _flow("F_Ende", "Gateway_Weiter", "Event_Ende")
        + TAIL
    )


def chain_process(pid: str, length: int) -> str:
    """Start → ``length`` script tasks one after the other → end."""
    tasks = [f"Task_{i}" for i in range(length)]
    body = HEAD.format(pid=pid, refs=_refs("Event_Start", *tasks, "Event_Ende"))
    for i in range(length):
        body += _script_task(tasks[i], f"x = {i}", f"F{i + 1}", f"F{i + 2}")
    body += f'    <bpmn:endEvent id="Event_Ende"><bpmn:incoming>F{length + 1}</bpmn:incoming></bpmn:endEvent>\n'
    targets = [*tasks, "Event_Ende"]
    sources = ["Event_Start", *tasks]
    body += "".join(_flow(f"F{i + 1}", sources[i], targets[i]) for i in range(length + 1))
    return body + TAIL


def deploy(engine: Engine, pid: str, text: str) -> None:
    engine.deploy_files([ModelFile(f"{pid}.bpmn", text.encode("utf-8"))], system_actor("test"), DATA / "forms")
