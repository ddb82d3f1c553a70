"""A jail process: runs the steps of cases (and with them all model code) outside the web and worker processes.

Started by ``engine.jail`` as ``python -m engine.jail_main LIMITS``, with a pipe on stdin/stdout and an
environment without the database address or secrets. Before it reads its first request it limits itself:
address space (RLIMIT_AS), CPU time (RLIMIT_CPU, renewed per step), no files to create (RLIMIT_FSIZE 0),
no new file descriptors (RLIMIT_NOFILE: no sockets, no database, no files to open), no child processes.
The parent kills it when a step overruns its wall-clock time and starts a new one.

The jail keeps parsed models (sent once per jail by content hash) and configuration snapshots (by digest),
and the case it is working on between "open" and "complete". Service operations need the database, so a
step that reaches one asks the parent over the same pipe and waits for the answer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import resource
import signal
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from . import clock, migration_step, stepping
from .errors import ConflictError, EngineError, FormValidationError, ScriptError
from .forms import Submission
from .jail_protocol import ChannelClosed, encode, read_frame, write_all
from .konfiguration import Konfiguration, freeze
from .model_loader import ModelFile, ProcessModel, load_processes
from .scripting import create_script_engine
from .serialization import StateCodec

STACK_BYTES = 256 * 1024 * 1024
RECURSION_LIMIT = 100_000
MAX_MODELS = 64


class ModelMissing(EngineError):
    """A step names a model this jail has dropped (it keeps ``MAX_MODELS``): the parent sends it again."""

    def __init__(self, key: str) -> None:
        super().__init__("Interner Fehler: Modell im Jail-Prozess nicht geladen.")
        self.key = key


MAX_RECENT = 64  # workflows kept after their step, so that the next step of the case need not load it


class ParentRefused(BaseException):
    """The parent refused a service call; the step stops here (a BaseException: no script may catch it)."""


class Jail:
    """The state of one jail process and the requests it serves."""

    def __init__(self, read_fd: int, write_fd: int, cpu_seconds: float) -> None:
        self.read_fd = read_fd
        self.write_fd = write_fd
        self.cpu_seconds = cpu_seconds
        self.codec = StateCodec()
        self.models: OrderedDict[str, ProcessModel] = OrderedDict()
        self.konfigs: dict[str, Konfiguration] = {}
        self.engines: dict[tuple[str, float], Any] = {}
        self.forms: dict[str, dict[str, Any]] = {}  # parsed forms by their text
        self.recent: OrderedDict[str, BpmnWorkflow] = OrderedDict()  # workflows by the digest of their state

    # --- the pipe ---------------------------------------------------------------------------------------------

    def send(self, message: dict[str, Any]) -> None:
        write_all(self.write_fd, encode(message))

    def call_service(self, name: str, params: dict[str, Any]) -> Any:
        self.send({"call": {"name": name, "params": params}})
        reply = read_frame(self.read_fd)
        if "refused" in reply:
            raise ParentRefused
        return reply.get("result")

    def serve(self) -> None:
        while True:
            try:
                request = read_frame(self.read_fd)
            except ChannelClosed:
                return
            self.send(self.answer(request))

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        handler: Callable[[dict[str, Any]], Any] | None = getattr(self, f"op_{request.get('op')}", None)
        if handler is None:
            return {"error": {"kind": "engine", "message": "Unbekannte Anfrage an den Jail-Prozess."}}
        self._renew_cpu_limit()
        try:
            with clock.frozen(clock.parse_iso(request["now"])) if "now" in request else _nothing():
                return {"ok": handler(request)}
        except ParentRefused:
            return {"error": {"kind": "parent"}}
        except ModelMissing as exc:
            return {"error": {"kind": "model_missing", "key": exc.key}}
        except ConflictError as exc:
            return {"error": {"kind": "conflict", "message": exc.message}}
        except FormValidationError as exc:
            return {"error": {"kind": "form", "fields": exc.field_errors}}
        except ScriptError as exc:
            return {"error": _script_error(exc)}
        except EngineError as exc:
            return {"error": {"kind": "engine", "message": exc.message}}
        except MemoryError:
            return {"error": {"kind": "script", "detail": "Speicherlimit überschritten.", "element": ""}}
        except Exception as exc:  # a failure inside SpiffWorkflow or the model: named for the step, never raw
            import traceback

            traceback.print_exc()
            error = stepping.engine_errors_to_script_errors(exc)
            return {
                "error": {"kind": "script", "detail": error.detail, "element": error.element_id, "line": error.line}
            }

    def _renew_cpu_limit(self) -> None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        used = usage.ru_utime + usage.ru_stime
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        soft = int(used + self.cpu_seconds) + 1
        if hard != resource.RLIM_INFINITY and soft > hard:
            soft = hard
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))

    # --- what the parent sends once ---------------------------------------------------------------------------

    def op_hello(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"pid": os.getpid()}

    def op_konfig(self, request: dict[str, Any]) -> None:
        values = request["values"]
        self.konfigs[request["digest"]] = Konfiguration(freeze(values), str(request["version"]), "(Jail)")

    def op_model(self, request: dict[str, Any]) -> None:
        files = [ModelFile(name, text.encode("utf-8")) for name, text in request["resources"].items()]
        self.models[request["key"]] = load_processes(files, int(request["max_bytes"]), validate=False)[
            request["process_id"]
        ]
        while len(self.models) > MAX_MODELS:
            self.models.popitem(last=False)

    # --- steps ------------------------------------------------------------------------------------------------

    def _model(self, request: dict[str, Any]) -> ProcessModel:
        model = self.models.get(request["model"])
        if model is None:
            raise ModelMissing(str(request["model"]))
        self.models.move_to_end(request["model"])
        return model

    def _script_engine(self, request: dict[str, Any]) -> Any:
        key = (str(request["konfig"]), float(request["timeout"]))
        engine = self.engines.get(key)
        if engine is None:
            konfig = self.konfigs[key[0]]
            engine = self.engines[key] = create_script_engine(
                self.call_service, key[1], {"konfig": konfig.script_value}
            )
        return engine

    def _load(self, request: dict[str, Any]) -> BpmnWorkflow:
        """The case's workflow: the one this jail stored last time if the state is the same, else loaded.

        A workflow is taken out of the cache while a step changes it; only a step that ended well puts it
        back (under its new state), so a failed step never leaves a half-changed workflow behind.
        """
        state = request["state"]
        workflow = self.recent.pop(_digest(state), None)
        if workflow is None:
            model = self._model(request)
            workflow = self.codec.loads(state, request["serializer_version"], model.spec, model.subprocess_specs)
        workflow.script_engine = self._script_engine(request)
        return workflow

    def _keep(self, state: str, workflow: BpmnWorkflow) -> None:
        self.recent[_digest(state)] = workflow
        while len(self.recent) > MAX_RECENT:
            self.recent.popitem(last=False)

    def _result(self, workflow: BpmnWorkflow, **extra: Any) -> dict[str, Any]:
        result = stepping.summarise(workflow, self.codec.dumps)
        self._keep(result.state, workflow)
        return {**result_fields(result), **extra}

    def op_start(self, request: dict[str, Any]) -> dict[str, Any]:
        model = self._model(request)
        message = request.get("message")
        workflow = stepping.new_workflow(
            model.spec, model.subprocess_specs, dict(request["data"]), by_message=message is not None
        )
        workflow.script_engine = self._script_engine(request)
        stepping.advance(workflow)
        delivered = True
        if message is not None:
            delivered = stepping.deliver_message(workflow, message[0], message[1])
        return self._result(workflow, delivered=delivered)

    def op_complete(self, request: dict[str, Any]) -> dict[str, Any]:
        """Check the submission against the form and the task's data, complete the task, run on."""
        workflow = self._load(request)
        task = stepping.ready_task(workflow, request["task"])
        before = dict(task.data)
        submission = Submission.from_wire(request["submission"])
        clean = submission.prepare(self._form(request["form"]), before)
        changes = {key: [before.get(key), value] for key, value in clean.items() if before.get(key) != value}
        stepping.complete_user_task(workflow, task, clean)
        return self._result(workflow, clean=clean, changes=changes)

    def _form(self, text: str) -> dict[str, Any]:
        form = self.forms.get(text)
        if form is None:
            if len(self.forms) > MAX_MODELS * 8:
                self.forms.clear()
            form = self.forms[text] = json.loads(text)
        return form

    def op_deliver(self, request: dict[str, Any]) -> dict[str, Any]:
        workflow = self._load(request)
        if not stepping.deliver_message(workflow, request["name"], request.get("payload")):
            self._keep(request["state"], workflow)  # unchanged
            return {"delivered": False}
        return self._result(workflow, delivered=True)

    def op_fire_timers(self, request: dict[str, Any]) -> dict[str, Any]:
        workflow = self._load(request)
        fired = stepping.fire_timers(workflow)
        return self._result(workflow, fired=fired)

    def op_migrate(self, request: dict[str, Any]) -> dict[str, Any]:
        """Check (``dry``) or move a case to the version ``target`` with the confirmed ``mapping``; a case that
        cannot move comes back with its reasons and no state (``engine.migration_step``)."""
        target = self.models.get(request["target"])
        if target is None:
            raise ModelMissing(str(request["target"]))
        workflow = self._load(request)
        mapping = {str(k): str(v) for k, v in dict(request.get("mapping") or {}).items()}
        label = str(request.get("label") or "der neuen Version")
        found, plans = migration_step.check(
            workflow, target.spec, target.subprocess_specs, mapping, self.codec.registry, label
        )
        if found.status == migration_step.CAN_MOVE:
            try:
                migration_step.apply(workflow, plans, target.subprocess_specs, label)
                if not request.get("dry"):  # a dry run must not reach service operations (money, lists)
                    stepping.advance(workflow)
            except EngineError as exc:
                found.status, found.reasons = migration_step.CANNOT_MOVE, [exc.message]
            except Exception as exc:  # a script of the new version failed right after the move
                error = stepping.engine_errors_to_script_errors(exc)
                found.status, found.reasons = migration_step.CANNOT_MOVE, [f"Nach dem Umzug: {error.message}"]
        if request.get("dry") or found.status != migration_step.CAN_MOVE:
            return {"check": found.to_wire()}  # the workflow was changed or not: it is not kept either way
        return self._result(workflow, check=found.to_wire())


def _digest(state: str) -> str:
    return hashlib.sha1(state.encode("utf-8"), usedforsecurity=False).hexdigest()


def _script_error(exc: ScriptError) -> dict[str, Any]:
    return {"kind": "script", "detail": exc.detail, "element": exc.element_id, "line": exc.line}


def result_fields(result: stepping.StepResult) -> dict[str, Any]:
    return {
        "state": result.state,
        "finished": result.finished,
        "end_reached": result.end_reached,
        "next_timer_at": result.next_timer_at,
        "applicant_name": result.applicant_name,
        "claim_date": result.claim_date,
        "ready": [
            {
                "uuid": t.task_uuid,
                "spec": t.spec_id,
                "name": t.name,
                "lane": t.lane,
                "due": t.due_at,
                "label": t.label_values,
            }
            for t in result.ready
        ],
        "thrown": [[name, payload] for name, payload in result.thrown],
    }


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _confine(limits: dict[str, Any]) -> None:
    """Limit this process before it reads its first request (the imports it needs are done by now).

    Writing to a file fails (EFBIG) instead of killing the jail, and nothing is logged: log lines of
    SpiffWorkflow would carry case data.
    """
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    logging.disable(logging.CRITICAL)
    memory = int(limits["memory_bytes"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (int(limits["cpu_seconds"]) + 1, int(limits["cpu_total_seconds"])))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    highest = max(_open_descriptors())
    resource.setrlimit(resource.RLIMIT_NOFILE, (highest + 1, highest + 1))


def _open_descriptors() -> list[int]:
    """The descriptors open now (without the one used to list them)."""
    found = []
    for name in os.listdir("/proc/self/fd"):
        try:
            os.fstat(int(name))
        except OSError:
            continue
        found.append(int(name))
    return found


def _warm_up() -> None:
    """Import what SpiffWorkflow and Python load lazily, while files can still be opened."""
    import _strptime  # type: ignore[import-not-found]  # noqa: F401  (datetime.strptime)
    import encodings.idna  # noqa: F401
    import encodings.latin_1  # noqa: F401
    import unicodedata  # noqa: F401

    from SpiffWorkflow.specs.Join import Join  # noqa: F401

    # jsonschema reads its meta-schemas from package files the first time it checks a form.
    schema = {"type": "object", "properties": {"tag": {"type": "string", "format": "date"}}}
    Submission("data", {"tag": "2025-01-02"}, date(2025, 1, 2)).prepare(schema, {})


def main() -> None:
    limits = json.loads(sys.argv[1])
    # The pipe to the parent moves off stdin/stdout, so that nothing printed can corrupt it.
    read_fd, write_fd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    _warm_up()
    sys.setrecursionlimit(RECURSION_LIMIT)
    jail = Jail(read_fd, write_fd, float(limits["cpu_seconds"]))
    confined = threading.Event()

    def serve() -> None:
        confined.wait()
        jail.serve()

    # The thread (with a deep stack for long models) exists before the limits forbid new threads.
    threading.stack_size(STACK_BYTES)
    worker = threading.Thread(target=serve, name="jail")
    worker.start()
    _confine(limits)
    confined.set()
    worker.join()


if __name__ == "__main__":
    main()
