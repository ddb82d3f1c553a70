"""Task labels from case data: which document (or person, or month) one of several like-named tasks is about.

A task's model property ``egsLabel`` is a template such as ``{unterlage}`` or ``Unterlage {unterlage} bis
{frist_bis}``: each ``{field}`` stands for a value of the task's data. The jail reads the values the template
names when the task becomes ready (``label_values``, plain strings); the parent renders the label with the
titles of the forms' choices (``render``) and stores it on the inbox row. Nothing in a template is evaluated:
only field names are looked up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from .forms import form_fields

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]{0,63})\}")
MAX_VALUE = 200
MAX_LABEL = 200


def fields_in(template: str | None) -> list[str]:
    """The field names a template refers to, in order."""
    return PLACEHOLDER.findall(template or "")


def problems(template: str) -> list[str]:
    """What is wrong with a template (for the model lint): braces that are not a ``{field}``."""
    rest = PLACEHOLDER.sub("", template)
    return ["Geschweifte Klammern nur um einen Feldnamen: {feld}."] if "{" in rest or "}" in rest else []


def label_values(template: str | None, data: Mapping[str, Any]) -> dict[str, list[str]]:
    """The values a template names, as short strings (a list's items each); missing or empty ones left out."""
    values: dict[str, list[str]] = {}
    for name in fields_in(template):
        value = data.get(name)
        parts = list(value) if isinstance(value, list | tuple) else [value]
        shown = [str(part)[:MAX_VALUE] for part in parts[:20] if part is not None and part != ""]
        if shown:
            values[name] = shown
    return values


def render(template: str | None, values: Mapping[str, list[str]], forms: Mapping[str, Any]) -> str | None:
    """The label: each ``{field}`` replaced by its value – a choice by its title from the forms, an ISO date as
    TT.MM.JJJJ; None if the template names no value that is set."""
    titles, restricted = _fields_of(forms, set(fields_in(template)))
    values = {name: parts for name, parts in values.items() if name not in restricted}
    if not template or not any(name in values for name in fields_in(template)):
        return None

    def shown(match: re.Match[str]) -> str:
        choices = titles.get(match.group(1), {})
        return ", ".join(_readable(choices.get(part, part)) for part in values.get(match.group(1), []))

    text = " ".join(PLACEHOLDER.sub(shown, template).split())
    return text[:MAX_LABEL] or None


def _fields_of(forms: Mapping[str, Any], names: set[str]) -> tuple[dict[str, dict[str, str]], set[str]]:
    """Titles of the choices of the named fields, and those of them shown only to some groups
    (``x-sichtbarFuer``): a label is seen by everyone who sees the task, so those never appear in one."""
    titles: dict[str, dict[str, str]] = {}
    restricted: set[str] = set()
    for schema in forms.values():
        for spec in form_fields(schema):
            if spec.name not in names:
                continue
            if spec.schema.get("x-sichtbarFuer"):
                restricted.add(spec.name)
            if spec.options and spec.name not in titles:
                titles[spec.name] = dict(spec.options)
    return titles, restricted


def _readable(value: str) -> str:
    try:
        return date.fromisoformat(value).strftime("%d.%m.%Y") if len(value) == 10 else value
    except ValueError:
        return value
