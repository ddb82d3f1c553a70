"""The SpecTree instance of the API: it validates requests and responses of the routes it decorates and
writes the OpenAPI 3.1 document from their pydantic models (``docs``).

Why SpecTree (checked 01.12.2026): it works on a plain Flask blueprint of our Flask 3.1 app (APIFlask needs
its own ``APIFlask`` application class), its documents are OpenAPI **3.1.0** by default with the JSON Schema
2020-12 that pydantic v2 writes (flask-smorest goes through apispec and marshmallow, whose schemas are the 3.0
dialect), and it is maintained (3.0, 2026). Its own documentation pages load Swagger UI/Redoc from a CDN,
which our CSP forbids: they are switched off and ``docs`` renders the document on the server instead.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from spectree import SecurityScheme, SecuritySchemeData, SpecTree

from engine.errors import FormValidationError

from .schemas import Problem

log = logging.getLogger("egs.api")

MESSAGES = {
    "missing": "Pflichtangabe fehlt.",
    "extra_forbidden": "Dieses Feld gibt es hier nicht.",
    "string_too_short": "Zu kurz.",
    "string_too_long": "Zu lang.",
    "string_pattern_mismatch": "Ungültiges Format.",
    "greater_than_equal": "Der Wert ist zu klein.",
    "less_than_equal": "Der Wert ist zu groß.",
    "value_error": "Bitte nur druckbare Zeichen verwenden.",
}


def field_errors(error: ValidationError) -> dict[str, list[str]]:
    """German messages per field (``''`` = the whole body) for a pydantic error; never the values sent."""
    found: dict[str, list[str]] = {}
    for problem in error.errors(include_input=False, include_url=False):
        name = ".".join(str(part) for part in problem.get("loc", ()))
        kind = str(problem.get("type", ""))
        text = MESSAGES.get(kind) or ("Falscher Typ." if kind.endswith("_type") or "parsing" in kind else None)
        found.setdefault(name, []).append(text or "Ungültiger Wert.")
    return found


def _before(_req: Any, _resp: Any, error: Exception | None, _instance: Any, _adapter: Any) -> None:
    """A request the models refuse becomes the same 422 problem as an invalid form (``FormValidationError``)."""
    if isinstance(error, ValidationError):
        raise FormValidationError(field_errors(error))
    if error is not None:
        raise FormValidationError({"": ["Die Anfrage ist ungültig."]})


def _after(_req: Any, _resp: Any, error: Exception | None, _instance: Any, _adapter: Any) -> None:
    """A response that breaks its own schema is a bug: logged by type only (its values may be personal data)."""
    if error is not None:
        log.error("API-Antwort passt nicht zu ihrem Schema (%s)", type(error).__name__)


spec = SpecTree(
    "flask",
    mode="strict",
    title="EGS-Prozessplattform – REST-API",
    version="1",
    description=(
        "Vorgänge starten, Nachrichten zustellen, Stand und Aufgaben lesen, Aufgaben erledigen, Verlauf (Revision) "
        "und Exporte. Anmeldung mit Token (Authorization: Bearer …); Fehler als Problem Details (RFC 9457)."
    ),
    path="api/v1/spectree",
    page_templates={},
    before=_before,
    after=_after,
    validation_error_status=422,
    validation_error_model=Problem,
    nested_naming_strategy=lambda _parent, child: child,
    security_schemes=[SecurityScheme(name="token", data=SecuritySchemeData(type="http", scheme="bearer"))],
    security={"token": []},
    annotations=False,
)
