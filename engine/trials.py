"""Probelauf: a process owner runs a draft as a trial case and works its tasks as any lane.

Isolation is structural: a trial lives in its own table (``trial_case``) with its own open tasks and journal,
never in ``process_instance`` / ``human_task``. Every inbox, report, export, metric, case search and staffing
figure reads only those tables, so no query has to remember to leave trials out. Model code still runs only in
the jail (``engine.steps``), exactly as for real cases. What a trial must not do to the real world it does not
do: service operations (petty cash, Sammellisten) are checked but not run (the journal names them), messages it
sends are not delivered, and its audit events carry no case id (they go to the global chain, with the draft and
the trial in their details, and no form values). Thrown away, a trial is deleted with its tasks; that is audited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import audit, clock, decision_library, drafts, permissions, service_tasks
from .audit import Action
from .auth import Actor
from .deployments import content_hash
from .drafts import Draft
from .errors import ConflictError, ModelError, NotFoundError, PermissionDeniedError, RuleViolationError
from .forms import FieldSpec, Submission, form_fields
from .konfiguration import Konfiguration
from .model_loader import ModelFile, load_processes
from .models import TrialCase
from .read_models import labels_of
from .serialization import SERIALIZER_VERSION
from .service_tasks import ServiceContext
from .stepping import StepResult
from .steps import Steps, StepSession
from .versions import LoadedVersion
from .vocabulary import SITES

RUNNING, COMPLETED = "running", "completed"
MAX_TRIALS_PER_DRAFT = 20
EMPTY_FORM: dict[str, Any] = {"type": "object", "properties": {}}
REFUSED = "Probeläufe sind der Prozessverantwortung vorbehalten."
GONE = "Der Probelauf existiert nicht (mehr)."
TASK_GONE = "Die Aufgabe des Probelaufs ist nicht mehr offen."
STALE = "Der Probelauf wurde zwischenzeitlich weitergeführt (anderes Fenster?). Bitte laden Sie die Seite neu."


@dataclass(frozen=True)
class TrialTask:
    """An open task of a trial (its "inbox row")."""

    task_uuid: str
    spec_id: str
    name: str
    lane: str
    egs_role: str | None
    form_key: str | None


@dataclass(frozen=True)
class JournalEntry:
    """One thing that happened in a trial, in German."""

    at: datetime
    actor: str
    text: str


@dataclass(frozen=True)
class Trial:
    """A trial case with its open tasks, data so far and journal."""

    id: int
    draft_id: int
    process_id: str
    name: str
    site: str
    status: str
    lock_version: int
    started_by: str
    started_at: datetime
    updated_at: datetime
    next_timer_at: datetime | None
    tasks: tuple[TrialTask, ...]
    journal: tuple[JournalEntry, ...]
    data: dict[str, Any]
    labels: dict[str, FieldSpec]

    @property
    def finished(self) -> bool:
        return self.status == COMPLETED


@dataclass(frozen=True)
class TrialTaskView:
    """One open task of a trial with its form, for the trial's task page."""

    trial: Trial
    task: TrialTask
    form_title: str
    fields: list[FieldSpec]
    instructions: str
    four_eyes: str | None


def may_run_trials(actor: Actor) -> None:
    """:raises PermissionDeniedError: unless the actor may run trials (``permissions.may_run_trials``)."""
    if not permissions.may_run_trials(actor):
        raise PermissionDeniedError(REFUSED)


def _trial(row: TrialCase) -> Trial:
    tasks = tuple(TrialTask(**task) for task in row.tasks)
    journal = tuple(JournalEntry(datetime.fromisoformat(e["at"]), e["actor"], e["text"]) for e in row.journal)
    return Trial(row.id, row.draft_id, row.process_id, row.name, row.site, row.status, row.lock_version,
                 row.started_by, row.started_at, row.updated_at, row.next_timer_at, tasks, journal,
                 dict(row.data), labels_of(row.forms))  # fmt: skip


class Trials:
    """Starts, steps and throws away trial cases of drafts (in the jail, like real cases)."""

    def __init__(self, steps: Steps, konfig: Konfiguration, check_files: Callable[..., Any], max_model_bytes: int):
        self.steps = steps
        self.konfig = konfig
        self.check_files = check_files  # ``deployments.checked_models`` with the engine's forms folder and limits
        self.max_model_bytes = max_model_bytes
        self._parsed: dict[tuple[str, str], LoadedVersion] = {}

    # --- reading ----------------------------------------------------------------------------------------------

    def of_draft(self, session: Session, actor: Actor, draft_id: int) -> list[Trial]:
        """The trials of a draft, newest first."""
        may_run_trials(actor)
        query = sa.select(TrialCase).where(TrialCase.draft_id == draft_id).order_by(TrialCase.id.desc())
        return [_trial(row) for row in session.scalars(query)]

    def get(self, session: Session, actor: Actor, trial_id: int) -> Trial:
        """:raises NotFoundError: :raises PermissionDeniedError:"""
        may_run_trials(actor)
        return _trial(self._row(session, trial_id))

    def task_view(self, session: Session, actor: Actor, trial_id: int, task_uuid: str) -> TrialTaskView:
        """An open task of a trial with its form (the form the trial started with)."""
        may_run_trials(actor)
        row = self._row(session, trial_id)
        task = _open_task(row, task_uuid)
        version = self._version(row)
        info = version.model.tasks.get(task.spec_id)
        form = version.forms.get(task.form_key or "", EMPTY_FORM)
        four_eyes = info.properties.get("egsFourEyes") if info else None
        return TrialTaskView(_trial(row), task, str(form.get("title", task.name)), form_fields(form),
                             info.instructions if info else "", four_eyes or None)  # fmt: skip

    # --- changing ---------------------------------------------------------------------------------------------

    def start(self, session: Session, actor: Actor, draft: Draft, live: LoadedVersion | None, site: str) -> Trial:
        """Start a trial of the saved draft at ``site`` (audited).

        :raises ModelError: (``ModelLintError``) if the draft cannot run as it is. :raises RuleViolationError:
            the process is not offered at ``site``, or the draft has too many trials. :raises NotFoundError:
        """
        may_run_trials(actor)
        if site not in SITES:
            raise NotFoundError(f"Unbekannter Standort: {site}")
        count = session.scalar(sa.select(sa.func.count()).where(TrialCase.draft_id == draft.id)) or 0
        if count >= MAX_TRIALS_PER_DRAFT:
            raise RuleViolationError(
                f"Ein Entwurf kann höchstens {MAX_TRIALS_PER_DRAFT} Probeläufe haben. Bitte verwerfen Sie alte."
            )
        version = self._draft_version(draft, live, lambda: decision_library.library(session))
        model = version.model
        if model.sites is not None and site not in model.sites:
            raise RuleViolationError(f"„{version.name}“ wird am Standort {site} nicht angeboten "
                                     f"(nur {', '.join(model.sites)}).")  # fmt: skip
        message: tuple[str, Any] | None = None
        if not model.direct_start:
            if not model.start_messages:
                raise RuleViolationError(f"„{version.name}“ hat kein Startereignis, mit dem ein Probelauf beginnt.")
            message = (sorted(model.start_messages)[0], {})
        now = clock.now()
        row = TrialCase(
            draft_id=draft.id, process_id=version.process_id, name=version.name, site=site, status=RUNNING,
            state="{}", serializer_version=SERIALIZER_VERSION, lock_version=0, content_hash=version.content_hash,
            resources=dict(version.resources), forms=dict(version.forms), data={}, tasks=[], journal=[],
            started_by=actor.username, started_at=now, updated_at=now,
        )  # fmt: skip
        session.add(row)
        session.flush()
        initial = {"vorgangsnummer": f"PROBE-{row.id}", "standort": site,
                   "gestartet_am": clock.today_berlin().isoformat()}  # fmt: skip
        self._parsed[(version.process_id, version.content_hash)] = version
        with self._step(session, row, version, actor) as (step, simulated):
            result = step.start(initial, message)
        row.data = dict(initial)
        opened = "Probelauf gestartet" + (f" (durch die Nachricht „{message[0]}“)" if message else "")
        self._apply(row, version, result, actor, [opened], simulated)
        _record(session, Action.TRIAL_STARTED, actor, row, {"site": site, "sha256": version.content_hash})
        return _trial(row)

    def complete(
        self, session: Session, actor: Actor, trial_id: int, task_uuid: str, submission: Submission, expected: int
    ) -> Trial:
        """Complete an open task of a trial as any lane, checked against its form, and run on (audited without
        the values). :raises FormValidationError: :raises ConflictError: stale ``expected`` or task gone."""
        may_run_trials(actor)
        row = self._row(session, trial_id, lock=True)
        if row.lock_version != expected:
            raise ConflictError(STALE, expected=expected, actual=row.lock_version)
        task = _open_task(row, task_uuid)
        version = self._version(row)
        form = version.forms.get(task.form_key or "", EMPTY_FORM)
        with self._step(session, row, version, actor) as (step, simulated):
            result, clean, _changes = step.complete(row.state, row.serializer_version, task_uuid, form, submission)
        row.data = {**row.data, **clean}
        self._apply(row, version, result, actor, [f"„{task.name}“ erledigt (als {task.lane})"], simulated)
        _record(session, Action.TRIAL_STEP, actor, row, {"task_id": task.spec_id, "lane": task.lane})
        return _trial(row)

    def discard(self, session: Session, actor: Actor, trial_id: int) -> None:
        """Throw a trial away: its row, open tasks and journal are deleted (audited)."""
        may_run_trials(actor)
        row = self._row(session, trial_id, lock=True)
        _record(session, Action.TRIAL_DISCARDED, actor, row, {"status": row.status})
        session.delete(row)
        session.flush()

    def discard_of_draft(self, session: Session, actor: Actor, draft_id: int) -> int:
        """Throw away every trial of a draft (before the draft is deleted or deployed); how many."""
        rows = session.scalars(sa.select(TrialCase).where(TrialCase.draft_id == draft_id).with_for_update()).all()
        for row in rows:
            _record(session, Action.TRIAL_DISCARDED, actor, row, {"status": row.status, "with_draft": True})
            session.delete(row)
        session.flush()
        return len(rows)

    # --- plumbing ---------------------------------------------------------------------------------------------

    @staticmethod
    def _row(session: Session, trial_id: int, *, lock: bool = False) -> TrialCase:
        query = sa.select(TrialCase).where(TrialCase.id == trial_id)
        row = session.scalars(query.with_for_update() if lock else query).first()
        if row is None:
            raise NotFoundError(GONE)
        return row

    def _draft_version(
        self, draft: Draft, live: LoadedVersion | None, library: Callable[[], Mapping[str, str]]
    ) -> LoadedVersion:
        """The draft as a runnable version (checked like a deploy, stored nowhere)."""
        models, forms = self.check_files(drafts.model_files(draft, live, library), own_forms=draft.forms)
        model = models.get(draft.process_id)
        if model is None:
            raise ModelError(f"Der Entwurf enthält den Prozess '{draft.process_id}' nicht als ausführbaren Prozess.",
                             filename=draft.filename)  # fmt: skip
        own = forms[draft.process_id]
        return LoadedVersion(0, draft.process_id, 0, model.name, own, model, content_hash(model, own),
                             dict(model.resources))  # fmt: skip

    def _version(self, row: TrialCase) -> LoadedVersion:
        """The version a trial started with, parsed again from its stored files (cached by content)."""
        key = (row.process_id, row.content_hash)
        cached = self._parsed.get(key)
        if cached is None:
            files = [ModelFile(name, text.encode("utf-8")) for name, text in row.resources.items()]
            model = load_processes(files, self.max_model_bytes)[row.process_id]
            if len(self._parsed) > 50:
                self._parsed.clear()
            cached = self._parsed[key] = LoadedVersion(0, row.process_id, 0, row.name, dict(row.forms), model,
                                                       row.content_hash, dict(row.resources))  # fmt: skip
        return cached

    @contextmanager
    def _step(
        self, session: Session, row: TrialCase, version: LoadedVersion, actor: Actor
    ) -> Iterator[tuple[StepSession, list[str]]]:
        """A jail for one step of a trial; service operations it calls are recorded, not run."""
        simulated: list[str] = []
        context = ServiceContext(session, None, f"PROBE-{row.id}", row.site, actor.username, self.konfig,
                                 simulated=simulated)  # fmt: skip
        with service_tasks.bound(context), self.steps.session(version) as step:
            yield step, simulated

    @staticmethod
    def _apply(
        row: TrialCase, version: LoadedVersion, result: StepResult, actor: Actor, texts: list[str], simulated: list[str]
    ) -> None:
        texts = texts + [f"Service-Operation „{name}“ aufgerufen (im Probelauf nicht ausgeführt)" for name in simulated]
        texts += [f"Nachricht „{name}“ gesendet (im Probelauf nicht zugestellt)" for name, _ in result.thrown]
        tasks = []
        for ready in result.ready:
            info = version.model.tasks.get(ready.spec_id)
            tasks.append({
                "task_uuid": ready.task_uuid, "spec_id": ready.spec_id,
                "name": (info.name if info else ready.name) or ready.spec_id,
                "lane": (info.lane if info else ready.lane) or "",
                "egs_role": info.egs_role if info else None, "form_key": info.form_key if info else None,
            })  # fmt: skip
        if result.finished:
            texts.append("Probelauf beendet" + ("" if result.end_reached else " (ohne Endereignis)"))
        elif not tasks and result.next_timer_at is not None:
            texts.append("Wartet auf ein Zeitereignis (im Probelauf wird es nicht ausgelöst)")
        elif not tasks:
            texts.append("Wartet auf eine Nachricht (im Probelauf wird keine zugestellt)")
        now = clock.now()
        row.state, row.serializer_version = result.state, SERIALIZER_VERSION
        row.tasks = [] if result.finished else tasks
        row.status = COMPLETED if result.finished else RUNNING
        row.next_timer_at = result.next_timer_at
        row.journal = [*row.journal, *({"at": now.isoformat(), "actor": actor.username, "text": t} for t in texts)]
        row.lock_version += 1
        row.updated_at = now


def _open_task(row: TrialCase, task_uuid: str) -> TrialTask:
    for task in row.tasks:
        if task["task_uuid"] == task_uuid:
            return TrialTask(**task)
    raise ConflictError(TASK_GONE)


def _record(session: Session, action: Action, actor: Actor, row: TrialCase, details: Mapping[str, Any]) -> None:
    audit.record(session, action, actor.username, process_id=row.process_id,
                 details={"draft": row.draft_id, "trial": row.id, **details})  # fmt: skip
