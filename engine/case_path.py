"""Where a case has been: executed and current flow nodes and the sequence flows taken, for the diagram.

The diagram goes to the browser as BPMN XML; ``diagram_xml`` cuts the model down to what bpmn-js draws
(issue 10: the case page carried every script, condition, form property and documentation text of the
model to everyone who may open a case).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from lxml import etree
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .model_loader import ProcessModel
from .safe_xml import BPMN_NS, BPMNDI_NS, NS

# Namespaces whose elements the diagram needs: BPMN semantics (ids, names, lanes, flows) and the diagram
# interchange (shapes, edges, bounds, waypoints, label positions). Everything else – spiffworkflow's
# properties, forms, instructions, pre/post scripts, called DMN decisions, other tools' extensions – goes.
DIAGRAM_NAMESPACES = frozenset(
    {BPMN_NS, BPMNDI_NS, "http://www.omg.org/spec/DD/20100524/DC", "http://www.omg.org/spec/DD/20100524/DI"}
)
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
# BPMN elements that carry only text for people or the engine, never anything drawn.
DROPPED = frozenset({"documentation", "extensionElements", "script", "ioSpecification", "property"})
# Elements drawn only as a marker or icon: they stay, their content (expressions, cardinalities, data) goes.
EMPTIED = frozenset(
    {"conditionExpression", "condition", "timeDate", "timeDuration", "timeCycle", "loopCardinality",
     "completionCondition", "multiInstanceLoopCharacteristics", "standardLoopCharacteristics"}
)  # fmt: skip
# Attributes of BPMN elements that hold code or engine settings rather than what the diagram shows.
DROPPED_ATTRIBUTES = frozenset(
    {"scriptFormat", "language", "expressionLanguage", "typeLanguage", "implementation", "completionQuantity",
     "startQuantity"}
)  # fmt: skip

ACTIVE = TaskState.READY | TaskState.STARTED | TaskState.WAITING


@dataclass(frozen=True)
class CasePath:
    """The diagram of a case's process with its path: ids of BPMN elements."""

    xml: str
    completed: tuple[str, ...]
    active: tuple[str, ...]
    flows: tuple[str, ...]


def all_tasks(workflow: BpmnWorkflow) -> list[Task]:
    """Every task of the case, including those of embedded and called sub-processes."""
    tasks = list(workflow.get_tasks())
    for sub in workflow.subprocesses.values():
        tasks.extend(sub.get_tasks())
    return tasks


def previous_step(task: Task) -> Task | None:
    """The nearest earlier task that is a BPMN element (skipping SpiffWorkflow's internal tasks)."""
    parent = task.parent
    while parent is not None and not parent.task_spec.bpmn_id:
        parent = parent.parent
    return parent


def steps_taken(workflow: BpmnWorkflow) -> set[tuple[str, str]]:
    """(from element, to element) for every executed or current element reached from another."""
    steps: set[tuple[str, str]] = set()
    for task in all_tasks(workflow):
        if not task.task_spec.bpmn_id or not task.has_state(TaskState.COMPLETED | ACTIVE):
            continue
        before = previous_step(task)
        if before is not None:
            steps.add((before.task_spec.bpmn_id, task.task_spec.bpmn_id))
    return steps


def case_path(workflow: BpmnWorkflow, model: ProcessModel) -> CasePath:
    """The path of a case through the diagram of its process's file."""
    tasks = [t for t in all_tasks(workflow) if t.task_spec.bpmn_id]
    completed = sorted({t.task_spec.bpmn_id for t in tasks if t.state == TaskState.COMPLETED})
    active = sorted({t.task_spec.bpmn_id for t in tasks if t.has_state(ACTIVE)})
    flow_ids: dict[tuple[str, str], str] = {}
    tree = model.trees.get(model.filename)
    if tree is not None:
        for flow in tree.getroot().iterfind(".//bpmn:sequenceFlow", NS):
            flow_ids[(flow.get("sourceRef", ""), flow.get("targetRef", ""))] = flow.get("id", "")
    flows = sorted({flow_ids[step] for step in steps_taken(workflow) if step in flow_ids})
    xml = diagram_xml(model.resources.get(model.filename, ""))
    return CasePath(xml, tuple(completed), tuple(active), tuple(flows))


@functools.lru_cache(maxsize=64)
def diagram_xml(xml: str) -> str:
    """The BPMN file reduced to what the diagram draws: elements, names, lanes, flows and their layout.

    Scripts, conditions, timer expressions, documentation, extension elements (forms, properties,
    instructions, DMN references) and comments are removed; markers stay (a conditional flow keeps an empty
    ``conditionExpression``, a timer its empty definition). The input was checked when it was deployed.
    """
    if not xml:
        return ""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True,
                             remove_pis=True, huge_tree=False)  # fmt: skip
    root = etree.fromstring(xml.encode("utf-8"), parser)
    for element in list(root.iter()):
        if not isinstance(element.tag, str):
            continue
        qname = etree.QName(element)
        parent = element.getparent()
        if qname.namespace not in DIAGRAM_NAMESPACES or (qname.namespace == BPMN_NS and qname.localname in DROPPED):
            if parent is not None:
                parent.remove(element)
            continue
        if qname.namespace == BPMN_NS and qname.localname in EMPTIED:
            for child in list(element):
                element.remove(child)
            element.text = None
        for name in list(element.attrib):
            attribute = etree.QName(name)
            foreign = attribute.namespace is not None and name != XSI_TYPE
            if foreign or attribute.localname in DROPPED_ATTRIBUTES and attribute.namespace is None:
                del element.attrib[name]
    etree.cleanup_namespaces(root)
    return str(etree.tostring(root, encoding="unicode"))
