"""Steps of cases, run in a jail: what casework, tasks and the timer worker call instead of SpiffWorkflow.

A ``StepSession`` holds one jail for one case's step: it makes sure the jail knows the case's model (sent
once per jail, by content hash) and the configuration snapshot, sends the step with the engine clock's
"now", serves the service operations the step calls (they run here, in the caller's transaction, for the
bound case) and turns the answer into a ``StepResult``. A killed or failed jail becomes a ScriptError: the
caller's transaction rolls back and nothing of the step is stored.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from . import clock, service_tasks
from .errors import FormValidationError, ScriptError
from .forms import Submission
from .jail import JailFailure, JailLimits, JailPool, JailProcess, ServiceRefused, pool_for, raise_error
from .konfiguration import Konfiguration, thaw
from .stepping import ReadyTask, StepResult
from .versions import LoadedVersion


class Steps:
    """Runs steps in the jail pool for one engine (its configuration, limits and script timeout)."""

    def __init__(self, limits: JailLimits, konfig: Konfiguration, script_timeout: float, max_model_bytes: int) -> None:
        self.limits = limits
        self.konfig = konfig
        self.script_timeout = script_timeout
        self.max_model_bytes = max_model_bytes
        self.konfig_values = thaw(konfig.values)  # the snapshot a jail gets, once per jail
        self.konfig_digest = hashlib.sha256(
            json.dumps([konfig.version, self.konfig_values], sort_keys=True, default=str).encode("utf-8")
        ).hexdigest()

    @property
    def pool(self) -> JailPool:
        return pool_for(self.limits)

    @contextmanager
    def session(self, version: LoadedVersion) -> Iterator[StepSession]:
        """A jail ready for a step of a case of ``version``."""
        with self.pool.jail() as jail:
            yield StepSession(self, jail, version)


class StepSession:
    """One jail, one case, one step."""

    def __init__(self, steps: Steps, jail: JailProcess, version: LoadedVersion) -> None:
        self.steps = steps
        self.jail = jail
        self.version = version
        self.model_key = _model_key(version)
        self._targets: list[LoadedVersion] = []  # further versions the jail must know (a migration's target)
        self._refusal: BaseException | None = None

    def start(self, data: dict[str, Any], message: tuple[str, Any] | None = None) -> StepResult:
        """A new case with ``data``, run to its first wait state (started by ``message`` if given)."""
        reply = self._step({"op": "start", "data": data, "message": list(message) if message else None})
        return _result(reply)

    def complete(
        self, state: str, serializer_version: str, task_uuid: str, form: Mapping[str, Any], submission: Submission
    ) -> tuple[StepResult, dict[str, Any], dict[str, Any]]:
        """Check ``submission`` against ``form``, complete the task and run on – one round trip to the jail.

        Returns the result, the clean data stored and the changes (field → [before, after]).
        :raises FormValidationError: :raises ConflictError: the task is not open. :raises ScriptError:
        """
        form_text = _form_text(form)
        request = {"op": "complete", "task": task_uuid, "form": form_text, "submission": submission.to_wire()}
        reply = self._step({**request, **self._case(state, serializer_version)})
        return _result(reply), dict(reply["clean"]), dict(reply["changes"])

    def deliver(self, state: str, serializer_version: str, name: str, payload: Any) -> StepResult | None:
        """Hand the case a message and run on; None if the case does not wait for it."""
        reply = self._step({"op": "deliver", "name": name, "payload": payload, **self._case(state, serializer_version)})
        return _result(reply) if reply.get("delivered") else None

    def fire_timers(self, state: str, serializer_version: str) -> StepResult:
        """Let the timers fire that are due by the engine clock, and run on."""
        return _result(self._step({"op": "fire_timers", **self._case(state, serializer_version)}))

    def migrate(
        self, state: str, serializer_version: str, target: LoadedVersion, mapping: Mapping[str, str], *, dry: bool
    ) -> tuple[dict[str, Any], StepResult | None]:
        """Check (``dry``) or move the case to ``target`` with the confirmed ``mapping`` (old task id → new id).

        Returns what the check found (``engine.migration_step.MigrationCheck`` as a dict) and, for a case that
        moved, the result to store. :raises ScriptError: the jail failed.
        """
        self._targets.append(target)
        label = f"Version {target.version}"
        request = {"op": "migrate", "target": _model_key(target), "mapping": dict(mapping), "dry": dry, "label": label}
        reply = self._step({**request, **self._case(state, serializer_version)})
        found = dict(reply["check"])
        return found, (_result(reply) if "state" in reply else None)

    # --- plumbing ---------------------------------------------------------------------------------------------

    @staticmethod
    def _case(state: str, serializer_version: str) -> dict[str, Any]:
        return {"state": state, "serializer_version": serializer_version}

    def _prepare(self, deadline: float) -> None:
        steps, jail = self.steps, self.jail
        if steps.konfig_digest not in jail.konfigs:
            message = {"op": "konfig", "digest": steps.konfig_digest, "version": steps.konfig.version}
            self._checked(jail.request({**message, "values": steps.konfig_values}, deadline=deadline))
            jail.konfigs.add(steps.konfig_digest)
        for version in (self.version, *self._targets):
            key = _model_key(version)
            if key not in jail.models:
                message = {"op": "model", "key": key, "process_id": version.process_id}
                request = {**message, "resources": dict(version.resources), "max_bytes": steps.max_model_bytes}
                self._checked(jail.request(request, deadline=deadline))
                jail.models.add(key)

    def _step(self, request: dict[str, Any]) -> dict[str, Any]:
        steps = self.steps
        deadline = time.monotonic() + steps.limits.step_seconds
        message = {
            **request,
            "model": self.model_key,
            "konfig": steps.konfig_digest,
            "timeout": steps.script_timeout,
            "now": clock.now().isoformat(),
        }
        try:
            self._prepare(deadline)
            reply = self.jail.request(message, deadline=deadline, on_call=self._call)
            missing = reply.get("error") or {}
            if isinstance(missing, dict) and missing.get("kind") == "model_missing":
                # The jail dropped a model it had (it keeps a bounded number): send it again, then the step.
                self.jail.models.discard(str(missing.get("key")))
                self._prepare(deadline)
                reply = self.jail.request(message, deadline=deadline, on_call=self._call)
        except JailFailure as failure:
            raise ScriptError(failure.reason) from None
        answer: dict[str, Any] = self._checked(reply)
        return answer

    def _checked(self, reply: dict[str, Any]) -> Any:
        error = reply.get("error")
        if error is None:
            return reply.get("ok")
        if isinstance(error, dict) and error.get("kind") == "parent" and self._refusal is not None:
            raise self._refusal
        if isinstance(error, dict) and error.get("kind") == "form" and isinstance(error.get("fields"), dict):
            raise FormValidationError({str(k): [str(m) for m in v] for k, v in error["fields"].items()})
        raise_error(error if isinstance(error, dict) else {})
        return None  # unreachable

    def _call(self, name: str, params: dict[str, Any]) -> Any:
        """A service operation the step called, run here in the caller's transaction."""
        try:
            return service_tasks.call(name, params)
        except Exception as exc:  # kept and re-raised after the jail stopped the step
            self._refusal = exc
            raise ServiceRefused from None


def _model_key(version: LoadedVersion) -> str:
    return f"{version.process_id}:{version.content_hash}"


def _result(reply: dict[str, Any]) -> StepResult:
    return StepResult(
        state=str(reply["state"]),
        finished=bool(reply["finished"]),
        end_reached=bool(reply["end_reached"]),
        next_timer_at=_instant(reply.get("next_timer_at")),
        applicant_name=reply.get("applicant_name"),
        claim_date=reply["claim_date"] if isinstance(reply.get("claim_date"), date) else None,
        ready=[
            ReadyTask(
                str(t["uuid"]),
                str(t["spec"]),
                str(t["name"]),
                str(t["lane"]),
                _instant(t.get("due")),
                {str(k): [str(v) for v in vs] for k, vs in (t.get("label") or {}).items() if isinstance(vs, list)},
            )
            for t in reply["ready"]
        ],
        thrown=[(str(name), payload) for name, payload in reply["thrown"]],
        fired=[str(name) for name in reply.get("fired", [])],
        delivered=bool(reply.get("delivered", True)),
    )


_FORM_TEXTS: dict[int, tuple[Mapping[str, Any], str]] = {}


def _form_text(form: Mapping[str, Any]) -> str:
    """A form as JSON text (forms of deployed versions never change: the text is made once per form object).

    Sent as text, the form crosses the pipe without being walked value by value on both sides."""
    cached = _FORM_TEXTS.get(id(form))
    if cached is not None and cached[0] is form:
        return cached[1]
    text = json.dumps(form, separators=(",", ":"), ensure_ascii=False)
    if len(_FORM_TEXTS) > 2_000:
        _FORM_TEXTS.clear()
    _FORM_TEXTS[id(form)] = (form, text)
    return text


def _instant(value: Any) -> datetime | None:
    return value if isinstance(value, datetime) else None
