"""Property-based fuzzing of the analysis of uploaded models: whatever the file – our models mutated byte by
byte, or trees generated from BPMN, DI, SpiffWorkflow and vendor vocabulary – the analysis returns findings or
raises ModelError, never another exception, and answers within a generous time bound (measured per file)."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from engine.errors import ModelError
from engine.model_analysis import Analysis
from tests.support.engines import PROCESSES
from tests.support.foreign import FOREIGN, analysed

TIME_BOUND = 5.0  # seconds per file; the fixtures take well under one
SEEDS = [path.read_bytes() for path in sorted(PROCESSES.glob("*.bpmn"))[:6] + sorted(FOREIGN.glob("*.bpmn"))]
FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
slowest: list[float] = [0.0]


def check(content: bytes) -> Analysis | ModelError:
    """The property: findings or a ModelError, nothing else, within the bound."""
    started = time.perf_counter()
    try:
        outcome: Analysis | ModelError = analysed(content, "fuzz.bpmn")
    except ModelError as exc:
        outcome = exc
    elapsed = time.perf_counter() - started
    assert elapsed < TIME_BOUND, f"{elapsed:.2f} s"
    if isinstance(outcome, Analysis):
        assert all(f.message for f in outcome.findings)
    return outcome


# --- mutations of real files -----------------------------------------------------------------------------------

TOKENS = [b"<", b">", b"/>", b'"', b"&", b"&amp;", b"<!DOCTYPE x>", b"]]>", b"<![CDATA[", b"\x00", b"\xff\xfe",
          b'id="Start"', b'isExecutable="false"', b"<bpmn:complexGateway id='g'/>", b"${x}", b"import os",
          b'xmlns:camunda="http://camunda.org/schema/1.0/bpmn"', b"\xc3\xa4", b"\n" * 3]  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["delete", "insert", "duplicate", "flip", "truncate"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "delete":
            del data[at : at + draw(st.integers(1, 400))]
        elif kind == "insert":
            data[at:at] = draw(st.one_of(st.sampled_from(TOKENS), st.binary(max_size=20)))
        elif kind == "duplicate":
            end = at + draw(st.integers(1, 2000))
            data[end:end] = data[at:end] * draw(st.integers(1, 3))
        elif kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del data[at:]
    return bytes(data)


@FUZZ
@given(mutated())
def test_mutated_models_give_findings_or_a_model_error_in_time(content: bytes) -> None:
    check(content)


@st.composite
def pruned(draw: st.DrawFn) -> bytes:
    """A real file with elements removed, moved or given other attribute values: well-formed, but broken inside."""
    root = etree.fromstring(draw(st.sampled_from(SEEDS)))
    elements = [e for e in root.iter() if isinstance(e.tag, str) and e is not root]
    for _ in range(draw(st.integers(1, 8))):
        element = draw(st.sampled_from(elements))
        kind = draw(st.sampled_from(["remove", "move", "attribute", "text"]))
        parent = element.getparent()
        if kind == "remove" and parent is not None:
            parent.remove(element)
        elif kind == "move" and parent is not None:
            target = draw(st.sampled_from(elements))
            if element not in target.iterancestors() and target is not element:
                target.append(element)
        elif kind == "attribute":
            name = draw(st.sampled_from(["id", "sourceRef", "targetRef", "isExecutable", "name", "default"]))
            element.set(name, draw(st.sampled_from([*IDS, "", "false"])))
        else:
            element.text = draw(TEXTS) or None
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@FUZZ
@given(pruned())
def test_models_broken_inside_give_findings_or_a_model_error_in_time(content: bytes) -> None:
    check(content)


# --- generated trees -------------------------------------------------------------------------------------------

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
DI = "http://www.omg.org/spec/BPMN/20100524/DI"
NSMAP = {"bpmn": BPMN, "spiffworkflow": SPIFF, "camunda": CAMUNDA, "bpmndi": DI}
TAGS = [f"{{{BPMN}}}{t}" for t in (
    "process", "startEvent", "endEvent", "userTask", "scriptTask", "serviceTask", "task", "exclusiveGateway",
    "complexGateway", "sequenceFlow", "laneSet", "lane", "flowNodeRef", "extensionElements", "script",
    "conditionExpression", "subProcess", "callActivity", "boundaryEvent", "timerEventDefinition", "timeDuration",
    "linkEventDefinition", "collaboration", "participant", "businessRuleTask", "incoming", "outgoing",
)] + [f"{{{SPIFF}}}{t}" for t in ("properties", "property", "serviceTaskOperator", "preScript", "calledDecisionId")] + [
    f"{{{CAMUNDA}}}inputOutput", f"{{{DI}}}BPMNShape", "{urn:fremd}etwas",
]  # fmt: skip
IDS = ["A", "B", "C", "Start", "End", "p", "Task_1", "Flow_1", "Gateway_1"]
ATTRIBUTES = {
    "id": st.sampled_from(IDS),
    "name": st.sampled_from(["EGS", "LSB", "Sachbearbeitung", "egsRole", "x" * 300, "ä ö ü", ""]),
    "value": st.sampled_from(["Durchführender", "foo.json", "EGS", "56.4", ""]),
    "sourceRef": st.sampled_from(IDS),
    "targetRef": st.sampled_from(IDS),
    "isExecutable": st.sampled_from(["true", "false", "maybe"]),
    "default": st.sampled_from(IDS),
    "scriptFormat": st.sampled_from(["python", "groovy", "javascript", ""]),
    "calledElement": st.sampled_from(IDS),
    "attachedToRef": st.sampled_from(IDS),
    "bpmnElement": st.sampled_from(IDS),
    f"{{{CAMUNDA}}}assignee": st.just("${chef}"),
}
TEXTS = st.sampled_from(["", "x = 1", "${a > 1}", "a ==", "import os", "return 1", "(" * 300, "'P14D'", "Start",
                         "konfig('fristen.unterlagen_tage')", "\u00a0", "def f(:"])  # fmt: skip

Node = tuple[str, dict[str, str], str, list]  # type: ignore[type-arg]

nodes: st.SearchStrategy[Node] = st.recursive(
    st.tuples(st.sampled_from(TAGS), st.dictionaries(st.sampled_from(sorted(ATTRIBUTES)), st.just(""), max_size=4),
              TEXTS, st.just([])),
    lambda children: st.tuples(st.sampled_from(TAGS), st.dictionaries(st.sampled_from(sorted(ATTRIBUTES)),
                                                                       st.just(""), max_size=4),
                               TEXTS, st.lists(children, max_size=6)),
    max_leaves=60,
)  # fmt: skip


@st.composite
def generated(draw: st.DrawFn) -> bytes:
    root = etree.Element(f"{{{BPMN}}}definitions", nsmap=NSMAP)
    for node in draw(st.lists(nodes, min_size=1, max_size=4)):
        _build(draw, root, node)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _build(draw: st.DrawFn, parent: etree._Element, node: Node) -> None:
    tag, attributes, text, children = node
    element = etree.SubElement(parent, tag)
    for name in attributes:
        element.set(name, draw(ATTRIBUTES[name]))
    element.text = text or None
    for child in children:
        _build(draw, element, child)


@FUZZ
@given(generated())
def test_generated_trees_give_findings_or_a_model_error_in_time(content: bytes) -> None:
    check(content)


def test_a_large_model_is_analysed_within_the_bound() -> None:
    """A 0.9 MB file (the upload takes up to 1 MB) of 40 copies of a real process: measured, not only generated."""
    seed = (PROCESSES / "besuchersteuerung.bpmn").read_text(encoding="utf-8")
    head, _, rest = seed.partition("<bpmn:process ")
    body = "<bpmn:process " + rest[: rest.index("</bpmn:process>")] + "</bpmn:process>\n"
    copies = [body.replace('id="', f'id="k{n}_').replace('Ref="', f'Ref="k{n}_') for n in range(40)]
    content = (head + "".join(copies) + "</bpmn:definitions>").encode()
    assert len(content) > 900_000
    outcome = check(content)
    assert isinstance(outcome, Analysis) and outcome.executable_ids[:2] == (
        "k0_besuchersteuerung",
        "k1_besuchersteuerung",
    )
