"""Deploy-time rules a model must meet beyond being valid BPMN (see docs/modelling.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .auth import WORK_GROUPS
from .errors import ModelError, ScriptError
from .model_loader import NS, ProcessModel, snippets
from .scripting import compile_snippet

EGS_ROLES = ("Durchführender", "Mitwirkender", "informatorisch Beteiligter")


class ModelLintError(ModelError):
    """One or more modelling rules are broken; ``problems`` lists each with file, line and element."""

    def __init__(self, problems: list[ModelError]) -> None:
        first = problems[0]
        more = f" (und {len(problems) - 1} weitere Probleme)" if len(problems) > 1 else ""
        super().__init__(first.detail + more, filename=first.filename, line=first.line, element_id=first.element_id)
        self.problems = problems


def lint_process(model: ProcessModel, forms: Mapping[str, Any]) -> list[ModelError]:
    """Return every rule the process breaks (empty list = fine)."""
    problems: list[ModelError] = []
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
    if not model.start_lane:
        problems.append(
            ModelError("Das Startereignis liegt in keiner Lane.", filename=model.filename, element_id=model.process_id)
        )
    for filename, tree in model.trees.items():
        root = tree.getroot()
        for tag in ("exclusiveGateway", "inclusiveGateway"):
            for gateway in root.iterfind(f".//bpmn:{tag}", NS):
                gateway_id = gateway.get("id", "")
                outgoing = [f for f in root.iterfind(".//bpmn:sequenceFlow", NS) if f.get("sourceRef") == gateway_id]
                if len(outgoing) > 1 and not gateway.get("default"):
                    problems.append(
                        ModelError(
                            "Das Gateway hat keinen Standardfluss (default).",
                            filename=filename,
                            line=gateway.sourceline,
                            element_id=gateway_id,
                        )
                    )
        for source, mode, element_id, line in snippets([tree]):
            try:
                compile_snippet(source, "exec" if mode == "exec" else "eval")
            except ScriptError as exc:
                at = (line or 0) + (exc.line or 1) - 1 if line else None
                problems.append(ModelError(exc.detail, filename=filename, line=at, element_id=element_id))
    return problems
