"""The one place that maps engine errors (and HTTP errors) to responses.

Pages get a German message, clients that prefer JSON get ``{"status", "error", "message"}``, and the REST API
(``/api/v1``) gets Problem Details (RFC 9457, ``application/problem+json``) with German ``title`` and
``detail``. Neither responses nor logs carry stack traces, exception texts of unexpected errors or personal data.
"""

from __future__ import annotations

import logging
import os
import traceback
from types import TracebackType
from typing import Any

from flask import Flask, Response, flash, jsonify, make_response, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from engine.errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    EngineError,
    FormValidationError,
    LoginThrottledError,
    ModelError,
    NotFoundError,
    PermissionDeniedError,
    PurposeRequiredError,
    RateLimitedError,
    RuleViolationError,
    SchemaOutdatedError,
    ScriptError,
    TaskClosedError,
)

log = logging.getLogger("egs.web")

_STATUS: tuple[tuple[type[EngineError], int], ...] = (
    (BadRequestError, 400),
    (LoginThrottledError, 429),
    (RateLimitedError, 429),
    (NotFoundError, 404),
    (PermissionDeniedError, 403),
    (PurposeRequiredError, 428),
    (ConflictError, 409),
    (FormValidationError, 422),
    (ScriptError, 422),
    (ModelError, 422),
    (RuleViolationError, 422),
    (SchemaOutdatedError, 503),
    (AuthenticationError, 401),
)

TITLES = {
    400: "Ungültige Anfrage",
    401: "Anmeldung erforderlich",
    403: "Keine Berechtigung",
    404: "Nicht gefunden",
    405: "Aktion nicht erlaubt",
    409: "Der Stand des Vorgangs hat sich geändert",
    413: "Anfrage zu groß",
    422: "Eingaben konnten nicht verarbeitet werden",
    428: "Zweck der Einsicht fehlt",
    429: "Zu viele Versuche",
    500: "Interner Fehler",
    503: "Dienst vorübergehend nicht verfügbar",
}

MESSAGES = {
    400: "Die Anfrage konnte nicht verarbeitet werden.",
    403: "Für diese Aktion fehlt die Berechtigung.",
    404: "Die angeforderte Seite gibt es nicht.",
    405: "Diese Aktion ist auf dieser Seite nicht möglich.",
    413: "Die gesendeten Daten sind zu groß.",
    429: "Zu viele Anfragen. Bitte warten Sie einen Moment.",
    500: "Es ist ein unerwarteter Fehler aufgetreten. Bitte versuchen Sie es später erneut.",
    503: "Der Dienst ist vorübergehend nicht verfügbar.",
}

CSRF_MESSAGE = "Sicherheitsprüfung fehlgeschlagen – bitte Seite neu laden."


def status_for(exc: EngineError) -> int:
    """Return the HTTP status for an engine error (500 for anything unexpected)."""
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 500


def message_for(exc: EngineError) -> str:
    """Return the German message shown for an engine error."""
    if isinstance(exc, ScriptError):
        return f"Fehler im Prozessmodell: {exc.message}"
    if status_for(exc) == 500:
        return MESSAGES[500]  # e.g. configuration problems: details belong to the operators' console
    return exc.message


def wants_json() -> bool:
    """True if the client prefers JSON over HTML."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def render_error(
    status: int, message: str, *, reload_url: str | None = None, details: dict[str, Any] | None = None
) -> tuple[Response | str, int]:
    """Render the error page (or JSON, with ``details`` such as the problems of a model) for ``status``."""
    title = TITLES.get(status, "Fehler")
    if wants_json():
        return jsonify({"status": status, "error": title, "message": message, **(details or {})}), status
    page = render_template("errors/error.html", status=status, title=title, message=message, reload_url=reload_url)
    return page, status


TASK_DONE = "Diese Aufgabe ist bereits erledigt. Hier sehen Sie den aktuellen Stand des Vorgangs."


def _reload_url(exc: ConflictError) -> str | None:
    """Where a user whose change collided should look again: the task, else the case (a task that is done
    has only its case left)."""
    args = request.view_args or {}
    if isinstance(exc, TaskClosedError) and exc.instance_id is not None:
        return url_for("cases.show", instance_id=exc.instance_id)
    if "task_uuid" in args:
        return url_for("tasks.show", task_uuid=args["task_uuid"])
    instance_id = args.get("instance_id", exc.instance_id)
    if instance_id is not None:
        return url_for("cases.show", instance_id=instance_id)
    return None


API_PREFIX = "/api/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


def is_api_request() -> bool:
    """True for the REST API, which answers every error as Problem Details."""
    return request.path.startswith(API_PREFIX)


def problem(status: int, detail: str, **extensions: Any) -> Response:
    """A Problem Details response (RFC 9457) with a German title and detail; ``type`` names the status's
    explanation on the API's documentation page."""
    body = {"type": f"/api/v1/dokumentation#problem-{status}", "title": TITLES.get(status, "Fehler"),
            "status": status, "detail": detail, "instance": request.path, **extensions}  # fmt: skip
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_MEDIA_TYPE
    return response


def _api_problem(exc: EngineError) -> Response:
    status = status_for(exc)
    if status >= 500:
        log.error("%s bei %s %s", type(exc).__name__, request.method, request.url_rule)
    extensions = {key: value for key, value in (_details(exc) or {}).items() if key == "field_errors"}
    response = problem(status, message_for(exc), **extensions)
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, int):
        response.headers["Retry-After"] = str(retry_after)
    if isinstance(exc, AuthenticationError):
        response.headers["WWW-Authenticate"] = 'Bearer realm="egs"'
    return response


def _engine_error(exc: EngineError) -> Any:
    if is_api_request():
        return _api_problem(exc)
    if isinstance(exc, AuthenticationError) and not wants_json():
        session.clear()
        flash("Bitte melden Sie sich erneut an.", "info")
        return redirect(url_for("auth.login"))
    if isinstance(exc, PurposeRequiredError) and request.method == "GET" and not wants_json():
        flash(exc.message, "info")  # personal data only after the purpose of the sitting is stated
        return redirect(url_for("workbench.purpose", next=request.full_path.rstrip("?")))
    if (
        isinstance(exc, TaskClosedError)
        and exc.instance_id is not None
        and request.method == "GET"
        and not wants_json()
    ):
        flash(TASK_DONE, "info")  # e.g. the back button after completing it: its case is what is left to see
        return redirect(url_for("cases.show", instance_id=exc.instance_id))
    status = status_for(exc)
    if status >= 500:
        log.error("%s bei %s %s", type(exc).__name__, request.method, request.url_rule)
    reload_url = _reload_url(exc) if isinstance(exc, ConflictError) else None
    return render_error(status, message_for(exc), reload_url=reload_url, details=_details(exc))


def _details(exc: EngineError) -> dict[str, Any] | None:
    """What a script client (the modeller) needs beyond the message: each model problem with the element it
    names (to select it in the diagram), or the fields of a form error."""
    if isinstance(exc, ModelError):
        problems: list[ModelError] = getattr(exc, "problems", None) or [exc]
        return {"problems": [{"message": p.detail, "element_id": p.element_id, "filename": p.filename,
                              "line": p.line} for p in problems]}  # fmt: skip
    if isinstance(exc, FormValidationError):
        return {"field_errors": exc.field_errors}
    return None


def _csrf_error(_exc: CSRFError) -> Any:
    log.info("CSRF-Prüfung fehlgeschlagen bei %s %s", request.method, request.url_rule)
    return render_error(400, CSRF_MESSAGE)


def _http_error(exc: HTTPException) -> Any:
    status = exc.code or 500
    fallback = MESSAGES[400] if status < 500 else MESSAGES[500]
    if is_api_request():
        response = problem(status, MESSAGES.get(status, fallback))
    else:
        response = make_response(*render_error(status, MESSAGES.get(status, fallback)))
    allowed = getattr(exc, "valid_methods", None)  # set by MethodNotAllowed
    if status == 405 and allowed:
        response.headers["Allow"] = ", ".join(allowed)
    return response


def _server_error(_exc: InternalServerError) -> Any:
    if is_api_request():
        return problem(500, MESSAGES[500])
    return render_error(500, MESSAGES[500])


def log_unexpected(
    logger: logging.Logger, exc_info: tuple[type, BaseException, TracebackType] | tuple[None, None, None]
) -> None:
    """Log an unhandled exception by type and code location only: its text may hold personal data."""
    kind, _value, tb = exc_info
    where = "?"
    if tb is not None:
        frame = traceback.extract_tb(tb)[-1]
        where = f"{os.path.basename(frame.filename)}:{frame.lineno} in {frame.name}"
    name = kind.__name__ if kind is not None else "?"
    logger.error("Unerwarteter Fehler %s bei %s %s (%s)", name, request.method, request.url_rule, where)


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(EngineError, _engine_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(InternalServerError, _server_error)
    app.register_error_handler(HTTPException, _http_error)
