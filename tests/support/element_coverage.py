"""Which flow nodes and gateway/boundary flows of the real models (processes/) the tests executed.

After every test with a deployed engine, the cases in its database are loaded and every COMPLETED
task is recorded, together with the step that led to it. At the end of the session the report lists
what no test reached; with EGS_REQUIRE_ELEMENT_COVERAGE=1 (CI) anything unreached fails the run.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from lxml import etree
from SpiffWorkflow.util.task import TaskState

from engine.api import Engine
from engine.case_path import all_tasks, previous_step
from engine.models import ProcessInstance
from engine.safe_xml import NS

FLOW_NODE_TAGS = (
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "businessRuleTask", "sendTask",
    "receiveTask", "callActivity", "subProcess", "exclusiveGateway", "inclusiveGateway",
    "parallelGateway", "eventBasedGateway",
)  # fmt: skip
BRANCHING = ("exclusiveGateway", "inclusiveGateway", "eventBasedGateway", "boundaryEvent")


@dataclass
class ModelUniverse:
    """Flow nodes and branching flows of every executable process in the model folder."""

    nodes: dict[str, dict[str, str]] = field(default_factory=dict)  # process → node id → name
    branches: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)  # process → flow id → (src, dst)
    owner: dict[str, str] = field(default_factory=dict)  # spec name (process or sub-process id) → process

    @classmethod
    def read(cls, folder: Path) -> ModelUniverse:
        universe = cls()
        for path in sorted(folder.glob("*.bpmn")):
            root = etree.parse(str(path)).getroot()
            for process in root.iterfind("bpmn:process", NS):
                if process.get("isExecutable", "true") == "false":
                    continue
                pid = process.get("id", "")
                universe.owner[pid] = pid
                for sub in process.iterfind(".//bpmn:subProcess", NS):
                    universe.owner[sub.get("id", "")] = pid
                kinds: dict[str, str] = {}
                names: dict[str, str] = {}
                for tag in FLOW_NODE_TAGS:
                    for node in process.iterfind(f".//bpmn:{tag}", NS):
                        kinds[node.get("id", "")] = tag
                        names[node.get("id", "")] = " ".join((node.get("name") or node.get("id", "")).split())
                universe.nodes[pid] = names
                universe.branches[pid] = {
                    flow.get("id", ""): (flow.get("sourceRef", ""), flow.get("targetRef", ""))
                    for flow in process.iterfind(".//bpmn:sequenceFlow", NS)
                    if kinds.get(flow.get("sourceRef", "")) in BRANCHING
                }
        return universe


@dataclass
class Reached:
    """What the tests executed; pytest-xdist workers send theirs to the controller as JSON."""

    nodes: set[tuple[str, str]] = field(default_factory=set)
    steps: set[tuple[str, str, str]] = field(default_factory=set)  # (process, from node, to node)

    def to_json(self) -> str:
        return json.dumps({"nodes": sorted(self.nodes), "steps": sorted(self.steps)})

    @classmethod
    def from_json(cls, text: str) -> Reached:
        data = json.loads(text)
        return cls({(p, n) for p, n in data["nodes"]}, {(p, a, b) for p, a, b in data["steps"]})

    def merge(self, other: Reached) -> None:
        self.nodes |= other.nodes
        self.steps |= other.steps


def record_engine(engine: Engine, universe: ModelUniverse, reached: Reached) -> None:
    """Add what the cases in the engine's database executed."""
    with engine.db.reading() as session:
        rows = session.scalars(sa.select(ProcessInstance)).all()
        for row in rows:
            if row.state == "{}":
                continue
            _, workflow = engine.runtime.load(session, row)
            for task in all_tasks(workflow):
                if task.state != TaskState.COMPLETED or not task.task_spec.bpmn_id:
                    continue
                process = universe.owner.get(task.workflow.spec.name)
                if process is None:
                    continue
                reached.nodes.add((process, task.task_spec.bpmn_id))
                before = previous_step(task)
                if before is not None:
                    reached.steps.add((process, before.task_spec.bpmn_id, task.task_spec.bpmn_id))


def report(universe: ModelUniverse, reached: Reached) -> tuple[list[str], int, int, int, int]:
    """Lines of the report, plus (nodes reached, nodes total, branches taken, branches total)."""
    lines: list[str] = []
    node_total = node_hit = branch_total = branch_hit = 0
    missing: dict[str, list[str]] = defaultdict(list)
    for process, names in sorted(universe.nodes.items()):
        for node_id, name in sorted(names.items()):
            node_total += 1
            if (process, node_id) in reached.nodes:
                node_hit += 1
            else:
                missing[process].append(f"Knoten {node_id} „{name}“")
        for flow_id, (source, target) in sorted(universe.branches[process].items()):
            branch_total += 1
            if (process, source, target) in reached.steps:
                branch_hit += 1
            else:
                missing[process].append(f"Fluss {flow_id} ({source} → {target})")
    for process, items in missing.items():
        lines.append(f"{process}: nicht erreicht: " + "; ".join(items))
    return lines, node_hit, node_total, branch_hit, branch_total
