"""Sandboxed execution of the Python snippets in models (scripts, conditions, timer expressions).

SpiffWorkflow's default script engine is plain ``exec``/``eval``. We replace its environment with one
that compiles every snippet with RestrictedPython plus our own policy and runs it with:

- no ``import``, no names or attributes starting with ``_``, no classes, no ``global``;
- a whitelist of builtins (no ``open``, ``eval``, ``exec``, ``getattr``, ``type`` …);
- guarded ``*``, ``**`` and ``<<`` and a bounded ``range`` so one line cannot allocate gigabytes;
- a wall-clock limit enforced by a line tracer on the snippet's own frames.

Violations raise :class:`ScriptError` with a German message; the runtime then refuses the step and
keeps the case as it was.
"""

from __future__ import annotations

import ast
import calendar
import json
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import CodeType, FrameType, ModuleType
from typing import Any, Literal

from RestrictedPython.compile import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from RestrictedPython.transformer import IOPERATOR_TO_STR, RestrictingNodeTransformer, copy_locations
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from . import clock
from .errors import ScriptError
from .storable import check_storable

SCRIPT_FILENAME = "<egs-script>"
MAX_ITEMS = 100_000
MAX_EXPONENT = 1_000
MAX_SHIFT = 1_000

Mode = Literal["exec", "eval"]

FORBIDDEN_NAMES = frozenset(
    {
        "open", "eval", "exec", "compile", "globals", "locals", "vars", "getattr", "setattr", "delattr",
        "input", "breakpoint", "help", "memoryview", "type", "super", "object", "dir", "exit", "quit",
        "__import__", "BaseException", "SystemExit", "KeyboardInterrupt", "GeneratorExit",
    }
)  # fmt: skip


class _ScriptTimeout(BaseException):
    """Raised inside a snippet when its time is up; a BaseException so ``except Exception`` cannot swallow it."""


class _RefusedOperation(Exception):
    """Raised by the guards; turned into a ScriptError."""


class _EgsPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy plus our refusals and size guards."""

    def _refuse(self, node: ast.AST, message: str) -> ast.AST:
        self.error(node, message)
        return node

    def visit_Import(self, node: ast.Import) -> ast.AST:
        return self._refuse(node, "'import' ist in Skripten nicht erlaubt.")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:
        return self._refuse(node, "'import' ist in Skripten nicht erlaubt.")

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        return self._refuse(node, "Klassen dürfen in Skripten nicht definiert werden.")

    def visit_Global(self, node: ast.Global) -> ast.AST:
        return self._refuse(node, "'global' ist in Skripten nicht erlaubt.")

    def visit_Nonlocal(self, node: ast.Nonlocal) -> ast.AST:
        return self._refuse(node, "'nonlocal' ist in Skripten nicht erlaubt.")

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> Any:
        if node.type is None:
            return self._refuse(node, "'except:' ohne Ausnahmetyp ist nicht erlaubt.")
        return super().visit_ExceptHandler(node)

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id in FORBIDDEN_NAMES:
            return self._refuse(node, f"'{node.id}' steht in Skripten nicht zur Verfügung.")
        return super().visit_Name(node)

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = self.node_contents_visit(node)
        if isinstance(node.op, ast.Mult | ast.Pow | ast.LShift):
            call = ast.Call(
                func=ast.Name("_egs_binop_", ast.Load()),
                args=[ast.Constant(IOPERATOR_TO_STR[type(node.op)][:-1]), node.left, node.right],
                keywords=[],
            )
            copy_locations(call, node)
            return call
        return node


_ERROR_TRANSLATIONS = (
    ("invalid attribute name because it starts with", "Zugriff auf Attribute, die mit '_' beginnen, ist verboten"),
    ("invalid variable name because it starts with", "Namen, die mit '_' beginnen, sind verboten"),
    ("Exec calls are not allowed", "'exec' ist in Skripten nicht erlaubt"),
    ("Eval calls are not allowed", "'eval' ist in Skripten nicht erlaubt"),
    ("SyntaxError", "Syntaxfehler"),
)  # fmt: skip


def _translate(error: str) -> str:
    if error.startswith("Line ") and ": " in error:
        error = error.split(": ", 1)[1]
    for needle, german in _ERROR_TRANSLATIONS:
        if needle in error:
            return f"{german} ({error})"
    return error


@lru_cache(maxsize=4096)
def compile_snippet(source: str, mode: Mode) -> CodeType:
    """Compile a snippet under the sandbox policy (cached by text).

    :raises ScriptError: if the snippet is not valid Python or breaks the policy.
    """
    compiler = compile_restricted_exec if mode == "exec" else compile_restricted_eval
    try:
        result = compiler(source.strip() if mode == "eval" else source, SCRIPT_FILENAME, policy=_EgsPolicy)
    except SyntaxError as exc:  # raised by compile() after the parse, e.g. 'return' outside a function
        raise ScriptError(f"Verbotene oder fehlerhafte Anweisung: Syntaxfehler ({exc.msg})", line=exc.lineno) from None
    except (ValueError, RecursionError, MemoryError) as exc:  # e.g. nesting too deep for the compiler
        raise ScriptError(f"Das Skript kann nicht übersetzt werden ({type(exc).__name__}).") from None
    if result.errors:
        first = result.errors[0]
        line = _line_of(first)
        raise ScriptError("Verbotene oder fehlerhafte Anweisung: " + _translate(first), line=line)
    code: CodeType | None = result.code
    assert code is not None
    return code


def _line_of(error: str) -> int | None:
    if error.startswith("Line "):
        number = error[5:].split(":", 1)[0]
        if number.isdigit():
            return int(number)
    return None


# --- guards used by the compiled code ---------------------------------------------------------------------


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


def _egs_binop(op: str, left: Any, right: Any) -> Any:
    if op == "*":
        for seq, count in ((left, right), (right, left)):
            size = _size(seq)
            if size is not None and isinstance(count, int) and size * count > MAX_ITEMS:
                raise _RefusedOperation(f"Ergebnis wäre zu groß (mehr als {MAX_ITEMS} Elemente).")
        return left * right
    if op == "**":
        if isinstance(right, int) and abs(right) > MAX_EXPONENT and isinstance(left, int) and abs(left) > 1:
            raise _RefusedOperation(f"Exponent zu groß (höchstens {MAX_EXPONENT}).")
        return left**right
    if op == "<<":
        if isinstance(right, int) and right > MAX_SHIFT:
            raise _RefusedOperation(f"Verschiebung zu groß (höchstens {MAX_SHIFT}).")
        return left << right
    raise _RefusedOperation(f"Unbekannter Operator {op}")


def _inplacevar(op: str, left: Any, right: Any) -> Any:
    if op in ("*=", "**=", "<<="):
        return _egs_binop(op[:-1], left, right)
    operations: dict[str, Callable[[Any, Any], Any]] = {
        "+=": lambda a, b: a + b,
        "-=": lambda a, b: a - b,
        "/=": lambda a, b: a / b,
        "//=": lambda a, b: a // b,
        "%=": lambda a, b: a % b,
        ">>=": lambda a, b: a >> b,
        "|=": lambda a, b: a | b,
        "&=": lambda a, b: a & b,
        "^=": lambda a, b: a ^ b,
    }
    if op not in operations:
        raise _RefusedOperation(f"Operator {op} ist nicht erlaubt.")
    result = operations[op](left, right)
    size = _size(result)
    if size is not None and size > MAX_ITEMS:
        raise _RefusedOperation(f"Ergebnis wäre zu groß (mehr als {MAX_ITEMS} Elemente).")
    return result


def _bounded_range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_ITEMS:
        raise _RefusedOperation(f"range() mit mehr als {MAX_ITEMS} Werten ist nicht erlaubt.")
    return result


def _write_guard(obj: Any) -> Any:
    # Only plain containers from task data may be changed in place (no attribute writes at all).
    if isinstance(obj, dict | list):
        return obj
    raise _RefusedOperation("Nur Listen und Dictionaries dürfen verändert werden.")


def _heute() -> date:
    return clock.today_berlin()


def _jetzt() -> str:
    """Now in Europe/Berlin as an ISO timestamp (e.g. the moment of 'Kenntnis' under SGB XII)."""
    return clock.now().astimezone(clock.BERLIN).isoformat(timespec="seconds")


def _tage_im_monat(jahr: int, monat: int) -> int:
    return calendar.monthrange(int(jahr), int(monat))[1]


SAFE_BUILTINS: dict[str, Any] = {
    name: getattr(__import__("builtins"), name)
    for name in (
        "abs", "all", "any", "bool", "dict", "divmod", "enumerate", "filter", "float", "int", "isinstance",
        "len", "list", "map", "max", "min", "reversed", "round", "set", "sorted", "str", "sum", "tuple", "zip",
        "ArithmeticError", "Exception", "IndexError", "KeyError", "LookupError", "TypeError", "ValueError",
        "ZeroDivisionError",
    )
}  # fmt: skip
SAFE_BUILTINS.update({"None": None, "True": True, "False": False, "range": _bounded_range})

HELPERS: dict[str, Any] = {
    "date": date,
    "datetime": datetime,
    "timedelta": timedelta,
    "heute": _heute,
    "jetzt": _jetzt,
    "tage_im_monat": _tage_im_monat,
}

_GUARDS: dict[str, Any] = {
    "_getattr_": safer_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": _write_guard,
    "_inplacevar_": _inplacevar,
    "_egs_binop_": _egs_binop,
}


class _Deadline:
    """Line tracer that raises once the snippet has run longer than ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.until = time.monotonic() + seconds

    def __call__(self, frame: FrameType, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename != SCRIPT_FILENAME:
            return None
        return self._local

    def _local(self, frame: FrameType, event: str, arg: Any) -> Any:
        if time.monotonic() > self.until:
            raise _ScriptTimeout
        return self._local


class Sandbox:
    """Runs snippets against task data under the policy, with a time limit per call."""

    def __init__(self, timeout: float = 1.0, helpers: Mapping[str, Any] | None = None) -> None:
        self.timeout = timeout
        self.helpers = dict(HELPERS if helpers is None else helpers)
        self._reserved = set(self.helpers) | set(_GUARDS) | {"__builtins__"}

    def _globals(self, data: Mapping[str, Any]) -> dict[str, Any]:
        namespace = {k: v for k, v in data.items() if not k.startswith("_")}
        namespace.update(self.helpers)
        namespace.update(_GUARDS)
        namespace["__builtins__"] = SAFE_BUILTINS
        return namespace

    def evaluate(self, expression: str, data: Mapping[str, Any]) -> Any:
        """Evaluate an expression (gateway condition, timer) over the data.

        :raises ScriptError: on policy violations, timeouts or errors in the expression.
        """
        code = compile_snippet(expression, "eval")
        return self._run(lambda: eval(code, self._globals(data)))

    def execute(self, script: str, data: dict[str, Any]) -> None:
        """Run a script; new and changed plain variables are written back into ``data``.

        :raises ScriptError: on policy violations, timeouts or errors in the script.
        """
        code = compile_snippet(script, "exec")
        namespace = self._globals(data)
        self._run(lambda: exec(code, namespace))
        for key in list(data):
            if key not in namespace and not key.startswith("_"):
                del data[key]
        results = {
            key: value
            for key, value in namespace.items()
            if key not in self._reserved and not callable(value) and not isinstance(value, ModuleType)
        }
        check_storable(results)
        data.update(results)

    def _run(self, call: Callable[[], Any]) -> Any:
        previous = sys.gettrace()
        sys.settrace(_Deadline(self.timeout))
        try:
            return call()
        except _ScriptTimeout:
            raise ScriptError(f"Zeitlimit von {self.timeout:g} s überschritten.") from None
        except MemoryError:
            raise ScriptError("Speicherlimit überschritten.") from None
        except _RefusedOperation as exc:
            raise ScriptError(str(exc), line=_traceback_line(exc)) from None
        except ScriptError:
            raise
        except Exception as exc:  # an error in the model's own code: report it, keep the case intact
            raise ScriptError(f"{type(exc).__name__}: {exc}", line=_traceback_line(exc)) from None
        finally:
            sys.settrace(previous)


def _traceback_line(exc: BaseException) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == SCRIPT_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


ServiceCaller = Callable[[str, dict[str, Any]], Any]


class SandboxEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]
    """SpiffWorkflow's script-environment seam, backed by :class:`Sandbox`."""

    def __init__(self, sandbox: Sandbox, call_service: ServiceCaller) -> None:
        super().__init__({})
        self.sandbox = sandbox
        self._call_service = call_service

    def evaluate(
        self, expression: str, context: dict[str, Any], external_context: Mapping[str, Any] | None = None
    ) -> Any:
        return self.sandbox.evaluate(expression, {**context, **(external_context or {})})

    def execute(self, script: str, context: dict[str, Any], external_context: Mapping[str, Any] | None = None) -> bool:
        if external_context:
            merged = {**context, **external_context}
            self.sandbox.execute(script, merged)
            for key in external_context:
                merged.pop(key, None)
            context.clear()
            context.update(merged)
        else:
            self.sandbox.execute(script, context)
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> str:
        """Run a registered operation (engine.service_tasks) with the evaluated parameters; JSON result."""
        params = {name: spec["value"] for name, spec in kwargs.get("operation_params", {}).items()}
        return json.dumps(self._call_service(kwargs.get("operation_name", ""), params))


class SandboxScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """SpiffWorkflow's script engine with service calls passed straight to our registry.

    (SpiffWorkflow 3.2's own ``call_service`` error path refers to an undefined name; engine errors
    such as a refused booking must reach the engine unchanged anyway.)
    """

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        return self.environment.call_service(task.data, **kwargs)


def create_script_engine(
    call_service: ServiceCaller, timeout: float = 1.0, extra_helpers: Mapping[str, Any] | None = None
) -> PythonScriptEngine:
    """Return a SpiffWorkflow script engine that runs everything in the sandbox."""
    helpers = {**HELPERS, **(extra_helpers or {})}
    return SandboxScriptEngine(environment=SandboxEnvironment(Sandbox(timeout, helpers), call_service))


def check_snippets(snippets: Iterable[tuple[str, Mode]]) -> None:
    """Compile snippets ahead of time (deploy-time lint).

    :raises ScriptError: for the first snippet that breaks the policy.
    """
    for source, mode in snippets:
        compile_snippet(source, mode)
