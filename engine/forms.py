"""User-task forms: JSON Schema files, their fields for rendering, and server-side validation in German.

A submission is first coerced from HTML form strings to JSON types (``coerce_submission``), then
validated (``validate_submission``): JSON Schema plus our keywords ``x-immutable``, ``x-notInFuture`` and the
cross-field rules of ``engine.form_rules`` (``x-fehlermeldung``, ``x-regeln``). Unknown keys are always rejected,
whatever the schema says.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import SchemaError, ValidationError

from . import clock
from .errors import FormValidationError, ModelError
from .form_formats import FORMAT_CHECKER, date_input_problem, nonexistent_day, parse_date_input, parse_date_time_input
from .form_rules import custom_message, rule_errors, rule_problems


def load_form(path: Path, max_bytes: int) -> dict[str, Any]:
    """Read and check one form file.

    :raises ModelError: if it is missing, too large, not JSON or not a valid object schema.
    """
    name = path.name
    if not path.is_file():
        raise ModelError("Das Formular existiert nicht.", filename=name)
    if path.stat().st_size > max_bytes:
        raise ModelError(f"Das Formular ist größer als {max_bytes} Bytes.", filename=name)
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise ModelError(f"Kein gültiges JSON ({exc}).", filename=name, line=line) from exc
    check_schema(schema, name)
    return dict(schema)


def check_schema(schema: Any, name: str) -> None:
    """Check that a form schema is a valid draft 2020-12 object schema with fields we can render.

    :raises ModelError: naming the form file.
    """
    if not isinstance(schema, dict):
        raise ModelError("Das Formular muss ein JSON-Objekt sein.", filename=name)
    problem = _metaschema_problem(json.dumps(schema, sort_keys=True))
    if problem is not None:
        raise ModelError(f"Kein gültiges JSON Schema: {problem}", filename=name)
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        raise ModelError("Das Formular muss 'type: object' mit 'properties' sein.", filename=name)
    for key, prop in schema["properties"].items():
        if not isinstance(prop, dict) or prop.get("type") not in FIELD_TYPES:
            raise ModelError(f"Feld '{key}' hat keinen unterstützten Typ {sorted(FIELD_TYPES)}.", filename=name)
    for problem in rule_problems(schema):
        raise ModelError(problem, filename=name)


def _multiple_of(validator: Any, divisor: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    """``multipleOf`` in decimal arithmetic: 1234.56 is a multiple of 0.01 (binary floats say it is not)."""
    if not validator.is_type(instance, "number"):
        return
    try:
        quotient = Decimal(str(instance)) / Decimal(str(divisor))
    except (InvalidOperation, ValueError):
        quotient = Decimal("0.5")
    if quotient != quotient.to_integral_value():
        yield ValidationError(f"{instance!r} is not a multiple of {divisor}")


FormValidator = validators.extend(Draft202012Validator, {"multipleOf": _multiple_of})


@lru_cache(maxsize=1024)
def _metaschema_problem(schema_text: str) -> str | None:
    """Check a schema against the draft 2020-12 metaschema (slow: cached by content)."""
    try:
        Draft202012Validator.check_schema(json.loads(schema_text))
    except SchemaError as exc:
        return str(exc.message)
    return None


FIELD_TYPES = frozenset({"string", "integer", "number", "boolean", "array"})


@dataclass(frozen=True)
class FieldSpec:
    """One input of a form, as the UI renders it."""

    name: str
    title: str
    type: str
    widget: str
    required: bool
    help: str = ""
    options: tuple[tuple[str, str], ...] = ()
    default: Any = None
    default_today: bool = False
    immutable: bool = False
    schema: Mapping[str, Any] = field(default_factory=dict)


def form_fields(schema: Mapping[str, Any]) -> list[FieldSpec]:
    """Return the fields of a form in display order."""
    properties: Mapping[str, Any] = schema.get("properties", {})
    order = [k for k in schema.get("x-order", []) if k in properties]
    order += [k for k in properties if k not in order]
    required = set(schema.get("required", []))
    fields: list[FieldSpec] = []
    for name in order:
        prop = properties[name]
        enum_source = prop.get("items", {}) if prop.get("type") == "array" else prop
        values = enum_source.get("enum", [])
        labels = enum_source.get("x-enumNames", prop.get("x-enumNames", []))
        options = tuple((str(v), str(labels[i]) if i < len(labels) else str(v)) for i, v in enumerate(values))
        fields.append(
            FieldSpec(
                name=name,
                title=prop.get("title", name),
                type=prop["type"],
                widget=_widget(prop, options),
                required=_must_fill(prop, name in required),
                help=prop.get("x-help", prop.get("description", "")),
                options=options,
                default=prop.get("default"),
                default_today=bool(prop.get("x-defaultToday")),
                immutable=bool(prop.get("x-immutable")),
                schema=prop,
            )
        )
    return fields


def _must_fill(prop: Mapping[str, Any], required: bool) -> bool:
    """Whether the person must fill the field: a required checkbox only if it must be ticked (``const: true``);
    otherwise ``required`` only means the answer – ticked or not – is recorded."""
    if prop.get("type") == "boolean":
        return required and prop.get("const") is True
    return required


def _widget(prop: Mapping[str, Any], options: Sequence[tuple[str, str]]) -> str:
    if prop.get("x-widget"):
        return str(prop["x-widget"])
    if prop["type"] == "boolean":
        return "checkbox"
    if prop["type"] == "array":
        return "checkboxes"
    if options:
        return "select"
    if prop.get("format") == "date":
        return "date"
    if prop.get("format") == "date-time":
        return "datetime"
    if prop["type"] in ("integer", "number"):
        return "number"
    return "text"


def coerce_submission(schema: Mapping[str, Any], raw: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """Turn HTML form values (lists of strings) into JSON values according to the schema.

    Empty inputs are left out (so that ``required`` reports them); unchecked checkboxes become False.

    :raises FormValidationError: for unknown fields and values that are not numbers or dates where due.
    """
    data, errors = _coerce(schema, raw)
    if errors:
        raise FormValidationError(errors)
    return data


def check_submission(
    schema: Mapping[str, Any], raw: Mapping[str, Sequence[str]], case_data: Mapping[str, Any], today: date
) -> dict[str, Any]:
    """Coerce and validate HTML form values in one go, reporting every problem at once.

    :raises FormValidationError: with the messages of both steps (a field that could not be read
        reports only that).
    """
    data, errors = _coerce(schema, raw)
    try:
        validated = validate_submission(schema, data, case_data, today)
    except FormValidationError as exc:
        for name, messages in exc.field_errors.items():
            errors.setdefault(name, list(messages))
    if errors:
        raise FormValidationError(errors)
    return validated


def _coerce(schema: Mapping[str, Any], raw: Mapping[str, Sequence[str]]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    properties: Mapping[str, Any] = schema.get("properties", {})
    errors: dict[str, list[str]] = {}
    for key in raw:
        if key not in properties:
            errors.setdefault(key, []).append("Unbekanntes Feld.")
    data: dict[str, Any] = {}
    for name, prop in properties.items():
        values = [v.strip() for v in raw.get(name, [])]
        kind = prop.get("type")
        if kind == "boolean":
            data[name] = bool(values) and values[-1].lower() in ("on", "true", "1", "ja")
        elif kind == "array":
            data[name] = [v for v in values if v]
        elif not values or values[-1] == "":
            continue
        elif kind == "integer":
            try:
                data[name] = int(values[-1])
            except ValueError:
                errors.setdefault(name, []).append("Bitte eine ganze Zahl eingeben.")
        elif kind == "number":
            try:
                data[name] = float(values[-1].replace(",", "."))
            except ValueError:
                errors.setdefault(name, []).append("Bitte eine Zahl eingeben.")
        elif prop.get("format") == "date":
            parsed = parse_date_input(values[-1])
            if parsed is None:
                errors.setdefault(name, []).append(date_input_problem(values[-1]))
            else:
                data[name] = parsed
        elif prop.get("format") == "date-time":
            parsed = parse_date_time_input(values[-1])
            if parsed is None:
                errors.setdefault(name, []).append(date_input_problem(values[-1], with_time=True))
            else:
                data[name] = parsed
        else:
            data[name] = values[-1]
    return data, errors


_TYPE_NAMES = {"string": "Text", "integer": "ganze Zahl", "number": "Zahl", "boolean": "Ja/Nein", "array": "Liste"}


def _message(error: ValidationError, prop: Mapping[str, Any], schema: Mapping[str, Any]) -> str:
    rule_message = custom_message(schema, error)
    if rule_message:
        return rule_message
    custom = prop.get("x-errorMessage")
    value = error.validator_value
    if error.validator == "format" and isinstance(error.instance, str) and nonexistent_day(error.instance[:10]):
        return date_input_problem(error.instance[:10])
    match error.validator:
        case "required":
            return "Pflichtfeld – bitte ausfüllen."
        case "type":
            return f"Ungültiger Wert (erwartet: {_TYPE_NAMES.get(str(value), value)})."
        case "minLength":
            return "Pflichtfeld – bitte ausfüllen." if value == 1 else f"Mindestens {value} Zeichen."
        case "maxLength":
            return f"Höchstens {value} Zeichen."
        case "pattern" | "format":
            return str(custom or "Ungültiges Format.")
        case "enum":
            return "Bitte einen der vorgegebenen Werte wählen."
        case "const":
            return str(custom or "Dieser Wert ist nicht zulässig.")
        case "minimum" | "exclusiveMinimum":
            return f"Der Wert muss mindestens {value} sein."
        case "maximum" | "exclusiveMaximum":
            return f"Der Wert darf höchstens {value} sein."
        case "minItems":
            return f"Bitte mindestens {value} auswählen."
        case "maxItems":
            return f"Bitte höchstens {value} auswählen."
        case "uniqueItems":
            return "Jeder Wert darf nur einmal vorkommen."
        case "multipleOf":
            return f"Der Wert muss ein Vielfaches von {value} sein."
        case "additionalProperties":
            return "Unbekanntes Feld."
    return str(custom or "Ungültiger Wert.")


def _in_future(value: str, today: date) -> bool:
    """A date after today, or an instant after now (the engine clock)."""
    try:
        if "T" in value:
            return datetime.fromisoformat(value) > clock.now()
        return date.fromisoformat(value) > today
    except (ValueError, TypeError):
        return False


def _same_value(prop: Mapping[str, Any], recorded: Any, submitted: Any) -> bool:
    """Whether a submitted value keeps a recorded one; timestamps compare to the minute the form shows."""
    if recorded in (None, "") or recorded == submitted:
        return True
    if prop.get("format") == "date-time" and isinstance(recorded, str) and isinstance(submitted, str):
        try:
            minute = [datetime.fromisoformat(v).replace(second=0, microsecond=0) for v in (recorded, submitted)]
        except ValueError:
            return False
        return minute[0] == minute[1]
    return False


def validate_submission(
    schema: Mapping[str, Any], data: Mapping[str, Any], case_data: Mapping[str, Any], today: date
) -> dict[str, Any]:
    """Validate a (coerced) submission; return it unchanged if valid.

    :raises FormValidationError: with German messages per field.
    """
    properties: Mapping[str, Any] = schema.get("properties", {})
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        if message not in errors.setdefault(name, []):
            errors[name].append(message)

    for key in data:
        if key not in properties:
            add(key, "Unbekanntes Feld.")
    validator = FormValidator(schema, format_checker=FORMAT_CHECKER)
    for error in validator.iter_errors(dict(data)):
        if error.validator == "required":
            for missing in error.validator_value:
                if missing not in error.instance:
                    add(missing, _message(error, properties.get(missing, {}), schema))
            continue
        if error.validator == "additionalProperties":
            continue  # reported above, per key
        name = str(error.absolute_path[0]) if error.absolute_path else ""
        add(name, _message(error, properties.get(name, {}), schema))
    for name, message in rule_errors(schema, data, case_data):
        if name not in errors:
            add(name, message)
    for name, prop in properties.items():
        value = data.get(name)
        if value is None:
            continue
        if prop.get("x-notInFuture") and isinstance(value, str) and name not in errors and _in_future(value, today):
            add(name, "Das Datum darf nicht in der Zukunft liegen.")
        if prop.get("x-immutable") and name in case_data and not _same_value(prop, case_data[name], value):
            add(name, "Dieser Wert ist bereits festgehalten und darf nicht geändert werden.")
    if errors:
        raise FormValidationError(errors)
    return dict(data)


@dataclass(frozen=True)
class Submission:
    """What a person submitted for a task, to be checked against the task's form and the case's data.

    ``kind`` "form": HTML form values (lists of strings, coerced by the schema); "data": values already typed
    (the API, the command line, tests). Plain data, so that the step can check it where it runs (the jail).
    """

    kind: Literal["form", "data"]
    values: Mapping[str, Any]
    today: date

    def prepare(self, schema: Mapping[str, Any], case_data: Mapping[str, Any]) -> dict[str, Any]:
        """The clean data to store. :raises FormValidationError:"""
        if self.kind == "form":
            return check_submission(schema, self.values, case_data, self.today)
        return validate_submission(schema, self.values, case_data, self.today)

    def to_wire(self) -> dict[str, Any]:
        return {"kind": self.kind, "values": dict(self.values), "today": self.today}

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> Submission:
        values, today = dict(wire.get("values") or {}), wire["today"]
        return cls("form", values, today) if wire.get("kind") == "form" else cls("data", values, today)
