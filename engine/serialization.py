"""Instance-only serialization of SpiffWorkflow state.

SpiffWorkflow embeds the whole process spec in every serialized workflow and rebuilds it on every
load, which is most of the load time. The spec is already stored once per deployed version (and
cached parsed), so a case stores only its task tree, data and events; loading re-attaches the
cached spec. The serializer version is stored beside the state so that a SpiffWorkflow upgrade can
migrate old rows deliberately.
"""

from __future__ import annotations

import json
import threading
from datetime import date
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SPIFF_SERIALIZER_VERSION
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from .errors import EngineError

SERIALIZER_VERSION: str = SPIFF_SERIALIZER_VERSION


class _InstanceOnlyConverter(BpmnWorkflowConverter):  # type: ignore[misc]
    """Like SpiffWorkflow's converter, minus the spec; restoring takes the spec as an argument."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], spec: Any = None, subprocess_specs: Any = None) -> BpmnWorkflow:
        if spec is None:
            raise EngineError("Interner Fehler: Prozessdefinition zum Laden des Vorgangs fehlt.")
        workflow = self.target_class(spec, subprocess_specs or {}, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def make_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _InstanceOnlyConverter
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))
    # Model data may hold dates (``heute()``); SpiffWorkflow only knows datetimes.
    serializer.registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
    return serializer


class StateCodec:
    """Turns workflows into compact JSON and back (one SpiffWorkflow serializer per thread)."""

    def __init__(self) -> None:
        self._local = threading.local()

    @property
    def _serializer(self) -> BpmnWorkflowSerializer:
        serializer = getattr(self._local, "serializer", None)
        if serializer is None:
            serializer = self._local.serializer = make_serializer()
        return serializer

    @property
    def registry(self) -> Any:
        """The serializer's registry (converts specs too; ``SpecDiff`` compares specs with it)."""
        return self._serializer.registry

    def dumps(self, workflow: BpmnWorkflow) -> str:
        """Serialize the instance part of ``workflow`` to JSON."""
        serializer = self._serializer
        serializer.registry._encoder_mode = True
        try:
            dct = serializer.to_dict(workflow)
        finally:
            serializer.registry._encoder_mode = False
        return json.dumps(dct, separators=(",", ":"), cls=serializer._encoder_cls)

    def loads(self, state: str, version: str, spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
        """Rebuild a workflow from stored state and the cached spec of its process version."""
        if version != SERIALIZER_VERSION:
            raise EngineError(
                f"Der Vorgang wurde mit Serializer-Version {version} gespeichert, erwartet {SERIALIZER_VERSION}; "
                "er muss erst migriert werden."
            )
        serializer = self._serializer
        dct = json.loads(state, cls=serializer.json_decoder_cls)
        workflow: BpmnWorkflow = serializer.registry.restore(dct, spec=spec, subprocess_specs=subprocess_specs)
        return workflow
