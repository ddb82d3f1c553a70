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
            found.append((script.text or "", "exec", script.getparent().get("id", ""), script.sourceline))
        for tag in ("preScript", "postScript"):
            for script in root.iterfind(f".//spiffworkflow:{tag}", NS):
                owner = script.getparent().getparent()
                found.append((script.text or "", "exec", owner.get("id", ""), script.sourceline))
        for condition in root.iterfind(".//bpmn:conditionExpression", NS):
            found.append((condition.text or "", "eval", condition.getparent().get("id", ""), condition.sourceline))
        for tag in ("timeDuration", "timeDate", "timeCycle"):
            for timer in root.iterfind(f".//bpmn:{tag}", NS):
                event = timer.getparent().getparent()
                found.append((timer.text or "", "eval", event.get("id", ""), timer.sourceline))
        for payload in root.iterfind(".//spiffworkflow:messagePayload", NS):
            event = payload.getparent().getparent().getparent()
            found.append((payload.text or "", "eval", event.get("id", ""), payload.sourceline))
        for text in root.xpath(
            "//*[local-name()='inputExpression' or local-name()='outputEntry']/*[local-name()='text']"
        ):
            owner = text.getparent()
            found.append((text.text or "", "eval", owner.get("id", ""), text.sourceline))
    return [s for s in found if s[0].strip()]


def variables_set_by_models(trees: Iterable[etree._ElementTree]) -> set[str]:
    """Names that message catches and decision tables write into the case data."""
    names: set[str] = set()
    for tree in trees:
        root = tree.getroot()
        names |= {(v.text or "").strip() for v in root.iterfind(".//spiffworkflow:messageVariable", NS)}
        names |= {str(n) for n in root.xpath("//*[local-name()='serviceTaskOperator']/@resultVariable")}
        names |= {str(n) for n in root.xpath("//*[local-name()='output']/@name")}
    return {n for n in names if n}
