"""Moving one case to another version of its process, inside SpiffWorkflow (runs in the jail).

``SpiffWorkflow.bpmn.util.diff`` pairs old and new task specs first by id and then *by position*; a
positional pairing can match unrelated tasks. Here a task moves only to the spec with the same id or to the
one a process owner confirmed (``mapping``: old id → new id); SpiffWorkflow's positional guess is only
offered as a suggestion. What cannot be paired refuses the case with a German reason:

- an open user task whose id is gone needs a confirmed mapping to a user task of the new version;
- a finished task or a waiting event whose id is gone, a called process that is gone, or a running
  multi-instance activity: the case cannot move;
- a task's boundary events (deadlines) are gone in the new version: the case cannot move;
- tasks not begun yet below an open one are predictions: they are rebuilt from the new version (below a
  finished one, e.g. a parallel branch, they cannot be: the case cannot move).

Open user tasks are reset onto their new spec (uuid and data stay, the path after them is predicted anew);
waiting tasks (boundary timers, message events) keep their state, so a deadline keeps its due date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.util.diff import SpecDiff, migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from .errors import EngineError

CAN_MOVE = "ok"
NEEDS_MAPPING = "mapping"
CANNOT_MOVE = "refused"
OPEN = TaskState.READY | TaskState.STARTED | TaskState.WAITING
NOT_BEGUN = TaskState.FUTURE | TaskState.PREDICTED_MASK
# Control specs SpiffWorkflow derives from a task's id (boundary events): they follow their task.
DERIVED_SUFFIXES = (".BoundaryEventSplit", ".BoundaryEventJoin")


@dataclass
class MigrationCheck:
    """What the dry run found for one case."""

    status: str = CAN_MOVE
    reasons: list[str] = field(default_factory=list)
    needs: list[dict[str, Any]] = field(default_factory=list)  # {"task", "name", "suggestion"}
    open_tasks: list[str] = field(default_factory=list)  # names of the open user tasks

    def to_wire(self) -> dict[str, Any]:
        return {"status": self.status, "reasons": self.reasons, "needs": self.needs, "open_tasks": self.open_tasks}


def _label(spec: Any) -> str:
    name = getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or spec.name
    return str(name)


def _base(name: str) -> tuple[str, str]:
    for suffix in DERIVED_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)], suffix
    return name, ""


class _Plan:
    """The pairing of the tasks of one (sub)workflow with the specs of its new version."""

    def __init__(self, workflow: Any, old_spec: Any, new_spec: Any, mapping: dict[str, str], registry: Any) -> None:
        self.workflow = workflow
        self.new_spec = new_spec
        self.alignment: dict[Any, Any] = {}
        self.dropped: list[Any] = []
        self._mapping = mapping
        self._old_spec = old_spec
        self._registry = registry
        self._suggestions: dict[str, Any] | None = None

    def target(self, name: str) -> Any:
        """The new spec for an old spec name: same id, or the confirmed mapping (derived specs follow)."""
        found = self.new_spec.task_specs.get(name)
        if found is not None:
            return found
        base, suffix = _base(name)
        mapped = self._mapping.get(base)
        return self.new_spec.task_specs.get(mapped + suffix) if mapped else None

    def suggestion(self, spec: Any) -> str | None:
        """SpiffWorkflow's positional guess for a spec whose id is gone (only ever offered, never used)."""
        if self._suggestions is None:
            try:
                diff = SpecDiff(self._registry, self._old_spec, self.new_spec)
                self._suggestions = {old.name: new for old, new in diff.alignment.items() if new is not None}
            except Exception:  # a guess that fails is no guess
                self._suggestions = {}
        guess = self._suggestions.get(spec.name)
        return str(guess.name) if guess is not None and getattr(guess, "manual", False) else None


def check(
    workflow: BpmnWorkflow,
    new_spec: Any,
    new_subprocess_specs: dict[str, Any],
    mapping: dict[str, str],
    registry: Any,
    version_label: str,
) -> tuple[MigrationCheck, list[_Plan]]:
    """Pair every task of the case with the new version; what needs a mapping or cannot move."""
    result = MigrationCheck()
    plans: list[_Plan] = []
    workflows: list[tuple[Any, Any]] = [(workflow, new_spec)]
    for sub in workflow.subprocesses.values():
        target = new_subprocess_specs.get(sub.spec.name)
        if target is None:
            result.reasons.append(f"Der Teilprozess „{_label(sub.spec)}“ fehlt in {version_label}.")
            continue
        workflows.append((sub, target))
    for current, target in workflows:
        plan = _Plan(current, current.spec, target, mapping, registry)
        plans.append(plan)
        for task in current.get_tasks(skip_subprocesses=True):
            spec = task.task_spec
            if task.has_state(OPEN) and isinstance(spec, LoopTask):
                child = current.spec.task_specs.get(spec.task_spec, spec)
                result.reasons.append(
                    f"Die Mehrfachaufgabe „{_label(child)}“ läuft gerade; solche Vorgänge ziehen nicht um."
                )
            if task.has_state(TaskState.READY) and spec.manual:
                result.open_tasks.append(_label(spec))
            new = plan.target(spec.name)
            if spec.name not in target.task_specs and task.has_state(TaskState.READY) and spec.manual:
                need = {"task": spec.name, "name": _label(spec), "suggestion": plan.suggestion(spec)}
                if need not in result.needs:
                    result.needs.append(need)  # listed also when mapped: the owner sees what was confirmed
            if new is None and spec.name in mapping and task.has_state(TaskState.READY) and spec.manual:
                result.reasons.append(f"Die gewählte Aufgabe „{mapping[spec.name]}“ gibt es in {version_label} nicht.")
            if new is not None:
                if task.has_state(TaskState.READY) and spec.manual and not new.manual:
                    result.reasons.append(f"„{_label(new)}“ ist in {version_label} keine Aufgabe für Menschen.")
                plan.alignment[task] = new
            elif task.has_state(NOT_BEGUN) and task.parent is not None and task.parent.has_state(OPEN | NOT_BEGUN):
                plan.dropped.append(task)  # rebuilt from the new version when its parent runs
            elif task.has_state(NOT_BEGUN):
                result.reasons.append(f"Der bevorstehende Schritt „{_label(spec)}“ fehlt in {version_label}.")
            elif task.has_state(TaskState.READY) and spec.manual:
                continue  # needs a mapping (above)
            elif _base(spec.name)[1]:
                base = current.spec.task_specs.get(_base(spec.name)[0])
                if base is None or (base.name not in mapping and base.name not in target.task_specs):
                    continue  # follows its task: mapped or refused with it
                result.reasons.append(f"Das Randereignis (Frist) an „{_label(base)}“ fehlt in {version_label}.")
            elif task.has_state(OPEN):
                result.reasons.append(f"Der wartende Schritt „{_label(spec)}“ fehlt in {version_label}.")
            elif task.has_state(TaskState.CANCELLED):
                plan.dropped.append(task)  # history of a path not taken (e.g. a deadline that did not fire)
            elif task.has_state(TaskState.COMPLETED):
                result.reasons.append(f"Der erledigte Schritt „{_label(spec)}“ fehlt in {version_label}.")
            else:
                result.reasons.append(f"Der Schritt „{_label(spec)}“ fehlt in {version_label}.")
    unknown = sorted(set(mapping) - {need["task"] for need in result.needs})
    if unknown:
        result.reasons.append(f"Zuordnung für Schritte, die nicht offen sind: {', '.join(unknown)}.")
    result.reasons = list(dict.fromkeys(result.reasons))
    if result.reasons:
        result.status = CANNOT_MOVE
    elif any(need["task"] not in mapping for need in result.needs):
        result.status = NEEDS_MAPPING
    return result, plans


class _Alignment:
    """The ``diff`` ``migrate_workflow`` reads: only confirmed pairs, never SpiffWorkflow's guess."""

    def __init__(self, alignment: dict[Any, Any]) -> None:
        self.alignment = alignment


def apply(workflow: BpmnWorkflow, plans: list[_Plan], new_subprocess_specs: dict[str, Any], version_label: str) -> None:
    """Move the case onto the new specs (after ``check`` said it can move).

    Only open user tasks (READY) are reset; waiting timers keep their due dates. :raises EngineError:
    """
    for plan in plans:
        for task in plan.dropped:
            if task.id in plan.workflow.tasks and task.parent is not None:
                plan.workflow._remove_task(task.id)
        migrate_workflow(_Alignment(plan.alignment), plan.workflow, plan.new_spec, reset_mask=TaskState.READY)
    workflow.subprocess_specs = dict(new_subprocess_specs)
    for plan in plans:
        for task in plan.workflow.get_tasks(skip_subprocesses=True):
            if plan.new_spec.task_specs.get(task.task_spec.name) is not task.task_spec:
                raise EngineError(f"Der Schritt „{_label(task.task_spec)}“ fehlt in {version_label}.")
