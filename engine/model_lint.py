"""Deploy-time rules a model must meet beyond being valid BPMN (see docs/modelling.md)."""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Mapping
from typing import Any

from . import task_labels
from .errors import ModelError, ScriptError
from .form_rules import rule_names
from .model_loader import ProcessModel
from .model_snippets import snippets, variables_set_by_models
from .safe_xml import NS
from .scripting import HELPERS, SAFE_BUILTINS, compile_snippet
from .vocabulary import EGS_ROLES, SITES, WORK_AREAS, WORK_GROUPS

# Data every case has from its start (set by the engine, see engine/casework.py).
INITIAL_DATA = ("vorgangsnummer", "standort", "gestartet_am", "bezugsvorgang")


class ModelLintError(ModelError):
    """One or more modelling rules are broken; ``problems`` lists each with file, line and element."""

    def __init__(self, problems: list[ModelError]) -> None:
        first = problems[0]
        more = f" (und {len(problems) - 1} weitere Probleme)" if len(problems) > 1 else ""
        super().__init__(first.detail + more, filename=first.filename, line=first.line, element_id=first.element_id)
        self.problems = problems


def lint_process(model: ProcessModel, forms: Mapping[str, Any]) -> list[ModelError]:
    """Return every rule the process breaks (empty list = fine)."""
    return lint_tasks(model, forms) + lint_files(model, forms)


def lint_tasks(model: ProcessModel, forms: Mapping[str, Any]) -> list[ModelError]:
    """The rules on the process's own tasks and properties: lane, role, form, start lane, sites, labels."""
    problems: list[ModelError] = []
    data_names: set[str] | None = None
    for task in model.tasks.values():

        def problem(message: str, task: Any = task) -> None:
            problems.append(ModelError(message, filename=task.filename, line=task.line, element_id=task.bpmn_id))

        if not task.lane:
            problem("Die Aufgabe liegt in keiner Lane (Lane = zuständige Gruppe).")
        elif task.lane not in WORK_GROUPS:
            problem(f"Lane '{task.lane}' ist keine bekannte Gruppe ({', '.join(WORK_GROUPS)}).")
        if task.egs_role not in EGS_ROLES:
            problem(f"Eigenschaft 'egsRole' fehlt oder ist ungültig; erlaubt: {', '.join(EGS_ROLES)}.")
        if task.is_user_task:
            if not task.form_key:
                problem("Die Benutzeraufgabe hat kein Formular (Eigenschaft 'formJsonSchemaFilename').")
            elif task.form_key not in forms:
                problem(f"Das Formular '{task.form_key}' fehlt.")
            elif names := rule_names(forms[task.form_key]):
                data_names = _data_names(model, forms) if data_names is None else data_names
                for name in sorted(names - data_names):
                    problem(
                        f"Eine Regel (x-regeln) des Formulars '{task.form_key}' nennt '{name}', "
                        "das weder ein Formularfeld, eine Skriptvariable noch ein Startwert ist."
                    )
    if not model.start_lane:
        problems.append(
            ModelError("Das Startereignis liegt in keiner Lane.", filename=model.filename, element_id=model.process_id)
        )
    return problems + _lint_properties(model)


def lint_files(model: ProcessModel, forms: Mapping[str, Any]) -> list[ModelError]:
    """The rules on everything in the process's files: default flows of gateways, scripts, service tasks. (Several
    processes of one file share these: ``model_analysis`` runs them once per file.)"""
    problems: list[ModelError] = []
    for filename, tree in model.trees.items():
        root = tree.getroot()
        outgoing = Counter(flow.get("sourceRef") for flow in root.iterfind(".//bpmn:sequenceFlow", NS))
        for tag in ("exclusiveGateway", "inclusiveGateway"):
            for gateway in root.iterfind(f".//bpmn:{tag}", NS):
                gateway_id = gateway.get("id", "")
                if outgoing[gateway_id] > 1 and not gateway.get("default"):
                    problems.append(
                        ModelError(
                            "Das Gateway hat keinen Standardfluss (default).",
                            filename=filename,
                            line=gateway.sourceline,
                            element_id=gateway_id,
                        )
                    )
    return problems + _lint_snippets(model, forms) + _lint_services(model)


def _lint_snippets(model: ProcessModel, forms: Mapping[str, Any]) -> list[ModelError]:
    """Every script and expression compiles in the sandbox and uses only names that can exist."""
    problems: list[ModelError] = []
    found = [(filename, s) for filename, tree in model.trees.items() for s in snippets([tree])]
    known = set(SAFE_BUILTINS) | set(HELPERS) | {"konfig"} | _data_names(model, forms)
    for filename, (source, mode, element_id, line) in found:
        try:
            compile_snippet(source, "exec" if mode == "exec" else "eval")
        except ScriptError as exc:
            at = (line or 0) + (exc.line or 1) - 1 if line else None
            problems.append(ModelError(exc.detail, filename=filename, line=at, element_id=element_id))
            continue
        for name in sorted(_loaded_names(source, mode) - known):
            problems.append(
                ModelError(
                    f"Das Skript verwendet '{name}', das weder ein Formularfeld, eine Skriptvariable, "
                    "ein Startwert noch eine Funktion der Sandbox ist.",
                    filename=filename,
                    line=line,
                    element_id=element_id,
                )
            )
    return problems


def _data_names(model: ProcessModel, forms: Mapping[str, Any]) -> set[str]:
    """Names case data can have: start values, form fields, variables set by the models' scripts and outputs."""
    names = set(INITIAL_DATA) | variables_set_by_models(model.trees.values())
    for schema in forms.values():
        names |= set(schema.get("properties", {}))
    for _, (source, mode, _, _) in ((f, s) for f, tree in model.trees.items() for s in snippets([tree])):
        if mode == "exec":
            names |= _stored_names(source)
    return names


def _tree(source: str, mode: str) -> ast.AST:
    return ast.parse(source.strip() if mode == "eval" else source, mode="eval" if mode == "eval" else "exec")


def _stored_names(source: str) -> set[str]:
    """Variables a script assigns at its top level (they become case data); none for a script that does not
    parse (``_lint_snippets`` reports it)."""
    names: set[str] = set()
    try:
        tree = _tree(source, "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return names
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def _loaded_names(source: str, mode: str) -> set[str]:
    """Names a snippet reads that it does not bind itself (arguments, loop and comprehension variables)."""
    tree = _tree(source, mode)
    loaded: set[str] = set()
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.FunctionDef):
            bound.add(node.name)
    return loaded - bound


def _lint_services(model: ProcessModel) -> list[ModelError]:
    """Service tasks name registered operations with exactly their parameters."""
    from .service_tasks import registry

    operations = registry()
    problems: list[ModelError] = []
    for filename, tree in model.trees.items():
        for task in tree.getroot().iterfind(".//bpmn:serviceTask", NS):
            if task.get("id") in model.tasks and task.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator",
                                                           NS) is None:  # fmt: skip
                problems.append(ModelError(
                    "Die Service-Aufgabe ruft keine Service-Operation der Plattform auf "
                    "(spiffworkflow:serviceTaskOperator).",
                    filename=filename, line=task.sourceline, element_id=task.get("id", "")))  # fmt: skip
    for filename, tree in model.trees.items():
        for operator in tree.getroot().iterfind(".//spiffworkflow:serviceTaskOperator", NS):
            task = operator.getparent().getparent() if operator.getparent() is not None else None
            name = operator.get("id", "")
            params = {
                p.get("id", "") for p in operator.iterfind("spiffworkflow:parameters/spiffworkflow:parameter", NS)
            }
            operation = operations.get(name)
            if operation is None:
                message = f"Unbekannte Service-Operation '{name}' (verfügbar: {', '.join(sorted(operations))})."
            elif params != set(operation.params):
                message = f"'{name}' erwartet die Parameter {', '.join(operation.params) or '(keine)'}."
            else:
                continue
            problems.append(
                ModelError(
                    message,
                    filename=filename,
                    line=operator.sourceline,
                    element_id=task.get("id", "") if task is not None else "",
                )  # fmt: skip
            )
    return problems


def _lint_properties(model: ProcessModel) -> list[ModelError]:
    problems: list[ModelError] = []
    unknown_lanes = [lane for lane in model.start_lanes if lane not in WORK_GROUPS]
    if unknown_lanes:
        problems.append(
            ModelError(
                f"Gestartet wird in Lanes, die keine bekannten Gruppen sind: {', '.join(unknown_lanes)} "
                "(egsStartLanes oder die Lane des Startereignisses).",
                filename=model.filename,
                element_id=model.process_id,
            )
        )
    sites = model.sites or ()
    unknown_sites = [s for s in sites if s not in SITES]
    if unknown_sites:
        problems.append(
            ModelError(
                f"egsSites nennt unbekannte Standorte: {', '.join(unknown_sites)}.",
                filename=model.filename,
                element_id=model.process_id,
            )
        )
    areas = ", ".join(WORK_AREAS)
    if model.area not in WORK_AREAS:
        problems.append(
            ModelError(
                f"Eigenschaft 'egsBereich' des Prozesses fehlt oder ist ungültig (Aufgabenbereich nach § 6); "
                f"erlaubt: {areas}.",
                filename=model.filename,
                element_id=model.process_id,
            )
        )
    for task in model.tasks.values():
        own_area = task.properties.get("egsBereich")
        if own_area is not None and own_area.strip() not in WORK_AREAS:
            problems.append(
                ModelError(
                    f"Eigenschaft 'egsBereich' der Aufgabe ist ungültig; erlaubt: {areas} (oder leer lassen: "
                    "dann gilt der Bereich des Prozesses).",
                    filename=task.filename,
                    line=task.line,
                    element_id=task.bpmn_id,
                )
            )
        for problem_text in task_labels.problems(task.label_template or ""):
            problems.append(
                ModelError(f"egsLabel: {problem_text}", filename=task.filename, line=task.line, element_id=task.bpmn_id)
            )
        checked = task.properties.get("egsFourEyes")
        if checked is not None and checked not in model.tasks:
            problems.append(
                ModelError(
                    f"egsFourEyes verweist auf '{checked}', das es in diesem Prozess nicht gibt.",
                    filename=task.filename,
                    line=task.line,
                    element_id=task.bpmn_id,
                )
            )
    return problems


def loop_warnings(model: ProcessModel) -> list[str]:
    """Warnings (not errors) for loops of sequence flows back through a gateway with no person in them.

    Every round of such a loop adds tasks to the case for good and all rounds run in one step, whose cost
    grows with the square of the rounds (1 000 rounds: seconds). Repetition is better modelled as a loop or
    multi-instance marker on a task or subprocess. (Loops through a user task – "Unterlagen fehlen noch" –
    turn once per human step and are not warned about.)
    """
    specs = {name: spec for name, spec in model.spec.task_specs.items()}
    graph = {name: [output.name for output in spec.outputs] for name, spec in specs.items()}
    warnings: list[str] = []
    for component in _cycles(graph):
        members = [specs[name] for name in component]
        gateways = sorted(getattr(s, "bpmn_id", None) or s.name for s in members if "Gateway" in type(s).__name__)
        if not gateways:
            continue
        if any(getattr(s, "manual", False) for s in members):
            continue
        warnings.append(
            f"{model.filename}: Schleife über {', '.join(gateways)} ohne Benutzeraufgabe: alle Runden laufen in "
            "einem Schritt, und jede Runde vergrößert den Vorgang. Für Wiederholungen bitte eine Schleifen- "
            "oder Mehrfachinstanz-Markierung verwenden."
        )
    return warnings


def _cycles(graph: Mapping[str, list[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            successors = graph.get(node, [])
            if position < len(successors):
                work.append((node, position + 1))
                successor = successors[position]
                if successor not in index:
                    work.append((successor, 0))
                elif successor in on_stack:
                    low[node] = min(low[node], index[successor])
                continue
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found
