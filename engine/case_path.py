"""Where a case has been: executed and current flow nodes and the sequence flows taken, for the diagram."""

from __future__ import annotations

from dataclasses import dataclass

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .model_loader import ProcessModel
from .safe_xml import NS

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
    return CasePath(model.resources.get(model.filename, ""), tuple(completed), tuple(active), tuple(flows))
