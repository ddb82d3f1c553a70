"""Structure checks on a model's XML before SpiffWorkflow sees it: unique and unreserved ids, references
that resolve, at least one process with a start event. Each problem is a ``ModelError`` with file and line."""

from __future__ import annotations

from lxml import etree

from .errors import ModelError
from .safe_xml import NS, SPIFF_NS

# SpiffWorkflow names its own internal start and end tasks like this; a model element with the same id
# silently replaces them and the process cannot run.
RESERVED_IDS = frozenset({"Start", "End"})

# Attributes whose value must be the id of an element in the same file.
_ID_REFERENCES = (
    ("sequenceFlow", "sourceRef"),
    ("sequenceFlow", "targetRef"),
    ("exclusiveGateway", "default"),
    ("inclusiveGateway", "default"),
    ("complexGateway", "default"),
    ("boundaryEvent", "attachedToRef"),
    ("participant", "processRef"),
)


def check_structure(tree: etree._ElementTree, filename: str) -> None:
    """:raises ModelError: for the first structural problem found."""
    root = tree.getroot()
    ids: dict[str, etree._Element] = {}
    for element in root.iter():
        element_id = element.get("id") if isinstance(element.tag, str) else None
        if element_id is None or etree.QName(element).namespace == SPIFF_NS:
            continue  # spiffworkflow:parameter uses "id" for parameter names, not as an XML id
        if element_id in ids:
            raise ModelError(
                "Die ID ist mehrfach vergeben.", filename=filename, line=element.sourceline, element_id=element_id
            )
        ids[element_id] = element
        if element_id in RESERVED_IDS:
            raise ModelError(
                f"Die ID '{element_id}' ist für die Engine reserviert; bitte umbenennen (z. B. 'Event_{element_id}').",
                filename=filename,
                line=element.sourceline,
                element_id=element_id,
            )
    processes = root.findall("bpmn:process", NS)
    if not processes:
        raise ModelError("Die Datei enthält keinen <bpmn:process>.", filename=filename, line=root.sourceline)
    for tag, attribute in _ID_REFERENCES:
        for element in root.iterfind(f".//bpmn:{tag}", NS):
            target = element.get(attribute)
            if target and target not in ids:
                raise ModelError(
                    f"{attribute}='{target}' verweist auf ein Element, das es nicht gibt.",
                    filename=filename,
                    line=element.sourceline,
                    element_id=element.get("id", ""),
                )
    for ref in root.iterfind(".//bpmn:flowNodeRef", NS):
        if (ref.text or "").strip() not in ids:
            raise ModelError(
                f"Die Lane verweist auf '{(ref.text or '').strip()}', das es nicht gibt.",
                filename=filename,
                line=ref.sourceline,
            )
    for shape in root.iterfind(".//bpmndi:*[@bpmnElement]", NS):
        if shape.get("bpmnElement") not in ids:
            raise ModelError(
                f"Das Diagramm verweist auf '{shape.get('bpmnElement')}', das es nicht gibt.",
                filename=filename,
                line=shape.sourceline,
                element_id=shape.get("id", ""),
            )
    for process in processes:
        if process.get("isExecutable", "true") == "false":
            continue
        if process.find("bpmn:startEvent", NS) is None:
            raise ModelError(
                "Der Prozess hat kein Startereignis.",
                filename=filename,
                line=process.sourceline,
                element_id=process.get("id", ""),
            )
