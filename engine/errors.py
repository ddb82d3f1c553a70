"""Typed engine errors. Messages are German and free of personal data; the web app maps them to HTTP."""

from __future__ import annotations

STALE_CASE = (
    "Der Vorgang wurde zwischenzeitlich geändert (in einem anderen Fenster oder von einer anderen Person). "
    "Bitte laden Sie den aktuellen Stand."
)


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(EngineError):
    """A setting is missing or invalid."""


class SchemaOutdatedError(EngineError):
    """The database schema is not at the version this code expects."""


class NotFoundError(EngineError):
    """A process, case or task does not exist (or is not visible to the caller)."""


class AuthenticationError(EngineError):
    """Wrong user name or password, or the account is disabled."""


class SessionEndedError(AuthenticationError):
    """The session of a request is over (logged out, ended, idle or expired); the message says which."""


class LoginThrottledError(EngineError):
    """Too many failed logins for this user name or from this address: the try was refused unchecked."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimitedError(EngineError):
    """An API token sent more requests in the current minute than it may (``engine.api_tokens``)."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BadRequestError(EngineError):
    """A request parameter is malformed (e.g. a crafted paging cursor)."""


class PurposeRequiredError(EngineError):
    """An auditor opened personal data before stating the purpose of the sitting (§ 67 ff. SGB X)."""


class PermissionDeniedError(EngineError):
    """The actor lacks the group or site for this action."""


class FourEyesError(PermissionDeniedError):
    """The four-eyes rule forbids this actor from doing this step (they did the step it checks)."""


class RuleViolationError(EngineError):
    """A business rule of the process forbids the operation (e.g. a process not offered at this site)."""


class ConflictError(EngineError):
    """The case changed since the caller loaded it (optimistic locking) or the task is no longer open."""

    def __init__(
        self,
        message: str,
        *,
        instance_id: int | None = None,
        expected: int | None = None,
        actual: int | None = None,
    ) -> None:
        super().__init__(message)
        self.instance_id = instance_id
        self.expected = expected
        self.actual = actual


class TaskClosedError(ConflictError):
    """The task was open once and is done (or cancelled) now; ``instance_id`` names its case."""


class FormValidationError(EngineError):
    """Submitted form data is invalid; ``field_errors`` maps field names ('' = whole form) to messages."""

    def __init__(self, field_errors: dict[str, list[str]]) -> None:
        super().__init__("Die Eingaben sind unvollständig oder fehlerhaft.")
        self.field_errors = field_errors


class ModelError(EngineError):
    """A BPMN/DMN/form file is unsafe, malformed or breaks a modelling rule."""

    def __init__(self, message: str, *, filename: str = "", line: int | None = None, element_id: str = "") -> None:
        location = filename
        if line:
            location += f", Zeile {line}"
        if element_id:
            location += f", Element '{element_id}'"
        super().__init__(f"{location}: {message}" if location else message)
        self.detail = message
        self.filename = filename
        self.line = line
        self.element_id = element_id


class ScriptError(EngineError):
    """A script or expression in a model failed or tried something the sandbox forbids."""

    def __init__(self, message: str, *, element_id: str = "", line: int | None = None) -> None:
        where = f"Schritt '{element_id}'" if element_id else "Skript"
        if line:
            where += f", Zeile {line}"
        super().__init__(f"{where}: {message}")
        self.detail = message
        self.element_id = element_id
        self.line = line
        # The case that failed when it is not the one the operation was about (a message it received).
        self.instance_id: int | None = None
        self.during = "step"
