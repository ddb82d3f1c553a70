"""The semantic difference between two versions of a process's BPMN file (a draft or older version against the
live one): which elements were added, removed or changed – with what changed (name, lane, EGS role, form,
condition, script, any other attribute or extension) – and which only moved in the diagram ("layout").

Works on the parsed XML alone (no SpiffWorkflow), compares elements by id, and is used by the diff page,
the modeller's deploy confirmation and the deploy audit event.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from lxml import etree

from .safe_xml import BPMN_NS, BPMNDI_NS, NS, SPIFF_NS, parse_model_xml

Kind = Literal["added", "removed", "changed", "layout"]
KINDS: tuple[Kind, ...] = ("added", "removed", "changed", "layout")
KIND_LABELS: dict[Kind, str] = {
    "added": "hinzugefügt",
    "removed": "entfernt",
    "changed": "geändert",
    "layout": "nur verschoben",
}

# Property names with a German label; other properties are shown as "Eigenschaft <name>".
_PROPERTY_LABELS = {
    "egsRole": "EGS-Rolle",
    "formJsonSchemaFilename": "Formular",
    "egsFourEyes": "Vier-Augen-Prüfung",
    "egsSites": "Standorte",
    "egsStartLanes": "Start-Lanes",
    "egsLabel": "Unterscheidungsmerkmal",
}
_SPIFF_LABELS = {
    "preScript": "Skript davor",
    "postScript": "Skript danach",
    "instructionsForEndUser": "Hinweise für die Sachbearbeitung",
    "calledDecisionId": "Entscheidungstabelle",
    "messagePayload": "Nachrichteninhalt",
    "messageVariable": "Nachrichtenvariable",
    "serviceTaskOperator": "Service-Operation",
}
_ATTRIBUTE_LABELS = {
    "name": "Name",
    "default": "Standardfluss",
    "sourceRef": "Quelle",
    "targetRef": "Ziel",
    "calledElement": "Aufgerufener Prozess",
    "attachedToRef": "Angeheftet an",
    "cancelActivity": "Unterbrechend",
}
# Attributes whose BPMN default is often written out by one tool and left out by another (bpmn-js).
_DEFAULTS = {"cancelActivity": "true", "isInterrupting": "true", "isForCompensation": "false", "isSequential": "false",
             "parallelMultiple": "false", "isClosed": "false", "instantiate": "false", "completionQuantity": "1",
             "startQuantity": "1", "gatewayDirection": "Unspecified", "isImmediate": "true"}  # fmt: skip
# Children that are described elsewhere (own fields, own elements) and not compared as "details".
_SKIPPED_CHILDREN = {"incoming", "outgoing", "extensionElements", "conditionExpression", "script", "flowNodeRef",
                     "laneSet", "childLaneSet"}  # fmt: skip
# Elements with an id that belong to their parent instead of being listed on their own.
_PART_OF_PARENT = ("EventDefinition", "laneSet", "LoopCharacteristics", "conditionExpression")


@dataclass(frozen=True)
class Element:
    """What the diff compares of one BPMN element."""

    element_id: str
    type: str
    name: str
    fields: dict[str, str]
    layout: tuple[str, ...]


@dataclass(frozen=True)
class Change:
    """One element that differs; ``details`` say what changed (German, for the page and the audit event)."""

    element_id: str
    kind: Kind
    type: str
    name: str
    details: tuple[str, ...] = ()

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass(frozen=True)
class ModelDiff:
    """Every changed element, in the order of the newer file (removed ones last)."""

    changes: tuple[Change, ...] = field(default_factory=tuple)

    def of_kind(self, kind: Kind) -> list[Change]:
        return [change for change in self.changes if change.kind == kind]

    def counts(self) -> dict[Kind, int]:
        return {kind: len(self.of_kind(kind)) for kind in KINDS}

    @property
    def empty(self) -> bool:
        return not self.changes

    def summary_text(self) -> str:
        """E.g. "2 hinzugefügt, 1 geändert" or "keine Änderungen"."""
        parts = [f"{count} {KIND_LABELS[kind]}" for kind, count in self.counts().items() if count]
        return ", ".join(parts) or "keine Änderungen"

    def audit_summary(self, limit: int = 50) -> dict[str, object]:
        """Counts and the changed elements (id, kind, what changed – not the texts), for the audit event."""
        return {
            **{str(kind): count for kind, count in self.counts().items()},
            "elemente": [
                {"id": c.element_id, "art": c.kind, "felder": [d.split(":", 1)[0] for d in c.details]}
                for c in self.changes[:limit]
            ],
        }


def diff_xml(old: str, new: str, max_bytes: int, filename: str = "modell.bpmn") -> ModelDiff:
    """Compare two BPMN texts (old = the live version). :raises ModelError: if either is unsafe or broken."""
    before = read_elements(parse_model_xml(old.encode("utf-8"), filename, "bpmn", max_bytes))
    after = read_elements(parse_model_xml(new.encode("utf-8"), filename, "bpmn", max_bytes))
    changes: list[Change] = []
    for element_id, element in after.items():
        previous = before.get(element_id)
        if previous is None:
            changes.append(Change(element_id, "added", element.type, element.name))
            continue
        details = _field_changes(previous, element)
        if details:
            changes.append(Change(element_id, "changed", element.type, element.name, tuple(details)))
        elif previous.layout != element.layout:
            changes.append(Change(element_id, "layout", element.type, element.name, ("Lage im Diagramm",)))
    for element_id, element in before.items():
        if element_id not in after:
            changes.append(Change(element_id, "removed", element.type, element.name))
    return ModelDiff(tuple(changes))


def _field_changes(old: Element, new: Element) -> list[str]:
    details = []
    if old.type != new.type:
        details.append(f"Typ: {old.type} → {new.type}")
    for label in sorted(set(old.fields) | set(new.fields), key=_field_order):
        before, after = old.fields.get(label, ""), new.fields.get(label, "")
        if before != after:
            before, after = _from_first_difference(" ".join(before.split()), " ".join(after.split()))
            details.append(f"{label}: {_short(before)} → {_short(after)}")
    return details


def _field_order(label: str) -> tuple[int, str]:
    order = ["Name", "Lane", "EGS-Rolle", "Formular", "Bedingung", "Skript"]
    return (order.index(label) if label in order else len(order), label)


def _from_first_difference(before: str, after: str, keep: int = 20) -> tuple[str, str]:
    """Long texts that differ late (a script, a service call) are shown from shortly before the difference."""
    same = 0
    while same < min(len(before), len(after)) and before[same] == after[same]:
        same += 1
    if same <= keep * 2:
        return before, after
    return "…" + before[same - keep :], "…" + after[same - keep :]


def _short(text: str, limit: int = 80) -> str:
    if not text:
        return "(leer)"
    flat = " ".join(text.split())
    return f"„{flat if len(flat) <= limit else flat[: limit - 1] + '…'}“"


def read_elements(tree: etree._ElementTree) -> dict[str, Element]:
    """Every BPMN element with an id (flow nodes, flows, lanes, processes, participants, messages …)."""
    root = tree.getroot()
    layout = _layout(root)
    lanes: dict[str, str] = {}
    for lane in root.iterfind(".//bpmn:lane", NS):
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            lanes[(ref.text or "").strip()] = _flat(lane.get("name", ""))
    found: dict[str, Element] = {}
    for element in _tracked(root):
        element_id = element.get("id", "")
        fields = _fields(element)
        if element_id in lanes:
            fields["Lane"] = lanes[element_id]
        found[element_id] = Element(element_id, etree.QName(element).localname, _flat(element.get("name", "")),
                                    fields, layout.get(element_id, ()))  # fmt: skip
    return found


def _tracked(root: etree._Element) -> Iterator[etree._Element]:
    for element in root.iter():
        if not isinstance(element.tag, str) or element is root or not element.get("id"):
            continue
        qname = etree.QName(element)
        if qname.namespace != BPMN_NS or qname.localname.endswith(_PART_OF_PARENT):
            continue
        yield element


def _flat(text: str | None) -> str:
    return " ".join((text or "").split())


def _fields(element: etree._Element) -> dict[str, str]:
    fields: dict[str, str] = {}
    for attribute, value in element.attrib.items():
        name = etree.QName(attribute).localname
        if name != "id" and _DEFAULTS.get(name) != value:
            fields[_ATTRIBUTE_LABELS.get(name, f"Attribut {name}")] = _flat(value) if name == "name" else value
    condition = element.find("bpmn:conditionExpression", NS)
    if condition is not None:
        fields["Bedingung"] = (condition.text or "").strip()
    script = element.find("bpmn:script", NS)
    if script is not None:
        fields["Skript"] = (script.text or "").strip()
    extensions = element.find("bpmn:extensionElements", NS)
    if extensions is not None:
        for prop in extensions.iterfind("spiffworkflow:properties/spiffworkflow:property", NS):
            name = prop.get("name", "")
            fields[_PROPERTY_LABELS.get(name, f"Eigenschaft {name}")] = prop.get("value", "")
        for child in extensions:
            if not isinstance(child.tag, str) or etree.QName(child).localname == "properties":
                continue
            local = etree.QName(child).localname
            label = _SPIFF_LABELS.get(local, f"Erweiterung {local}") if etree.QName(child).namespace == SPIFF_NS \
                else f"Erweiterung {local}"  # fmt: skip
            fields[label] = _canonical(child) if len(child) else (child.text or "").strip()
    for child in element:
        if not isinstance(child.tag, str) or etree.QName(child).namespace != BPMN_NS:
            continue
        local = etree.QName(child).localname
        if local in _SKIPPED_CHILDREN or (child.get("id") and not local.endswith(_PART_OF_PARENT)):
            continue
        label = "Dokumentation" if local == "documentation" else "Ereignis" if local.endswith("EventDefinition") \
            else f"Detail {local}"  # fmt: skip
        fields[label] = (fields.get(label, "") + " " + _canonical(child)).strip()
    return fields


def _canonical(element: etree._Element) -> str:
    """An element's content as compact text – tag, attributes (no generated ids, no namespace declarations),
    text and children – to compare extension and event details however the file was written."""
    qname = etree.QName(element)
    keep_id = qname.namespace == SPIFF_NS  # spiffworkflow:parameter uses "id" for the parameter's name
    attributes = sorted((etree.QName(k).localname, v) for k, v in element.attrib.items() if keep_id or k != "id")
    parts = [qname.localname]
    if attributes:
        parts.append("(" + "; ".join(f"{k}={v}" for k, v in attributes) + ")")
    text = (element.text or "").strip()
    if text:
        parts.append(f" {text}")
    children = [_canonical(child) for child in element if isinstance(child.tag, str)]
    if children:
        parts.append("[" + ", ".join(children) + "]")
    return "".join(parts)


def _layout(root: etree._Element) -> dict[str, tuple[str, ...]]:
    """Bounds of shapes and waypoints of edges (and their labels) by element id."""
    found: dict[str, tuple[str, ...]] = {}
    for shape in root.iter(f"{{{BPMNDI_NS}}}BPMNShape", f"{{{BPMNDI_NS}}}BPMNEdge"):
        numbers = []
        for node in shape.iter():
            if isinstance(node.tag, str) and etree.QName(node).localname in ("Bounds", "waypoint"):
                numbers.append(",".join(node.get(a, "") for a in ("x", "y", "width", "height") if node.get(a)))
        found[shape.get("bpmnElement", "")] = tuple(numbers)
    return found
