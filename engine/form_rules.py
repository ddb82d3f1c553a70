"""Cross-field rules of a form: messages for JSON Schema rules (``x-fehlermeldung``) and comparisons (``x-regeln``).

JSON Schema states most cross-field rules itself (``allOf`` with ``if``/``then``, ``dependentRequired``,
``dependentSchemas``). ``x-fehlermeldung`` on a (sub-)schema is the German message for any failure inside it,
shown at the field the failure is about. What JSON Schema cannot say – a field compared with another field or
with the case's data, or with a sum of fields – is ``x-regeln``: a list of comparisons, each with the field its
message belongs to (see docs/modelling.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any

from jsonschema.exceptions import ValidationError

from .clock import BERLIN

RULE_KEYS = frozenset({"feld", "mindestens", "hoechstens", "meldung"})
OPERATORS = ("mindestens", "hoechstens")


def custom_message(schema: Mapping[str, Any], error: ValidationError) -> str | None:
    """The ``x-fehlermeldung`` of the innermost (sub-)schema around a JSON Schema error, if any."""
    node: Any = schema
    found = node.get("x-fehlermeldung") if isinstance(node, Mapping) else None
    for key in list(error.absolute_schema_path)[:-1]:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, Mapping) and isinstance(node.get("x-fehlermeldung"), str):
            found = node["x-fehlermeldung"]
    return found if isinstance(found, str) else None


def rule_problems(schema: Mapping[str, Any]) -> list[str]:
    """Describe what is wrong with a form's ``x-regeln`` (empty list = fine), in German for the modeller."""
    rules = schema.get("x-regeln")
    if rules is None:
        return []
    if not isinstance(rules, list):
        return ["'x-regeln' muss eine Liste sein."]
    properties = schema.get("properties", {})
    problems: list[str] = []
    for number, rule in enumerate(rules, start=1):
        where = f"x-regeln, Regel {number}"
        if not isinstance(rule, dict):
            problems.append(f"{where}: muss ein Objekt sein.")
            continue
        unknown = sorted(set(rule) - RULE_KEYS)
        if unknown:
            problems.append(f"{where}: unbekannte Schlüssel {unknown}.")
        if rule.get("feld") not in properties:
            problems.append(f"{where}: 'feld' muss ein Feld dieses Formulars nennen.")
        if not isinstance(rule.get("meldung"), str) or not rule["meldung"].strip():
            problems.append(f"{where}: 'meldung' (deutscher Text) fehlt.")
        operators = [op for op in OPERATORS if op in rule]
        if len(operators) != 1:
            problems.append(f"{where}: genau eines von 'mindestens' oder 'hoechstens' angeben.")
        elif not _valid_term(rule[operators[0]]):
            problems.append(f'{where}: Vergleichswert muss ein Feldname, eine Zahl oder {{"summe": [...]}} sein.')
    return problems


def rule_names(schema: Mapping[str, Any]) -> set[str]:
    """Every field or case-data name the ``x-regeln`` of a form refer to."""
    names: set[str] = set()
    for rule in schema.get("x-regeln") or []:
        for operator in OPERATORS:
            if operator in rule:
                names |= _names(rule[operator])
    return names


def rule_errors(
    schema: Mapping[str, Any], data: Mapping[str, Any], case_data: Mapping[str, Any]
) -> Iterator[tuple[str, str]]:
    """Yield (field, message) for every rule of ``x-regeln`` the submission breaks.

    A rule is checked only when all its values are present and comparable (numbers, or dates): missing
    values are the business of ``required``. Names are looked up in the submission, then in the case's data.
    """
    for rule in schema.get("x-regeln") or []:
        operator = next((op for op in OPERATORS if op in rule), None) if isinstance(rule, dict) else None
        if operator is None or "feld" not in rule:
            continue
        left = _comparable(data.get(rule["feld"]))
        right = _comparable(_term(rule[operator], data, case_data))
        if _broken(operator, left, right):
            yield rule["feld"], rule["meldung"]


def _broken(operator: str, left: float | date | None, right: float | date | None) -> bool:
    """Whether two values of the same kind break the comparison (values of different kinds break nothing)."""
    if isinstance(left, float) and isinstance(right, float):
        return left < right if operator == "mindestens" else left > right
    if isinstance(left, date) and isinstance(right, date):
        return left < right if operator == "mindestens" else left > right
    return False


def _valid_term(term: Any) -> bool:
    if isinstance(term, bool):
        return False
    if isinstance(term, int | float):
        return True
    if isinstance(term, str):
        return bool(term)
    if isinstance(term, dict) and set(term) == {"summe"} and isinstance(term["summe"], list):
        return bool(term["summe"]) and all(_valid_term(t) for t in term["summe"])
    return False


def _names(term: Any) -> set[str]:
    if isinstance(term, str):
        return {term}
    if isinstance(term, dict):
        return {name for t in term.get("summe", []) for name in _names(t)}
    return set()


def _term(term: Any, data: Mapping[str, Any], case_data: Mapping[str, Any]) -> Any:
    """The value of a term: a literal number, a named value (a ticked box counts 1) or a sum (None if incomplete)."""
    if isinstance(term, str):
        value = data[term] if term in data else case_data.get(term)
        return int(value) if isinstance(value, bool) else value
    if isinstance(term, dict):
        parts = [_term(t, data, case_data) for t in term["summe"]]
        if any(isinstance(p, bool) or not isinstance(p, int | float) for p in parts):
            return None
        return sum(parts)
    return term


def _comparable(value: Any) -> float | date | None:
    """Numbers as numbers, ISO dates (and timestamps, by their day in Berlin) as dates, anything else None."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.astimezone(BERLIN).date() if moment.tzinfo else moment.date()
