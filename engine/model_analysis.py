"""Why a BPMN file cannot run here as it is: the findings for a model from another tool (the BPMN interchange
test suite, Camunda or Signavio exports).

The file goes through the same safe parse, structure check, lint (``model_lint``, with the forms of
``forms_dir``) and SpiffWorkflow parse as a deploy, but every problem becomes a finding instead of stopping
the check. What only models from other tools have is added: processes marked not executable, extensions of
other tools (``camunda:``, ``signavio:``, ``zeebe:`` …), scripts in other languages and elements the engine
cannot run. Each finding names the elements it is about. Hostile or unreadable files raise ``ModelError``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser

from .deployments import load_forms
from .errors import ModelError
from .model_lint import lint_files, lint_tasks
from .model_loader import ModelFile, ProcessModel, TaskInfo, build_specs, read_models
from .model_structure import check_structure
from .safe_xml import BPMN_NS, BPMNDI_NS, SPIFF_NS, parse_model_xml

OWN_NAMESPACES = frozenset(
    {
        BPMN_NS,
        BPMNDI_NS,
        SPIFF_NS,
        "http://www.omg.org/spec/DD/20100524/DC",
        "http://www.omg.org/spec/DD/20100524/DI",
        "http://www.w3.org/2001/XMLSchema-instance",
        "http://www.w3.org/XML/1998/namespace",
    }
)

# Namespace part → the tool it belongs to (first match wins).
VENDORS = (
    ("camunda.org/schema/zeebe", "Camunda 8 (Zeebe)"),
    ("camunda.org/schema/modeler", "Camunda Modeler"),
    ("camunda.org", "Camunda 7"),
    ("signavio", "Signavio"),
    ("activiti", "Activiti"),
    ("flowable", "Flowable"),
    ("bizagi", "Bizagi"),
    ("bpmn.io", "bpmn.io"),
)

FLOW_NODES = frozenset(
    {
        "task",
        "userTask",
        "manualTask",
        "scriptTask",
        "serviceTask",
        "sendTask",
        "receiveTask",
        "businessRuleTask",
        "callActivity",
        "subProcess",
        "transaction",
        "adHocSubProcess",
        "startEvent",
        "endEvent",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "boundaryEvent",
        "exclusiveGateway",
        "inclusiveGateway",
        "parallelGateway",
        "eventBasedGateway",
        "complexGateway",
    }
)
SUPPORTED_NODES = frozenset(
    etree.QName(tag).localname for tag in (*SpiffBpmnParser.PARSER_CLASSES, *SpiffBpmnParser.OVERRIDE_PARSER_CLASSES)
)
SUPPORTED_EVENTS = frozenset(
    {
        "timerEventDefinition",
        "messageEventDefinition",
        "signalEventDefinition",
        "errorEventDefinition",
        "escalationEventDefinition",
        "terminateEventDefinition",
        "cancelEventDefinition",
        "conditionalEventDefinition",
    }
)  # SpiffWorkflow/bpmn/parser/event_parsers.py
PYTHON = frozenset({"", "python", "text/x-python", "text/python", "application/x-python"})

MAX_PROCESSES = 20  # processes linted per file: the lint of one process reads its whole file
MAX_FINDINGS = 200
MAX_ELEMENTS = 50  # elements listed per finding

NOT_EXECUTABLE = "Nicht ausführbar"
STRUCTURE = "Aufbau der Datei"
RULES = "Regeln der Plattform (Lanes, Rollen, Formulare, Skripte, Service-Aufgaben)"
VENDOR = "Erweiterungen anderer Werkzeuge"
UNSUPPORTED = "Von der Engine nicht unterstützt"
TOPICS = (NOT_EXECUTABLE, STRUCTURE, RULES, UNSUPPORTED, VENDOR)


@dataclass(frozen=True)
class ElementRef:
    """An element a finding is about."""

    id: str
    name: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} ({self.id})" if self.name and self.name != self.id else self.id


@dataclass(frozen=True)
class Finding:
    """One reason why the model cannot run as it is, with the elements it applies to."""

    topic: str
    message: str
    elements: tuple[ElementRef, ...] = ()
    more: int = 0  # elements beyond those listed

    def to_json(self) -> dict[str, object]:
        return {
            "thema": self.topic,
            "text": self.message,
            "elemente": [[e.id, e.name] for e in self.elements],
            "weitere": self.more,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Finding:
        elements = tuple(ElementRef(str(i), str(n)) for i, n in data.get("elemente", []))  # type: ignore[attr-defined]
        return cls(str(data["thema"]), str(data["text"]), elements, int(data.get("weitere", 0)))  # type: ignore[call-overload]


@dataclass(frozen=True)
class Analysis:
    """What a BPMN file is and why it cannot run (no findings: it can)."""

    name: str
    process_ids: tuple[str, ...]
    executable_ids: tuple[str, ...]
    findings: tuple[Finding, ...]
    names: Mapping[str, str] = field(default_factory=dict, repr=False)  # element id → name

    @property
    def runnable(self) -> bool:
        return bool(self.executable_ids) and not self.findings


class _Findings:
    """Collects findings grouped by topic and message, each element once."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names
        self.groups: dict[tuple[str, str], list[str]] = {}

    def add(self, topic: str, message: str, element_id: str = "") -> None:
        ids = self.groups.get((topic, message))
        if ids is None:
            if len(self.groups) >= MAX_FINDINGS:
                return
            ids = self.groups[(topic, message)] = []
        if element_id and element_id not in ids:
            ids.append(element_id)

    def result(self) -> tuple[Finding, ...]:
        found = [
            Finding(
                topic,
                message,
                tuple(ElementRef(i, self.names.get(i, "")) for i in ids[:MAX_ELEMENTS]),
                max(0, len(ids) - MAX_ELEMENTS),
            )
            for (topic, message), ids in self.groups.items()
        ]
        return tuple(sorted(found, key=lambda f: TOPICS.index(f.topic)))


def analyse(content: bytes, filename: str, forms_dir: Path, *, max_model_bytes: int, max_form_bytes: int) -> Analysis:
    """The findings for one BPMN file.

    :raises ModelError: for a file that is no safe, well-formed BPMN 2.0 document (too large, empty, DOCTYPE or
        entities, binary, another namespace, DMN).
    """
    tree = parse_model_xml(content, filename, "bpmn", max_model_bytes)
    root = tree.getroot()
    names = {str(e.get("id")): " ".join((e.get("name") or "").split())[:200] for e in root.iter() if e.get("id")}
    findings = _Findings(names)
    processes = root.findall(f"{{{BPMN_NS}}}process")
    process_ids = tuple(str(p.get("id", "")) for p in processes)
    executable = tuple(str(p.get("id", "")) for p in processes if p.get("isExecutable", "true") != "false")
    for process in processes:
        if process.get("isExecutable", "true") == "false":
            findings.add(
                NOT_EXECUTABLE,
                'Der Prozess ist als nicht ausführbar gekennzeichnet (isExecutable="false").',
                process.get("id", ""),
            )
    if processes and not executable:
        findings.add(NOT_EXECUTABLE, "Die Datei enthält keinen ausführbaren Prozess.")
    sound = _structure(tree, filename, findings)
    models = _lint(content, filename, tree, forms_dir, max_form_bytes, findings)
    _vendor_extensions(root, findings)
    _unsupported(root, findings)
    if sound and models and not findings.groups:
        _spiff(content, filename, tree, {pid: m for pid, m in models.items() if pid in executable}, findings)
    return Analysis(_title(root, filename), process_ids, executable, findings.result(), names)


def rule_findings(problems: Sequence[ModelError], names: Mapping[str, str]) -> tuple[Finding, ...]:
    """The problems of a deploy check as findings (grouped by message)."""
    findings = _Findings(dict(names))
    for problem in problems:
        findings.add(RULES, problem.detail, problem.element_id)
    return findings.result()


def _title(root: etree._Element, filename: str) -> str:
    for element in (root.find(f"{{{BPMN_NS}}}process"), root.find(f"{{{BPMN_NS}}}collaboration"), root):
        name = element.get("name") if element is not None else None
        if name and name.strip():
            return " ".join(name.split())[:200]
    return filename[:200]


def _structure(tree: etree._ElementTree, filename: str, findings: _Findings) -> bool:
    try:
        check_structure(tree, filename)
    except ModelError as exc:
        findings.add(STRUCTURE, exc.detail, exc.element_id)
        return False
    return True


def _lint(
    content: bytes, filename: str, tree: etree._ElementTree, forms_dir: Path, max_form_bytes: int, findings: _Findings
) -> dict[str, ProcessModel]:
    """The platform's lint on every process (executable or not), as a deploy would run it."""
    try:
        models = read_models([ModelFile(filename, content)], {filename: tree}, every_process=True)
    except ModelError as exc:
        findings.add(STRUCTURE, exc.detail, exc.element_id)
        return {}
    every_form: dict[str, Any] = {}
    every_task: dict[str, TaskInfo] = {}
    for number, model in enumerate(models.values()):
        if number == MAX_PROCESSES:
            findings.add(RULES, f"Die Datei enthält {len(models)} Prozesse; geprüft wurden die ersten {MAX_PROCESSES}.")
            break
        forms, problems = load_forms(model, forms_dir, max_form_bytes, {})
        every_form.update(forms)
        every_task.update(model.tasks)
        for problem in [*problems, *lint_tasks(model, forms)]:
            findings.add(RULES, problem.detail, problem.element_id)
    if models:  # the rules on the file itself once, with the tasks and forms of every process in it
        whole = replace(next(iter(models.values())), tasks=every_task)
        for problem in lint_files(whole, every_form):
            findings.add(RULES, problem.detail, problem.element_id)
    return models


def _vendor_extensions(root: etree._Element, findings: _Findings) -> None:
    """Elements and attributes of other tools' namespaces, listed per element they sit on."""
    by_owner: dict[str, dict[str, list[str]]] = {}
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        namespace = etree.QName(element).namespace
        parent = element.getparent()
        if namespace not in OWN_NAMESPACES and (parent is None or etree.QName(parent).namespace in OWN_NAMESPACES):
            owner = _owner(parent) if parent is not None else ""
            _note(by_owner, owner, namespace, _shown(element, element.tag))
        if namespace in OWN_NAMESPACES:
            for attribute in element.attrib:
                attribute_ns = etree.QName(attribute).namespace
                if attribute_ns is not None and attribute_ns not in OWN_NAMESPACES:
                    _note(by_owner, _owner(element), attribute_ns, _shown(element, attribute))
    for owner, vendors in by_owner.items():
        for vendor, shown in sorted(vendors.items()):
            findings.add(VENDOR, f"{vendor}: {', '.join(sorted(set(shown))[:12])}", owner)


def _note(by_owner: dict[str, dict[str, list[str]]], owner: str, namespace: str | None, shown: str) -> None:
    by_owner.setdefault(owner, {}).setdefault(_vendor(namespace), []).append(shown)


def _vendor(namespace: str | None) -> str:
    for part, vendor in VENDORS:
        if namespace and part in namespace.lower():
            return vendor
    return f"Namensraum {(namespace or '(keiner)')[:80]}"


def _shown(element: etree._Element, tag: str) -> str:
    """``prefix:name`` as the file writes it (the prefix declared for the namespace)."""
    qname = etree.QName(tag)
    prefix = next((p for p, ns in element.nsmap.items() if ns == qname.namespace and p), None)
    return f"{prefix}:{qname.localname}"[:80] if prefix else qname.localname[:80]


def _owner(element: etree._Element | None) -> str:
    """The id of ``element`` or of its nearest ancestor with one."""
    while element is not None:
        if element.get("id"):
            return str(element.get("id"))
        element = element.getparent()
    return ""


def _unsupported(root: etree._Element, findings: _Findings) -> None:
    """Flow nodes, event types and script languages the engine cannot run."""
    for element in root.iter(f"{{{BPMN_NS}}}*"):
        local = etree.QName(element).localname
        if local in FLOW_NODES and local not in SUPPORTED_NODES:
            findings.add(
                UNSUPPORTED, f"Elemente vom Typ <{local}> kann die Engine nicht ausführen.", element.get("id", "")
            )
        elif local.endswith("EventDefinition") and local not in SUPPORTED_EVENTS:
            findings.add(UNSUPPORTED, f"Ereignisse vom Typ <{local}> kann die Engine nicht ausführen.", _owner(element))
        elif local == "scriptTask" and (element.get("scriptFormat") or "").strip().lower() not in PYTHON:
            language = (element.get("scriptFormat") or "").strip()[:40]
            findings.add(
                UNSUPPORTED,
                f"Skript in der Sprache '{language}': die Plattform führt nur Python in ihrer Sandbox aus.",
                element.get("id", ""),
            )


def _spiff(
    content: bytes, filename: str, tree: etree._ElementTree, models: dict[str, ProcessModel], findings: _Findings
) -> None:
    """SpiffWorkflow's own parse (with XSD validation) of what passed everything else."""
    if not models:
        return
    try:
        build_specs([ModelFile(filename, content)], {filename: tree}, models, VALIDATOR)
    except ModelError as exc:
        findings.add(STRUCTURE, f"Die Engine kann das Modell nicht einlesen: {exc.detail}"[:1000], exc.element_id)


def element_ids(findings: Iterable[Finding]) -> list[str]:
    """Every element named by ``findings`` (to mark them in the diagram)."""
    return sorted({element.id for finding in findings for element in finding.elements})
