"""Service tasks: the registry of the operations models may call, and how a step calls them.

A ``bpmn:serviceTask`` names an operation and its parameters (Python expressions over the case data).
Operations run in the transaction of the step that reached them, with the case and the acting user
bound by the engine; when an operation refuses (RuleViolationError, PermissionDeniedError), the step
is refused and nothing is stored. The operations themselves live in the modules named in
``OPERATION_MODULES`` (petty cash, Sammellisten); amounts are handled as integer cents (``engine.money``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from .errors import ScriptError
from .konfiguration import Konfiguration

if TYPE_CHECKING:
    from .versions import SpecCache


@dataclass(frozen=True)
class ServiceContext:
    """The case and user an operation acts for."""

    session: Session
    instance_id: int | None
    business_key: str | None
    site: str
    actor: str
    konfig: Konfiguration
    simulated: list[str] | None = None  # a Probelauf: operations are checked and named here, not run
    specs: SpecCache | None = None  # the deployed models (operations that read a model property, e.g. egsBereich)


@dataclass(frozen=True)
class Operation:
    """A registered operation: its parameters and implementation."""

    name: str
    params: tuple[str, ...]
    function: Callable[..., dict[str, Any]]
    description: str


OPERATION_MODULES = ("petty_cash", "payment_lists", "staffing_operations")
_REGISTRY: dict[str, Operation] = {}
_context: ContextVar[ServiceContext | None] = ContextVar("egs_service_context", default=None)


def operation(name: str, *params: str) -> Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]]:
    """Register ``function(ctx, **params)`` as operation ``name``."""

    def register(function: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        _REGISTRY[name] = Operation(name, params, function, (function.__doc__ or "").strip().splitlines()[0])
        return function

    return register


def registry() -> dict[str, Operation]:
    """Every registered operation by name (importing the operation modules registers them)."""
    for module in OPERATION_MODULES:
        importlib.import_module(f"{__package__}.{module}")
    return _REGISTRY


@contextmanager
def bound(context: ServiceContext) -> Iterator[None]:
    """Let operations called in this block act for ``context``."""
    token = _context.set(context)
    try:
        yield
    finally:
        _context.reset(token)


def call(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Run an operation for the bound case.

    :raises ScriptError: unknown operation, wrong parameters or no case bound.
    :raises RuleViolationError, PermissionDeniedError: the operation refuses.
    """
    op = registry().get(name)
    if op is None:
        raise ScriptError(f"Unbekannte Service-Operation '{name}'.")
    if set(params) != set(op.params):
        raise ScriptError(f"'{name}' erwartet die Parameter {', '.join(op.params) or '(keine)'}.")
    context = _context.get()
    if context is None:
        raise ScriptError(f"'{name}' kann nur innerhalb eines Vorgangs aufgerufen werden.")
    if context.simulated is not None:
        context.simulated.append(name)
        return {}
    return op.function(context, **params)
