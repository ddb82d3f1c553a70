"""Load BPMN/DMN files into executable SpiffWorkflow specs, with our safety and structure checks first.

Order: safe XML parse (``safe_xml``) → reference and structure checks on the XML → SpiffWorkflow
parse with XSD validation → task metadata (lane, EGS role, form) read from the XML. Every problem is
a :class:`ModelError` naming file, line and element.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser

from .errors import ModelError
from .model_structure import check_structure
from .safe_xml import NS, Kind, line_of, parse_model_xml

TASK_TAGS = (
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "businessRuleTask", "sendTask",
    "receiveTask", "callActivity", "subProcess",
)  # fmt: skip


@dataclass(frozen=True)
class ModelFile:
    """A model file as uploaded or read from disk."""

    name: str
    content: bytes

    @property
    def kind(self) -> Kind:
        return "dmn" if self.name.lower().endswith(".dmn") else "bpmn"

    @classmethod
    def from_path(cls, path: Path) -> ModelFile:
        return cls(path.name, path.read_bytes())


@dataclass(frozen=True)
class TaskInfo:
    """What the engine and the UI need to know about one task of a model."""

    bpmn_id: str
    name: str
    tag: str
    filename: str
    lane: str | None
    egs_role: str | None
    form_key: str | None
    instructions: str
    line: int | None
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def is_user_task(self) -> bool:
        return self.tag in ("userTask", "manualTask")

    @property
    def label_template(self) -> str | None:
        """Property ``egsLabel``: what tells this task apart from others of the same name (``task_labels``)."""
        return self.properties.get("egsLabel") or None


@dataclass
class ProcessModel:
    """An executable process with its parsed spec and the metadata read from its XML."""

    process_id: str
    name: str
    filename: str
    spec: Any
    subprocess_specs: dict[str, Any]
    tasks: dict[str, TaskInfo]
    start_lane: str | None
    resources: dict[str, str]
    trees: dict[str, etree._ElementTree] = field(repr=False, default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    start_messages: frozenset[str] = frozenset()
    direct_start: bool = True

    @property
    def start_lanes(self) -> tuple[str, ...]:
        """Groups that may start the process: property ``egsStartLanes`` (comma list), else the start event's lane."""
        value = self.properties.get("egsStartLanes", "").strip()
        lanes = tuple(lane.strip() for lane in value.split(",") if lane.strip())
        return lanes or ((self.start_lane,) if self.start_lane else ())

    @property
    def area(self) -> str | None:
        """The process's area of the § 6 VZÄ plan (process property ``egsBereich``); None: not named."""
        return self.properties.get("egsBereich", "").strip() or None

    def area_of(self, task_id: str | None) -> str | None:
        """The area of a task: its own ``egsBereich`` where it names one, else the process's."""
        task = self.tasks.get(task_id or "")
        own = task.properties.get("egsBereich", "").strip() if task else ""
        return own or self.area

    @property
    def sites(self) -> tuple[str, ...] | None:
        """Sites where this process may run (process property ``egsSites``); None = everywhere."""
        value = self.properties.get("egsSites", "").strip()
        return tuple(s.strip() for s in value.split(",") if s.strip()) or None


def load_processes(
    files: Sequence[ModelFile],
    max_bytes: int,
    check: Callable[[dict[str, ProcessModel]], None] | None = None,
    *,
    validate: bool = True,
) -> dict[str, ProcessModel]:
    """Parse and check a set of model files; return every executable process by id.

    ``check`` runs on the models read from the XML before SpiffWorkflow parses them, so that rule
    violations are reported together instead of one SpiffWorkflow error at a time. ``validate=False``
    skips the XSD validation of files that were validated when they were deployed (the jail, which
    cannot open the schema files).

    :raises ModelError: for the first unsafe, malformed or structurally broken file.
    """
    names = [f.name for f in files]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ModelError(f"Dateiname mehrfach angegeben: {', '.join(sorted(duplicates))}")
    trees: dict[str, etree._ElementTree] = {}
    for model_file in files:
        tree = parse_model_xml(model_file.content, model_file.name, model_file.kind, max_bytes)
        if model_file.kind == "bpmn":
            check_structure(tree, model_file.name)
        trees[model_file.name] = tree
    models = read_models(files, trees)
    if check is not None:
        check(models)
    build_specs(files, trees, models, VALIDATOR if validate else None)
    return models


def read_models(
    files: Sequence[ModelFile], trees: dict[str, etree._ElementTree], *, every_process: bool = False
) -> dict[str, ProcessModel]:
    """Phase 1: everything we need from the XML alone (no SpiffWorkflow), for each executable process – with
    ``every_process`` also for those marked ``isExecutable="false"`` (the analysis of other tools' models)."""
    elements: dict[str, tuple[str, etree._Element]] = {}
    for model_file in files:
        for process in trees[model_file.name].getroot().iterfind("bpmn:process", NS):
            process_id = process.get("id", "")
            if process_id in elements:
                raise ModelError(
                    f"Prozess-ID '{process_id}' ist auch in {elements[process_id][0]} definiert.",
                    filename=model_file.name,
                    line=process.sourceline,
                    element_id=process_id,
                )
            elements[process_id] = (model_file.name, process)
    texts = {f.name: f.content.decode("utf-8") for f in files}
    decision_files = {
        str(decision_id): f.name
        for f in files
        if f.kind == "dmn"
        for decision_id in trees[f.name].getroot().xpath("//*[local-name()='decision']/@id")
    }
    models: dict[str, ProcessModel] = {}
    for process_id, (filename, element) in elements.items():
        if element.get("isExecutable", "true") == "false" and not every_process:
            continue
        called = _called_processes(process_id, elements)
        tasks: dict[str, TaskInfo] = {}
        for pid in [process_id, *sorted(called)]:
            tasks.update(read_tasks(elements[pid][1], elements[pid][0]))
        needed = {filename} | {elements[pid][0] for pid in called}
        for pid in [process_id, *called]:
            for ref in elements[pid][1].iterfind(".//spiffworkflow:calledDecisionId", NS):
                decision = (ref.text or "").strip()
                if decision in decision_files:
                    needed.add(decision_files[decision])
        models[process_id] = ProcessModel(
            properties=_properties(element),
            start_messages=_start_messages(trees[filename], element),
            direct_start=any(
                not any(isinstance(child.tag, str) and child.tag.endswith("EventDefinition") for child in start)
                for start in element.iterfind("bpmn:startEvent", NS)
            ),
            process_id=process_id,
            name=_process_name(trees[filename], element),
            filename=filename,
            spec=None,
            subprocess_specs={},
            tasks=tasks,
            start_lane=_start_lane(element),
            resources={name: texts[name] for name in sorted(needed)},
            trees={name: trees[name] for name in sorted(needed)},
        )
    return models


def _called_processes(process_id: str, elements: dict[str, tuple[str, etree._Element]]) -> set[str]:
    found: set[str] = set()
    todo = [process_id]
    while todo:
        _, element = elements[todo.pop()]
        for call in element.iterfind(".//bpmn:callActivity", NS):
            target = call.get("calledElement", "")
            if target in elements and target not in found and target != process_id:
                found.add(target)
                todo.append(target)
    return found


def build_specs(
    files: Sequence[ModelFile],
    trees: dict[str, etree._ElementTree],
    models: dict[str, ProcessModel],
    validator: BpmnValidator | None,
) -> None:
    """Phase 2: let SpiffWorkflow parse (with XSD validation unless ``validator`` is None) and attach the specs."""
    parser = SpiffBpmnParser(validator=validator)
    for model_file in files:
        # Spiff may rewrite parts of the tree while validating: give it a private copy.
        tree = etree.ElementTree(_copy(trees[model_file.name].getroot()))
        with _spiff_errors(model_file.name, trees[model_file.name]):
            if model_file.kind == "dmn":
                parser.add_dmn_xml(tree.getroot(), filename=model_file.name)
            else:
                parser.add_bpmn_xml(tree, filename=model_file.name)
    for process_id, model in models.items():
        with _spiff_errors(model.filename, trees[model.filename]):
            model.spec = parser.get_spec(process_id)
            model.subprocess_specs = parser.get_subprocess_specs(process_id)


def _copy(element: etree._Element) -> etree._Element:
    return copy.deepcopy(element)  # keeps source lines, unlike a tostring/fromstring round trip


class _spiff_errors:
    """Translate SpiffWorkflow parse errors into ModelError with file, line and element id."""

    def __init__(self, filename: str, tree: etree._ElementTree) -> None:
        self.filename = filename
        self.tree = tree

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None or isinstance(exc, ModelError):
            return
        if _caused_by_recursion(exc):
            raise ModelError(
                "Das Modell ist zu tief verkettet, um es zu verarbeiten (eine Kette von mehreren hundert "
                "Elementen hintereinander). Bitte in Teilprozesse gliedern oder Schleifen als Schleifen "
                "(Loop-Marker) modellieren.",
                filename=self.filename,
            ) from exc
        if isinstance(exc, ValidationException):
            element_id = getattr(exc, "id", "") or ""
            line = getattr(exc, "line_number", None)
            line = line if isinstance(line, int) and line > 0 else line_of(self.tree, element_id)
            raise ModelError(
                f"Ungültiges Modell: {exc.args[0] if exc.args else exc}",
                filename=getattr(exc, "file_name", "") or self.filename,
                line=line,
                element_id=element_id,
            ) from exc
        if isinstance(
            exc,
            SpiffWorkflowException | LookupError | ValueError | TypeError | AttributeError | NotImplementedError
            | etree.LxmlError,
        ):  # fmt: skip
            raise ModelError(f"Das Modell kann nicht verarbeitet werden: {exc}", filename=self.filename) from exc


def _caused_by_recursion(exc: BaseException) -> bool:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, RecursionError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _properties(element: etree._Element) -> dict[str, str]:
    """The ``spiffworkflow:property`` name/value pairs directly on an element."""
    return {
        p.get("name", ""): p.get("value", "")
        for p in element.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)
    }


def _start_messages(tree: etree._ElementTree, process: etree._Element) -> frozenset[str]:
    """Names of the messages that start this process (message start events)."""
    names = {m.get("id"): m.get("name") or m.get("id") for m in tree.getroot().iterfind("bpmn:message", NS)}
    found = set()
    for definition in process.iterfind("bpmn:startEvent/bpmn:messageEventDefinition", NS):
        name = names.get(definition.get("messageRef"))
        if name:
            found.add(name)
    return frozenset(found)


def _lanes_by_node(process: etree._Element) -> dict[str, str]:
    lanes: dict[str, str] = {}
    for lane in process.iterfind(".//bpmn:lane", NS):
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            lanes[(ref.text or "").strip()] = lane.get("name", "").strip()
    return lanes


def read_tasks(process: etree._Element, filename: str) -> dict[str, TaskInfo]:
    """Read lane, EGS role, form and instructions of every task in a process (including sub-processes)."""
    lanes = _lanes_by_node(process)
    tasks: dict[str, TaskInfo] = {}
    for tag in TASK_TAGS:
        for element in process.iterfind(f".//bpmn:{tag}", NS):
            bpmn_id = element.get("id", "")
            properties = _properties(element)
            instructions = element.findtext("bpmn:extensionElements/spiffworkflow:instructionsForEndUser", "", NS)
            tasks[bpmn_id] = TaskInfo(
                bpmn_id=bpmn_id,
                name=" ".join(element.get("name", bpmn_id).split()),
                tag=tag,
                filename=filename,
                lane=_lane_of(element, lanes),
                egs_role=properties.get("egsRole"),
                form_key=properties.get("formJsonSchemaFilename"),
                instructions=instructions.strip(),
                line=element.sourceline,
                properties=properties,
            )
    return tasks


def _lane_of(element: etree._Element, lanes: dict[str, str]) -> str | None:
    node: etree._Element | None = element
    while node is not None:
        lane = lanes.get(node.get("id", ""))
        if lane:
            return lane
        node = node.getparent()
    return None


def _start_lane(process: etree._Element | None) -> str | None:
    if process is None:
        return None
    start = process.find("bpmn:startEvent", NS)
    return _lane_of(start, _lanes_by_node(process)) if start is not None else None


def _process_name(tree: etree._ElementTree, process: etree._Element | None) -> str:
    if process is None:
        return ""
    name = process.get("name")
    if not name:
        for participant in tree.getroot().iterfind(".//bpmn:participant", NS):
            if participant.get("processRef") == process.get("id") and participant.get("name"):
                name = participant.get("name")
    return " ".join((name or process.get("id", "")).split())
