"""The check of a decision table file (DMN) before it is stored as a draft or deployed: the safe XML parse,
SpiffWorkflow's own parse (with the DMN schema), and every expression and cell compiled in the sandbox, so
that a typing error in a cell is refused here instead of stopping a case later."""

from __future__ import annotations

import ast
import copy
import re

from lxml import etree
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser

from .errors import ModelError, ScriptError
from .model_lint import ModelLintError
from .model_loader import _spiff_errors
from .safe_xml import parse_model_xml
from .scripting import compile_snippet

# What SpiffWorkflow's DMN engine does: UNIQUE and FIRST give the first matching rule, COLLECT every match
# (as lists, without aggregation). Other hit policies would silently behave like FIRST: refused.
HIT_POLICIES = frozenset({"UNIQUE", "FIRST", "COLLECT"})
# SpiffWorkflow replaces "?" outside quotes with the input value (``DMNEngine.evaluate``).
_STRINGS = re.compile(r"\"[^\"]*\"|'[^']*'")
_FEEL_CALLS = re.compile(r"\b(?:date|time|duration|date and time)\s*\(\s*[\"']|^\s*not\s*\(")
_FEEL_NAMES = frozenset({"true", "false", "null"})
_QUESTION_MARK = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")


def _local(element: etree._Element, name: str) -> list[etree._Element]:
    return list(element.xpath("*[local-name()=$name]", name=name))


def _bare_tuple(text: str) -> bool:
    try:
        body = ast.parse(text, mode="eval").body
    except SyntaxError:
        return False
    return isinstance(body, ast.Tuple) and not text.lstrip().startswith("(")


def decision_ids(tree: etree._ElementTree) -> set[str]:
    """The ids of the decisions in a parsed DMN file."""
    return {str(i) for i in tree.getroot().xpath("//*[local-name()='decision']/@id")}


def check_dmn(xml: str, filename: str, max_bytes: int) -> etree._ElementTree:
    """Check a decision table file as a deploy would and return its parsed tree.

    :raises ModelError: (``ModelLintError`` with every problem of the cells) for oversized, hostile
        (DOCTYPE/entities), malformed or non-DMN text, anything SpiffWorkflow cannot parse, an unsupported hit
        policy, or an expression or cell that does not compile in the sandbox.
    """
    tree = parse_model_xml(xml.encode("utf-8"), filename, "dmn", max_bytes)
    decisions = tree.getroot().xpath("*[local-name()='decision']")
    if len(decisions) != 1:
        raise ModelError("Die Datei muss genau eine Entscheidung (decision) enthalten.", filename=filename)
    tables = _local(decisions[0], "decisionTable")
    if len(tables) != 1:
        raise ModelError("Die Entscheidung muss genau eine Entscheidungstabelle enthalten.", filename=filename,
                         element_id=decisions[0].get("id", ""))  # fmt: skip
    problems = _cell_problems(tables[0], filename)  # first: German messages naming the rule
    if problems:
        raise ModelLintError(problems)
    parser = SpiffBpmnParser(validator=VALIDATOR)
    with _spiff_errors(filename, tree):
        parser.add_dmn_xml(copy.deepcopy(tree.getroot()), filename=filename)
        for dmn_parser in parser.dmn_parsers.values():
            dmn_parser.parse()
    return tree


def _cell_problems(table: etree._Element, filename: str) -> list[ModelError]:
    problems: list[ModelError] = []
    policy = table.get("hitPolicy", "UNIQUE").upper()
    if policy not in HIT_POLICIES or table.get("aggregation"):
        problems.append(ModelError(
            f"Die Trefferregel „{policy}{' ' + table.get('aggregation', '') if table.get('aggregation') else ''}“ "
            "wird nicht unterstützt (erlaubt: UNIQUE, FIRST, COLLECT ohne Zusammenfassung).",
            filename=filename, line=table.sourceline, element_id=table.get("id", ""),
        ))  # fmt: skip

    def compile_or_note(text: str, owner: etree._Element, what: str, *sources: str) -> None:
        detail = ""
        for source in sources:
            try:
                compile_snippet(source, "eval")
                return
            except ScriptError as error:
                detail = error.detail
        message = f"{what} „{text.strip()[:80]}“ ist kein gültiger Ausdruck: {detail}"
        problems.append(ModelError(message, filename=filename, line=owner.sourceline, element_id=owner.get("id", "")))

    def feel_names(text: str, owner: etree._Element, what: str) -> bool:
        """FEEL's true/false/null compile as (unknown) names and would stop the case when it decides."""
        found = sorted(_FEEL_NAMES & set(re.findall(r"\b(true|false|null)\b", _STRINGS.sub('""', text))))
        if _FEEL_CALLS.search(text):
            problems.append(ModelError(
                f"{what} „{text.strip()[:80]}“ ist FEEL-Schreibweise (date(\"…\"), duration(…), not(…)); bitte als "
                'Python-Ausdruck schreiben, ein Datum als Text "JJJJ-MM-TT" (z. B. < "2025-04-01").',
                filename=filename, line=owner.sourceline, element_id=owner.get("id", ""),
            ))  # fmt: skip
            return True
        if found:
            problems.append(ModelError(
                f"{what} „{text.strip()[:80]}“ verwendet {', '.join(found)} (FEEL-Schreibweise); "
                "bitte True, False oder None schreiben.",
                filename=filename, line=owner.sourceline, element_id=owner.get("id", ""),
            ))  # fmt: skip
        return bool(found)

    for expression in table.xpath("*[local-name()='input']/*[local-name()='inputExpression']"):
        text = "".join(expression.xpath("*[local-name()='text']/text()"))
        if text.strip() and not feel_names(text, expression, "Der Eingabeausdruck"):
            compile_or_note(text, expression, "Der Eingabeausdruck", text)
    for rule_number, rule in enumerate(_local(table, "rule"), start=1):
        for entry in _local(rule, "inputEntry"):
            text = "".join(entry.xpath("*[local-name()='text']/text()")).strip()
            what = f"Regel {rule_number}: Die Bedingung"
            if text and text != "-" and not feel_names(text, entry, what):
                if _QUESTION_MARK.search(text):
                    compile_or_note(text, entry, what, _QUESTION_MARK.sub("dmninputexpr", text))
                elif _bare_tuple(text):  # dmn-js' "match one" writes "a","b": Python compares with the tuple
                    problems.append(ModelError(
                        f"{what} „{text[:80]}“ nennt mehrere Werte ohne Klammern; bitte in (\"a\", \"b\") schreiben.",
                        filename=filename, line=entry.sourceline, element_id=entry.get("id", ""),
                    ))  # fmt: skip
                else:  # as SpiffWorkflow does: "== text", or "input text" for "< 5", "in (…)"
                    compile_or_note(text, entry, what, text, f"v {text}")
        for entry in _local(rule, "outputEntry"):
            text = "".join(entry.xpath("*[local-name()='text']/text()")).strip()
            what = f"Regel {rule_number}: Das Ergebnis"
            if text and not feel_names(text, entry, what):
                compile_or_note(text, entry, what, text)
    return problems
