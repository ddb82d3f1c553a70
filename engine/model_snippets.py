"""The Python snippets a model carries (scripts, conditions, timer expressions, message payloads, decision
table cells) and the case-data names it writes, for the deploy-time lint."""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from .safe_xml import NS


def snippets(process_trees: Iterable[etree._ElementTree]) -> list[tuple[str, str, str, int | None]]:
    """Return every script/expression in the trees as (source, mode, element id, line)."""
    found: list[tuple[str, str, str, int | None]] = []
    for tree in process_trees:
        root = tree.getroot()
        for script in root.iterfind(".//bpmn:scriptTask/bpmn:script", NS):
            found.append((script.text or "", "exec", _id_above(script, 1), script.sourceline))
        for tag in ("preScript", "postScript"):
            for script in root.iterfind(f".//spiffworkflow:{tag}", NS):
                found.append((script.text or "", "exec", _id_above(script, 2), script.sourceline))
        for condition in root.iterfind(".//bpmn:conditionExpression", NS):
            found.append((condition.text or "", "eval", _id_above(condition, 1), condition.sourceline))
        for tag in ("timeDuration", "timeDate", "timeCycle"):
            for timer in root.iterfind(f".//bpmn:{tag}", NS):
                found.append((timer.text or "", "eval", _id_above(timer, 2), timer.sourceline))
        for payload in root.iterfind(".//spiffworkflow:messagePayload", NS):
            found.append((payload.text or "", "eval", _id_above(payload, 3), payload.sourceline))
        for text in root.xpath(
            "//*[local-name()='inputExpression' or local-name()='outputEntry']/*[local-name()='text']"
        ):
            found.append((text.text or "", "eval", _id_above(text, 1), text.sourceline))
    return [s for s in found if s[0].strip()]


def _id_above(element: etree._Element, levels: int) -> str:
    """The id of the element ``levels`` above ``element`` (the task or event a script belongs to); '' if there is
    none (a misplaced snippet in a file from elsewhere)."""
    node: etree._Element | None = element
    for _ in range(levels):
        node = node.getparent() if node is not None else None
    return str(node.get("id", "")) if node is not None else ""


def variables_set_by_models(trees: Iterable[etree._ElementTree]) -> set[str]:
    """Names that message catches and decision tables write into the case data."""
    names: set[str] = set()
    for tree in trees:
        root = tree.getroot()
        names |= {(v.text or "").strip() for v in root.iterfind(".//spiffworkflow:messageVariable", NS)}
        names |= {str(n) for n in root.xpath("//*[local-name()='serviceTaskOperator']/@resultVariable")}
        names |= {str(n) for n in root.xpath("//*[local-name()='output']/@name")}
    return {n for n in names if n}
