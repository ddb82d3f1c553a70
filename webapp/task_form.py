"""What each input of a task form shows: its value, its errors and whether it is read-only.

Prefill order: what the user just entered (after a 422) > the case's value > the schema default >
today for ``x-defaultToday`` dates. An ``x-immutable`` field that already has a case value is shown
read-only with that value, whatever was submitted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from engine.forms import FieldSpec

from .formatting import datum, datumzeit, wert

Value = str | bool | tuple[str, ...]


class Submitted(Protocol):
    """The part of a MultiDict (``request.form``) this module reads."""

    def getlist(self, key: str) -> list[str]: ...


@dataclass(frozen=True)
class FieldState:
    """One form input ready for the template."""

    spec: FieldSpec
    value: Value
    readonly: bool
    errors: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"feld-{self.spec.name}"

    @property
    def anchor(self) -> str:
        """The element the error summary links to (the first option of a group)."""
        return f"{self.id}-0" if self.spec.widget in ("radio", "checkboxes") and self.spec.options else self.id

    @property
    def shown(self) -> str:
        """The value as text, for read-only display."""
        if isinstance(self.value, bool):
            return "Ja" if self.value else "Nein"
        if isinstance(self.value, tuple):
            return wert(list(self.value), self.spec)
        return wert(self.value, self.spec) if self.spec.options else self.value

    def checked(self, option: str) -> bool:
        return option in self.value if isinstance(self.value, tuple) else self.value == option


@dataclass(frozen=True)
class SummaryItem:
    """One line of the error summary; ``anchor`` is None for errors not tied to a shown field."""

    anchor: str | None
    text: str


def _from_stored(spec: FieldSpec, value: Any) -> Value:
    """Turn a stored JSON value into what the input shows."""
    if spec.type == "boolean":
        return bool(value)
    if spec.type == "array":
        return tuple(str(v) for v in value) if isinstance(value, list | tuple) else ()
    if value is None:
        return ""
    if spec.schema.get("format") == "date":
        return datum(value)
    if spec.schema.get("format") == "date-time":
        return datumzeit(value)
    if isinstance(value, float):
        return (str(int(value)) if value == int(value) else str(value)).replace(".", ",")
    return str(value)


def _from_submitted(spec: FieldSpec, values: Sequence[str]) -> Value:
    if spec.type == "boolean":
        return bool(values)
    if spec.type == "array":
        return tuple(values)
    return values[-1] if values else ""


def _initial(spec: FieldSpec, data: Mapping[str, Any], today: date) -> Value:
    if data.get(spec.name) is not None:
        return _from_stored(spec, data[spec.name])
    if spec.default is not None:
        return _from_stored(spec, spec.default)
    if spec.default_today:
        return today.strftime("%d.%m.%Y")
    return _from_stored(spec, None)


def build_fields(
    fields: Sequence[FieldSpec],
    data: Mapping[str, Any],
    today: date,
    submitted: Submitted | None = None,
    errors: Mapping[str, Sequence[str]] | None = None,
) -> list[FieldState]:
    """Return the state of every input of a form."""
    errors = errors or {}
    states: list[FieldState] = []
    for spec in fields:
        locked = spec.immutable and data.get(spec.name) not in (None, "")
        if locked or submitted is None:
            value = _initial(spec, data, today)
        else:
            value = _from_submitted(spec, submitted.getlist(spec.name))
        states.append(FieldState(spec, value, locked, tuple(errors.get(spec.name, ()))))
    return states


def error_summary(states: Sequence[FieldState], errors: Mapping[str, Sequence[str]]) -> list[SummaryItem]:
    """List every error: field errors in form order (linked), then unknown fields and form-wide errors."""
    items = [SummaryItem(s.anchor, f"{s.spec.title}: {message}") for s in states for message in s.errors]
    shown = {s.spec.name for s in states}
    for name, messages in errors.items():
        if name in shown:
            continue
        for message in messages:
            items.append(SummaryItem(None, f"{name}: {message}" if name else message))
    return items
