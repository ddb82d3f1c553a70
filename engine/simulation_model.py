"""The routing graph a simulation walks, read from the parsed BPMN of a deployed version (no hand-written copy).

Every flow node of the process becomes a ``Node``: user tasks with their lane (the group that works them),
gateways with their outgoing flows, boundary events on their task, embedded sub-processes with their own
start event, timers with their delay where the model states it plainly. Model code (scripts, conditions,
timer expressions) never runs here: a condition is replaced by how often its flow was taken in the case
history (``simulation_history``), a timer expression by its value only when it is a literal duration or a
``"P" + str(konfig("…")) + "D"`` concatenation of literals and configuration values (read with ``ast``,
never evaluated); other waits take no time and are listed in ``notes``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from .model_loader import ProcessModel
from .safe_xml import NS

USER_TAGS = frozenset({"userTask", "manualTask"})
GATEWAY_TAGS = frozenset({"exclusiveGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"})
FLOW_NODE_TAGS = frozenset(
    {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "task",
     "userTask", "manualTask", "scriptTask", "serviceTask", "businessRuleTask", "sendTask", "receiveTask",
     "callActivity", "subProcess", "exclusiveGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway",
     "parallelGateway"}
)  # fmt: skip
_DURATION = re.compile(r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?)?$")


@dataclass(frozen=True)
class Flow:
    """A sequence flow: its id and where it leads."""

    id: str
    target: str


@dataclass
class Node:
    """One flow node as the simulation sees it.

    ``kind``: ``start``, ``end``, ``user`` (work for a lane), ``auto`` (no one's time: script, service and
    rule tasks, throw events, call activities), ``wait`` (timer or message: ``delay_minutes`` of waiting),
    ``choice`` (exclusive, inclusive, event-based gateway: one outgoing flow), ``fork`` (parallel gateway)
    or ``sub`` (embedded sub-process: enters ``inner_start``).
    """

    id: str
    name: str
    kind: str
    lane: str | None = None
    outgoing: list[Flow] = field(default_factory=list)
    default_flow: str | None = None
    incoming: int = 0
    boundaries: list[str] = field(default_factory=list)
    delay_minutes: float = 0.0
    inner_start: str | None = None
    parent: str | None = None  # the embedded sub-process this node lies in


@dataclass
class Routing:
    """The walkable graph of one deployed process version."""

    process_id: str
    name: str
    version: int
    nodes: dict[str, Node]
    start: str
    notes: list[str] = field(default_factory=list)

    def user_tasks(self) -> list[Node]:
        return [node for node in self.nodes.values() if node.kind == "user"]

    def choices(self) -> list[Node]:
        """Nodes where a case takes one of several ways: splitting gateways and tasks with boundary events."""
        return [n for n in self.nodes.values() if (n.kind == "choice" and len(n.outgoing) > 1) or n.boundaries]


def routing_of(model: ProcessModel, version: int, konfig: Callable[[str], Any]) -> Routing:
    """Walk the deployed model's BPMN (lanes from ``model.tasks``) into a ``Routing``.

    ``konfig``: the configuration lookup used for timer durations that name a configuration value.
    """
    tree = model.trees[model.filename]
    process = tree.getroot().find(f"bpmn:process[@id='{model.process_id}']", NS)
    if process is None:  # a deployed version always has it; a broken store should not crash the page
        raise KeyError(model.process_id)
    lanes = {bpmn_id: info.lane for bpmn_id, info in model.tasks.items()}
    lanes.update(_lanes(process))
    routing = Routing(model.process_id, model.name, version, {}, "")
    _read_scope(process, routing, lanes, konfig, parent=None)
    starts = [s for s in process.iterfind("bpmn:startEvent", NS) if not _event_definition(s)]
    start = starts[0] if starts else process.find("bpmn:startEvent", NS)
    routing.start = start.get("id", "") if start is not None else ""
    return routing


def _read_scope(
    scope: etree._Element, routing: Routing, lanes: Mapping[str, str | None], konfig: Callable[[str], Any],
    parent: str | None,
) -> None:  # fmt: skip
    for element in scope:
        if not isinstance(element.tag, str):
            continue
        tag = etree.QName(element).localname
        if tag not in FLOW_NODE_TAGS:
            continue
        node_id = element.get("id", "")
        name = " ".join((element.get("name") or node_id).split())
        node = Node(node_id, name, _kind(tag, element), lanes.get(node_id), parent=parent,
                    default_flow=element.get("default"))  # fmt: skip
        if node.kind == "wait":
            node.delay_minutes = _timer_minutes(element, routing, konfig)
        if tag == "subProcess":
            inner = [s for s in element.iterfind("bpmn:startEvent", NS)]
            node.inner_start = inner[0].get("id") if inner else None
            if element.find("bpmn:multiInstanceLoopCharacteristics", NS) is not None:
                routing.notes.append(f"„{name}“ läuft mehrfach (je Element einer Liste); simuliert: einmal je Fall.")
            _read_scope(element, routing, lanes, konfig, parent=node_id)
        if tag == "parallelGateway" and len(element.findall("bpmn:outgoing", NS)) > 1:
            routing.notes.append(f"Parallele Verzweigung „{name}“: simuliert wird der erste Zweig.")
        if tag == "callActivity":
            routing.notes.append(f"„{name}“ ruft einen anderen Prozess auf; dessen Aufgaben sind hier nicht simuliert.")
        routing.nodes[node_id] = node
    for flow in scope.iterfind("bpmn:sequenceFlow", NS):
        source, target = routing.nodes.get(flow.get("sourceRef", "")), flow.get("targetRef", "")
        if source is not None:
            source.outgoing.append(Flow(flow.get("id", ""), target))
        if target in routing.nodes:
            routing.nodes[target].incoming += 1
    for boundary in scope.iterfind("bpmn:boundaryEvent", NS):
        host = routing.nodes.get(boundary.get("attachedToRef", ""))
        if host is not None and boundary.get("cancelActivity", "true") != "false":
            host.boundaries.append(boundary.get("id", ""))


def _kind(tag: str, element: etree._Element) -> str:
    if tag in USER_TAGS:
        return "user"
    if tag == "startEvent":
        return "start"
    if tag == "endEvent":
        return "end"
    if tag in GATEWAY_TAGS:
        return "choice"
    if tag == "parallelGateway":
        return "fork"
    if tag == "subProcess":
        return "sub"
    if tag in ("intermediateCatchEvent", "receiveTask") or (tag == "boundaryEvent" and _event_definition(element)):
        return "wait"
    return "auto"


def _event_definition(element: etree._Element) -> str | None:
    for child in element:
        if isinstance(child.tag, str) and child.tag.endswith("EventDefinition"):
            return str(etree.QName(child).localname)
    return None


def _timer_minutes(element: etree._Element, routing: Routing, konfig: Callable[[str], Any]) -> float:
    """The waiting time of a timer in minutes where the model states it plainly; 0 otherwise (with a note)."""
    if _event_definition(element) != "timerEventDefinition":
        return 0.0
    expression = "".join(str(text) for text in element.xpath(".//*[local-name()='timeDuration']/text()"))
    minutes = duration_minutes(expression, konfig) if expression else None
    if minutes is None:
        name = " ".join((element.get("name") or element.get("id", "")).split())
        routing.notes.append(f"Frist „{name}“ hängt von Falldaten ab; simuliert ohne Wartezeit.")
        return 0.0
    return minutes


def duration_minutes(expression: str, konfig: Callable[[str], Any]) -> float | None:
    """Minutes of an ISO duration written as a string literal or as a ``+`` chain of literals and
    ``str(konfig("…"))``; None for anything else (read with ``ast``, never evaluated)."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        return None
    text = _literal_text(tree.body, konfig)
    match = _DURATION.match(text or "")
    if not text or match is None:
        return None
    return int(match["d"] or 0) * 1440.0 + int(match["h"] or 0) * 60.0 + int(match["m"] or 0)


def _literal_text(node: ast.expr, konfig: Callable[[str], Any]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal_text(node.left, konfig), _literal_text(node.right, konfig)
        return left + right if left is not None and right is not None else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and len(node.args) == 1 and not node.keywords:
        inner = node.args[0]
        if node.func.id == "str":
            if isinstance(inner, ast.Call):
                value = _konfig_value(inner, konfig)
                return None if value is None else str(value)
            return _literal_text(inner, konfig)
    return None


def _konfig_value(node: ast.Call, konfig: Callable[[str], Any]) -> Any:
    if not (isinstance(node.func, ast.Name) and node.func.id == "konfig" and len(node.args) == 1):
        return None
    key = node.args[0]
    if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
        return None
    try:
        value = konfig(key.value)
    except (KeyError, LookupError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _lanes(process: etree._Element) -> dict[str, str | None]:
    lanes: dict[str, str | None] = {}
    for lane in process.iterfind(".//bpmn:lane", NS):
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            lanes[(ref.text or "").strip()] = lane.get("name", "").strip() or None
    return lanes
