"""The engine's public API: every operation is one transaction with permission checks and audit events.

The web app and the CLI call only this class. Failures that matter to an auditor (refused access,
conflicts, script errors) are recorded in a separate transaction, because the operation's own
transaction is rolled back.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import audit, clock, schema
from .audit import Action
from .auth import SITES, Actor, authenticate, load_actor
from .case_path import case_path
from .casework import Casework
from .config import EngineSettings
from .db import Database
from .deployments import DeployedProcess, LoadedVersion, SpecCache, collect_model_files, deploy
from .errors import (
    AuthenticationError,
    ConflictError,
    FormValidationError,
    NotFoundError,
    PermissionDeniedError,
    RuleViolationError,
    ScriptError,
)
from .forms import check_submission, form_fields, validate_submission
from .inbox import LEAD_GROUPS, InboxPage, InboxQuery, TaskSummary, inbox_page, list_tasks, tasks_of_case
from .konfiguration import load_konfiguration
from .model_loader import ModelFile
from .models import AuditEvent, Grant, HumanTask, ProcessInstance, ProcessVersion, TaskDraft, User
from .raci import RaciRow, raci_rows
from .reports import MEASURE_TITLES, PaymentList, StaffingShares, payment_list, staffing_shares
from .runtime import ERROR, RUNNING, CaseRuntime, case_data, waiting_timers
from .scripting import create_script_engine
from .serialization import StateCodec
from .timers import timer_deadlines
from .views import (
    CaseHeader,
    CaseView,
    Deadline,
    HistoryEntry,
    ProcessInfo,
    RelatedCase,
    TaskView,
    header_of,
    history_details,
    labels_of,
    restricted_fields,
    without,
)

log = logging.getLogger("egs.engine")

BUSINESS_KEY_MAX = 64
PRIORITIES = (0, 1, 2, 3)  # normal, erhöht, hoch, sehr hoch


class Engine:
    """Facade over deployments, runtime, inbox and audit (no web framework inside)."""

    def __init__(self, settings: EngineSettings) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        self.konfig = load_konfiguration(settings.config_file)
        self.specs = SpecCache(settings.max_model_bytes)
        script_engine = create_script_engine(settings.script_timeout, {"konfig": self._konfig_value})
        self.runtime = CaseRuntime(self.specs, StateCodec(), script_engine)
        self.casework = Casework(self.runtime, self.specs, self.konfig)

    def _konfig_value(self, key: str) -> Any:
        """The ``konfig("abschnitt.schlüssel")`` helper of model scripts."""
        try:
            return self.konfig.get(key)
        except KeyError as exc:
            raise ScriptError(str(exc.args[0])) from None

    # --- lifecycle -------------------------------------------------------------------------------------------

    def init_db(self) -> None:
        """Upgrade the database schema to the newest revision."""
        schema.upgrade(self.db)

    def ensure_schema(self) -> None:
        """:raises SchemaOutdatedError: if ``init-db`` has to run first."""
        schema.ensure_current(self.db)

    def ping(self) -> bool:
        """True if the database answers (False on any database error, which is logged by type only)."""
        try:
            with self.db.engine.connect() as connection:
                return connection.execute(sa.text("SELECT 1")).scalar() == 1
        except sa.exc.SQLAlchemyError as exc:
            log.warning("database unreachable (%s)", type(exc).__name__)
            return False

    def close(self) -> None:
        self.db.dispose()

    # --- failure recording -----------------------------------------------------------------------------------

    def _record(self, action: str, actor: Actor, **fields: Any) -> None:
        with self.db.transaction() as session:
            audit.record(session, action, actor.username, **fields)

    @contextmanager
    def _audited(self, actor: Actor, operation: str, task_uuid: str | None = None,
                 instance_id: int | None = None) -> Iterator[None]:  # fmt: skip
        try:
            yield
        except (PermissionDeniedError, ConflictError, ScriptError, RuleViolationError) as exc:
            if isinstance(exc, PermissionDeniedError):
                action = Action.ACCESS_DENIED
            elif isinstance(exc, ConflictError):
                action = Action.CONFLICT
            elif isinstance(exc, RuleViolationError):
                action = Action.RULE_VIOLATION
            else:
                action = Action.SCRIPT_ERROR
            if instance_id is None and task_uuid is not None:
                instance_id = self._instance_of_task(task_uuid)
            self._record(
                action,
                actor,
                instance_id=instance_id,
                task_uuid=task_uuid,
                details={"operation": operation, "reason": exc.message},
            )
            log.info("%s refused: %s (user %s)", operation, action, actor.username)
            raise

    def _instance_of_task(self, task_uuid: str) -> int | None:
        with self.db.reading() as session:
            found = session.scalar(sa.select(HumanTask.instance_id).where(HumanTask.task_uuid == task_uuid))
            if found is None:
                found = session.scalar(
                    sa.select(AuditEvent.instance_id).where(AuditEvent.task_uuid == task_uuid).limit(1)
                )
            return found

    # --- users -----------------------------------------------------------------------------------------------

    def login(self, username: str, password: str) -> Actor:
        """Check credentials; both outcomes are audited (user name only, never the password).

        :raises AuthenticationError:
        """
        try:
            with self.db.reading() as session:
                actor = authenticate(session, username, password)
        except AuthenticationError:
            with self.db.transaction() as session:
                audit.record(session, Action.LOGIN_FAILED, username[:64] or "?")
            raise
        with self.db.transaction() as session:
            audit.record(session, Action.LOGIN, actor.username)
        return actor

    def record_login_refused(self, username: str) -> None:
        """Audit a login attempt refused before the password was checked (too many failures)."""
        with self.db.transaction() as session:
            audit.record(session, Action.LOGIN_THROTTLED, username[:64] or "?")

    def actor(self, username: str) -> Actor:
        """Load a user with the grants valid now. :raises AuthenticationError:"""
        with self.db.reading() as session:
            return load_actor(session, username)

    def logout(self, actor: Actor) -> None:
        self._record(Action.LOGOUT, actor)

    # --- deployments -----------------------------------------------------------------------------------------

    def deploy_files(
        self, files: Sequence[ModelFile], actor: Actor, forms_dir: Path | None = None
    ) -> list[DeployedProcess]:
        """Deploy model files (with forms from ``forms_dir``). :raises ModelError: nothing is stored then."""
        with self.db.transaction() as session:
            return deploy(
                session,
                files,
                forms_dir or self.settings.forms_dir,
                actor.username,
                max_model_bytes=self.settings.max_model_bytes,
                max_form_bytes=self.settings.max_form_bytes,
            )

    def deploy_paths(self, paths: Sequence[Path], actor: Actor, forms_dir: Path | None = None) -> list[DeployedProcess]:
        """Deploy every .bpmn/.dmn file found in ``paths``."""
        return self.deploy_files(collect_model_files(paths), actor, forms_dir)

    def colleagues(self, actor: Actor, task_uuid: str) -> list[tuple[str, str]]:
        """(user name, display name) of the other people who may work this task (for delegation)."""
        with self.db.reading() as session:
            task = session.scalar(sa.select(HumanTask).where(HumanTask.task_uuid == task_uuid))
            if task is None:
                return []
            rows = session.execute(
                sa.select(User.username, User.display_name)
                .join(Grant, Grant.user_id == User.id)
                .where(
                    User.active,
                    Grant.group_code == task.lane,
                    Grant.site.in_((task.site, "*")),
                    sa.or_(Grant.valid_until.is_(None), Grant.valid_until > clock.now()),
                    User.username != actor.username,
                )
                .distinct()
                .order_by(User.display_name)
            ).all()
            return [(username, name) for username, name in rows]

    def inbox_choices(self, actor: Actor) -> tuple[list[str], list[tuple[str, str]]]:
        """Choices for the inbox filters: names of the user tasks of the actor's groups (from the models)
        and the people working in the actor's groups at the actor's sites (user name, display name)."""
        groups = {group for group, _ in actor.work_pairs()}
        sites = {site for _, site in actor.work_pairs()}
        with self.db.reading() as session:
            newest = sa.select(sa.func.max(ProcessVersion.id)).group_by(ProcessVersion.process_id).scalar_subquery()
            names: set[str] = set()
            for version_id in session.scalars(sa.select(ProcessVersion.id).where(ProcessVersion.id.in_(newest))):
                model = self.specs.get(session, version_id).model
                names |= {t.name for t in model.tasks.values() if t.is_user_task and t.lane in groups}
            people = session.execute(
                sa.select(User.username, User.display_name)
                .join(Grant, Grant.user_id == User.id)
                .where(User.active, Grant.group_code.in_(groups), Grant.site.in_(sites | {"*"}))
                .distinct()
                .order_by(User.display_name)
            ).all()
        return sorted(names), [(username, name) for username, name in people]

    def process_names(self) -> list[tuple[str, str]]:
        """(process id, name) of the newest version of every deployed process, by name."""
        with self.db.reading() as session:
            newest = sa.select(sa.func.max(ProcessVersion.id)).group_by(ProcessVersion.process_id).scalar_subquery()
            rows = session.execute(
                sa.select(ProcessVersion.process_id, ProcessVersion.name)
                .where(ProcessVersion.id.in_(newest))
                .order_by(ProcessVersion.name)
            ).all()
            return [(pid, name) for pid, name in rows]

    def startable_processes(self, actor: Actor) -> list[ProcessInfo]:
        """Newest version of each process the actor may start directly (a start group of theirs)."""
        with self.db.reading() as session:
            newest = sa.select(sa.func.max(ProcessVersion.id)).group_by(ProcessVersion.process_id).scalar_subquery()
            ids = session.scalars(
                sa.select(ProcessVersion.id).where(ProcessVersion.id.in_(newest)).order_by(ProcessVersion.name)
            ).all()
            found = []
            for version_id in ids:
                version = self.specs.get(session, version_id)
                lanes = version.model.start_lanes
                if version.model.direct_start and any(actor.has_group(lane) for lane in lanes):
                    found.append(ProcessInfo(version.process_id, version.name, version.version, lanes))
            return found

    # --- runtime ---------------------------------------------------------------------------------------------

    def start_case(
        self, actor: Actor, process_id: str, *, site: str | None = None, business_key: str | None = None,
        system: bool = False, data: Mapping[str, Any] | None = None,
    ) -> CaseHeader:  # fmt: skip
        """Start a case of the newest version of a process at a site (``data``: initial case data).

        :raises NotFoundError: unknown process. :raises PermissionDeniedError: actor not in the start lane
            at that site (unless ``system``). :raises RuleViolationError: process not offered at that site.
            :raises ScriptError: the first automatic steps failed. Nothing is stored on any error.
        """
        site = site or self.settings.default_site
        with self._audited(actor, "start"):
            if site not in SITES:
                raise NotFoundError(f"Unbekannter Standort: {site}")
            if business_key is not None and not 0 < len(business_key) <= BUSINESS_KEY_MAX:
                raise FormValidationError(
                    {"business_key": [f"Das Geschäftszeichen muss 1 bis {BUSINESS_KEY_MAX} Zeichen lang sein."]}
                )
            with self.db.transaction() as session:
                version = self.specs.latest(session, process_id)
                lanes = version.model.start_lanes
                if not system and not any(actor.can_work(lane, site) for lane in lanes):
                    raise PermissionDeniedError(
                        f"Nur {' / '.join(lanes) or 'niemand'} am Standort {site} darf diesen Prozess starten."
                    )
                row = self.casework.start(
                    session, version, site=site, business_key=business_key, actor=actor.username, data=data
                )
                return header_of(row, version)

    def _open_task(self, session: Session, actor: Actor, task_uuid: str) -> HumanTask:
        task = session.scalar(sa.select(HumanTask).where(HumanTask.task_uuid == task_uuid))
        if task is None:
            known = session.scalar(sa.select(AuditEvent.id).where(AuditEvent.task_uuid == task_uuid).limit(1))
            if known is not None:
                raise ConflictError("Die Aufgabe ist nicht mehr offen – sie wurde bereits erledigt oder abgebrochen.")
            raise NotFoundError("Die Aufgabe gibt es nicht.")
        if not actor.can_work(task.lane, task.site):
            raise PermissionDeniedError(
                f"Diese Aufgabe gehört der Gruppe {task.lane} am Standort {task.site}; dafür fehlt die Berechtigung."
            )
        return task

    def claim(self, actor: Actor, task_uuid: str) -> None:
        """Take a task; atomic, so of two clerks claiming at once exactly one succeeds.

        :raises ConflictError: someone else holds it. :raises PermissionDeniedError:
        """
        with self._audited(actor, "claim", task_uuid=task_uuid), self.db.transaction() as session:
            task = self._open_task(session, actor, task_uuid)
            version = self.specs.get(session, self._version_id(session, task.instance_id))
            self.casework.check_four_eyes(session, actor, task.instance_id, version, task.task_spec_id)
            result = session.execute(
                sa.update(HumanTask)
                .where(
                    HumanTask.task_uuid == task_uuid,
                    sa.or_(HumanTask.assignee_id.is_(None), HumanTask.assignee_id == actor.user_id),
                )
                .values(assignee_id=actor.user_id)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise ConflictError("Die Aufgabe wurde bereits von einer Kollegin oder einem Kollegen übernommen.")
            audit.record(
                session, Action.CLAIM, actor.username, instance_id=task.instance_id, task_uuid=task_uuid,
                process_id=task.process_id, details={"task": task.name},
            )  # fmt: skip

    def send_message(
        self, actor: Actor, name: str, business_key: str, payload: Mapping[str, Any] | None = None,
        system: bool = False,
    ) -> int:  # fmt: skip
        """Deliver a message to the running cases with ``business_key`` that wait for it.

        :raises NotFoundError: no such case waits for it. :raises PermissionDeniedError: the actor may not
            work any of those cases (unless ``system``).
        """
        with self._audited(actor, "message"), self.db.transaction() as session:
            rows = session.scalars(
                sa.select(ProcessInstance).where(
                    ProcessInstance.business_key == business_key, ProcessInstance.status == RUNNING
                )
            ).all()
            if not system:
                for row in rows:
                    if not self._may_view(actor, self.specs.get(session, row.version_id), row.site):
                        raise PermissionDeniedError(f"Für den Vorgang {business_key} fehlt die Berechtigung.")
            delivered = self.casework.deliver(session, name, business_key, dict(payload or {}), actor.username)
            if not delivered:
                raise NotFoundError(f"Kein offener Vorgang {business_key} wartet auf die Nachricht „{name}“.")
            return len(delivered)

    def _task_for_lead(self, session: Session, actor: Actor, task_uuid: str) -> HumanTask:
        task = session.scalar(sa.select(HumanTask).where(HumanTask.task_uuid == task_uuid))
        if task is None:
            raise NotFoundError("Die Aufgabe gibt es nicht (mehr).")
        if not any(actor.has_group(group, task.site) for group in LEAD_GROUPS):
            raise PermissionDeniedError(f"Nur Teamleitung oder Fachdienstleitung am Standort {task.site} dürfen das.")
        return task

    def delegate(self, actor: Actor, task_uuid: str, to_username: str, reason: str) -> None:
        """Hand a task to a named colleague of its group and site, with a reason (audited).

        Whoever may work the task (or leads the site) may delegate it unless a third person holds it.
        :raises FormValidationError: no reason. :raises NotFoundError: unknown colleague.
            :raises RuleViolationError: colleague not in the task's group at its site. :raises ConflictError:
        """
        reason = " ".join(reason.split())
        if not reason:
            raise FormValidationError({"grund": ["Bitte einen Grund für die Weitergabe angeben."]})
        with self._audited(actor, "delegate", task_uuid=task_uuid), self.db.transaction() as session:
            task = session.scalar(sa.select(HumanTask).where(HumanTask.task_uuid == task_uuid))
            leads = task is not None and any(actor.has_group(g, task.site) for g in LEAD_GROUPS)
            if not leads:
                task = self._open_task(session, actor, task_uuid)
            assert task is not None
            if task.assignee_id not in (None, actor.user_id) and not leads:
                raise ConflictError("Die Aufgabe ist von einer anderen Person übernommen.")
            try:
                target = load_actor(session, to_username)
            except AuthenticationError as exc:
                raise NotFoundError(f"Kollegin oder Kollege „{to_username}“ nicht gefunden.") from exc
            if not target.can_work(task.lane, task.site):
                raise RuleViolationError(
                    f"{target.display_name} gehört nicht zur Gruppe {task.lane} am Standort {task.site}."
                )
            version = self.specs.get(session, self._version_id(session, task.instance_id))
            self.casework.check_four_eyes(session, target, task.instance_id, version, task.task_spec_id)
            previous = task.assignee_id
            task.assignee_id = target.user_id
            audit.record(
                session, Action.DELEGATE, actor.username, instance_id=task.instance_id, task_uuid=task_uuid,
                process_id=task.process_id,
                details={"task": task.name, "to": target.username, "reason": reason[:500], "from_user_id": previous},
            )  # fmt: skip

    def set_priority(self, actor: Actor, task_uuid: str, priority: int) -> None:
        """TL/FDL set a task's priority (0 normal … 3 sehr hoch); audited."""
        if priority not in PRIORITIES:
            raise FormValidationError({"prioritaet": ["Bitte eine Priorität von 0 bis 3 wählen."]})
        with self._audited(actor, "set_priority", task_uuid=task_uuid), self.db.transaction() as session:
            task = self._task_for_lead(session, actor, task_uuid)
            old, task.priority = task.priority, priority
            audit.record(
                session, Action.PRIORITY, actor.username, instance_id=task.instance_id, task_uuid=task_uuid,
                process_id=task.process_id, details={"task": task.name, "changes": {"prioritaet": [old, priority]}},
            )  # fmt: skip

    def set_due(self, actor: Actor, task_uuid: str, due_at: datetime | None) -> None:
        """TL/FDL set or clear a task's due date; audited. (Model deadlines move it again on the next save.)"""
        with self._audited(actor, "set_due", task_uuid=task_uuid), self.db.transaction() as session:
            task = self._task_for_lead(session, actor, task_uuid)
            old, task.due_at = task.due_at, due_at
            change = [old.isoformat() if old else None, due_at.isoformat() if due_at else None]
            audit.record(
                session, Action.DUE, actor.username, instance_id=task.instance_id, task_uuid=task_uuid,
                process_id=task.process_id, details={"task": task.name, "changes": {"faellig": change}},
            )  # fmt: skip

    def save_draft(self, actor: Actor, task_uuid: str, values: Mapping[str, Sequence[str]]) -> None:
        """Keep the actor's unfinished form input for a task (no validation, no completion)."""
        with self._audited(actor, "save_draft", task_uuid=task_uuid), self.db.transaction() as session:
            task = self._open_task(session, actor, task_uuid)
            if task.assignee_id not in (None, actor.user_id):
                raise ConflictError("Die Aufgabe ist von einer anderen Person übernommen.")
            clean = {str(k)[:100]: [str(v)[:5000] for v in vs][:50] for k, vs in list(values.items())[:200]}
            draft = session.scalar(
                sa.select(TaskDraft).where(TaskDraft.task_uuid == task_uuid, TaskDraft.user_id == actor.user_id)
            )
            if draft is None:
                session.add(TaskDraft(task_uuid=task_uuid, user_id=actor.user_id, values=clean, saved_at=clock.now()))
            else:
                draft.values, draft.saved_at = clean, clock.now()
            audit.record(
                session, Action.DRAFT_SAVED, actor.username, instance_id=task.instance_id, task_uuid=task_uuid,
                process_id=task.process_id, details={"task": task.name, "fields": sorted(clean)},
            )  # fmt: skip

    def _version_id(self, session: Session, instance_id: int) -> int:
        return session.scalar(sa.select(ProcessInstance.version_id).where(ProcessInstance.id == instance_id)) or 0

    def unclaim(self, actor: Actor, task_uuid: str) -> None:
        """Give a task back to the group. :raises ConflictError: it is held by someone else."""
        with self._audited(actor, "unclaim", task_uuid=task_uuid), self.db.transaction() as session:
            task = self._open_task(session, actor, task_uuid)
            if task.assignee_id not in (None, actor.user_id):
                raise ConflictError("Die Aufgabe ist von einer anderen Person übernommen.")
            task.assignee_id = None
            audit.record(
                session, Action.UNCLAIM, actor.username, instance_id=task.instance_id, task_uuid=task_uuid,
                process_id=task.process_id, details={"task": task.name},
            )  # fmt: skip

    def complete_task(
        self, actor: Actor, task_uuid: str, data: Mapping[str, Any], expected_lock_version: int | None = None
    ) -> CaseHeader:
        """Validate the form data and complete the task; run the case on to its next wait state.

        :raises FormValidationError: nothing is stored. :raises ConflictError: stale ``expected_lock_version``,
            task gone or held by someone else. :raises PermissionDeniedError: :raises ScriptError: case unchanged.
        """
        return self._complete(
            actor, task_uuid, lambda form, case: validate_submission(form, data, case, clock.today_berlin()),
            expected_lock_version,
        )  # fmt: skip

    def submit_form(
        self, actor: Actor, task_uuid: str, raw: Mapping[str, Sequence[str]], expected_lock_version: int | None = None
    ) -> CaseHeader:
        """Like ``complete_task``, for HTML form values (lists of strings) coerced by the task's schema."""
        return self._complete(
            actor, task_uuid, lambda form, case: check_submission(form, raw, case, clock.today_berlin()),
            expected_lock_version,
        )  # fmt: skip

    def _complete(
        self,
        actor: Actor,
        task_uuid: str,
        prepare: Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]],
        expected_lock_version: int | None,
    ) -> CaseHeader:
        with self._audited(actor, "complete", task_uuid=task_uuid), self.db.transaction() as session:
            task_row = self._open_task(session, actor, task_uuid)
            if task_row.assignee_id not in (None, actor.user_id):
                raise ConflictError("Die Aufgabe ist von einer anderen Person übernommen.")
            row = session.scalar(
                sa.select(ProcessInstance).where(ProcessInstance.id == task_row.instance_id).with_for_update()
            )
            if row is None:
                raise NotFoundError("Der Vorgang existiert nicht.")
            expected = row.lock_version if expected_lock_version is None else expected_lock_version
            if row.lock_version != expected:
                raise ConflictError(
                    "Der Vorgang wurde zwischenzeitlich von jemand anderem geändert. Bitte neu laden.",
                    instance_id=row.id,
                    expected=expected,
                    actual=row.lock_version,
                )
            version, workflow = self.runtime.load(session, row)
            task = self.runtime.ready_task(workflow, task_uuid)
            form = version.forms.get(task_row.form_key or "", {"type": "object", "properties": {}})
            self.casework.check_four_eyes(session, actor, row.id, version, task_row.task_spec_id)
            before = dict(task.data)
            clean = prepare(form, before)
            with self.casework.acting_for(session, row, actor.username):
                self.runtime.complete_user_task(workflow, task, clean)
            session.execute(sa.delete(TaskDraft).where(TaskDraft.task_uuid == task_uuid))
            changes = {k: [before.get(k), v] for k, v in clean.items() if before.get(k) != v}
            audit.record(
                session,
                Action.COMPLETE,
                actor.username,
                instance_id=row.id,
                task_uuid=task_uuid,
                process_id=row.process_id,
                details={"task": task_row.name, "task_id": task_row.task_spec_id, "data": clean, "changes": changes},
            )
            self.casework.settle(session, row, version, workflow, expected, actor.username)
            return header_of(row, version)

    def fire_due_timers(self, now: datetime | None = None, limit: int = 100) -> int:
        """Fire every timer due at ``now`` (default: the clock); return how many cases moved on.

        Each case is its own transaction; on PostgreSQL, rows another worker holds are skipped.
        A case whose next step fails is set to status 'error' (and skipped from then on).
        """
        moment = now or clock.now()
        fired = 0
        with clock.frozen(moment):
            with self.db.reading() as session:
                due = list(
                    session.scalars(
                        sa.select(ProcessInstance.id)
                        .where(ProcessInstance.status == RUNNING, ProcessInstance.next_timer_at <= moment)
                        .order_by(ProcessInstance.next_timer_at)
                        .limit(limit)
                    )
                )
            for instance_id in due:
                try:
                    fired += self._fire_case_timers(instance_id, moment)
                except ScriptError as exc:
                    self._mark_error(instance_id, exc)
        return fired

    def _fire_case_timers(self, instance_id: int, moment: datetime) -> int:
        with self.db.transaction() as session:
            query = sa.select(ProcessInstance).where(
                ProcessInstance.id == instance_id,
                ProcessInstance.status == RUNNING,
                ProcessInstance.next_timer_at <= moment,
            )
            if not self.db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            row = session.scalar(query)
            if row is None:
                return 0  # another worker has it, or it moved on
            version, workflow = self.runtime.load(session, row)
            waiting = waiting_timers(workflow)
            with self.casework.acting_for(session, row, "system"):
                self.runtime.fire_timers(workflow)
            still_waiting = waiting_timers(workflow)
            fired_names = sorted(name for task_id, name in waiting.items() if task_id not in still_waiting)
            if fired_names:
                audit.record(
                    session,
                    Action.TIMER_FIRED,
                    "system",
                    instance_id=row.id,
                    process_id=row.process_id,
                    details={"timers": fired_names, "due_at": moment.isoformat()},
                )
            self.casework.settle(session, row, version, workflow, row.lock_version, "system")
            return 1 if fired_names else 0

    def _mark_error(self, instance_id: int, exc: ScriptError) -> None:
        with self.db.transaction() as session:
            session.execute(
                sa.update(ProcessInstance)
                .where(ProcessInstance.id == instance_id)
                .values(
                    status=ERROR,
                    error_message=exc.message,
                    lock_version=ProcessInstance.lock_version + 1,
                    updated_at=clock.now(),
                )
            )
            audit.record(
                session, Action.SCRIPT_ERROR, "system", instance_id=instance_id, details={"reason": exc.message}
            )
        log.warning("case %s stopped with a script error in %s", instance_id, exc.element_id)

    def run_worker(self, interval: float | None = None, stop: Any = None, max_rounds: int | None = None) -> None:
        """Fire due timers in a loop (``egs worker``); ``stop`` is an Event-like object to end it."""
        pause = self.settings.worker_interval if interval is None else interval
        rounds = 0
        while not (stop is not None and stop.is_set()):
            fired = self.fire_due_timers()
            if fired:
                log.info("fired timers in %d cases", fired)
            rounds += 1
            if max_rounds is not None and rounds >= max_rounds:
                return
            if stop is not None:
                stop.wait(pause)
            else:
                time.sleep(pause)

    # --- reports ---------------------------------------------------------------------------------------------

    def payment_list(self, actor: Actor, site: str, measure_type: str, month: str) -> PaymentList:
        """The monthly Sammelliste of a measure type at a site; every access is audited as an export.

        :raises PermissionDeniedError: only EGS, IFK, TL, FDL of the site and the audit role.
        :raises FormValidationError: unknown measure type, site or month.
        """
        errors: dict[str, list[str]] = {}
        if measure_type not in MEASURE_TITLES:
            errors["massnahmeart"] = ["Bitte EGZ, EQ oder § 16e wählen."]
        if site not in SITES:
            errors["standort"] = ["Unbekannter Standort."]
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
            errors["monat"] = ["Bitte den Monat als JJJJ-MM angeben."]
        if errors:
            raise FormValidationError(errors)
        with self._audited(actor, "payment_list"), self.db.transaction() as session:
            if not any(actor.has_group(g, site) for g in ("EGS", "IFK", "TL", "FDL", "AUDIT")):
                raise PermissionDeniedError(f"Die Sammellisten des Standorts {site} sind für Sie nicht freigegeben.")
            result = payment_list(session, site, measure_type, month)
            audit.record(
                session,
                Action.EXPORT,
                actor.username,
                details={"report": "sammelliste", "site": site, "measure_type": measure_type, "month": month,
                         "lines": len(result.lines)},
            )  # fmt: skip
            return result

    def staffing(self) -> StaffingShares:
        """The configured VZÄ shares with their sum and warnings (§ 6)."""
        return staffing_shares(self.konfig)

    def raci(self) -> list[RaciRow]:
        """The RACI matrix of the newest deployed versions."""
        with self.db.reading() as session:
            return raci_rows(session, self.specs)

    # --- reads -----------------------------------------------------------------------------------------------

    def inbox(self, actor: Actor) -> list[TaskSummary]:
        """Open tasks of the actor's groups at the actor's sites."""
        with self.db.reading() as session:
            return list_tasks(session, actor)

    def inbox_page(self, actor: Actor, query: InboxQuery | None = None) -> InboxPage:
        """One page of a tab of the inbox, with filters, search, sort, keyset paging and tab counts."""
        with self.db.reading() as session:
            return inbox_page(session, actor, query or InboxQuery())

    def open_tasks(self, actor: Actor, instance_id: int) -> list[TaskSummary]:
        """The open tasks of one case that the actor may work (e.g. to go on right after starting it)."""
        with self.db.reading() as session:
            return [t for t in tasks_of_case(session, instance_id) if actor.can_work(t.lane, t.site)]

    def _may_view(self, actor: Actor, version: LoadedVersion, site: str) -> bool:
        lanes = {task.lane for task in version.model.tasks.values() if task.lane}
        lanes.update(version.model.start_lanes)
        return any(actor.can_work(lane, site) for lane in lanes) or actor.has_group("AUDIT", site)

    def case_view(self, actor: Actor, instance_id: int) -> CaseView:
        """Show a case; the view itself is audited.

        :raises NotFoundError: :raises PermissionDeniedError: (audited too)
        """
        with self._audited(actor, "view_case", instance_id=instance_id), self.db.transaction() as session:
            row = session.get(ProcessInstance, instance_id)
            if row is None:
                raise NotFoundError("Den Vorgang gibt es nicht.")
            version, workflow = self.runtime.load(session, row)
            if not self._may_view(actor, version, row.site):
                raise PermissionDeniedError("Für diesen Vorgang fehlt die Berechtigung (Gruppe/Standort).")
            audit.record(session, Action.CASE_VIEWED, actor.username, instance_id=row.id, process_id=row.process_id)
            events = audit.events_for_instance(session, row.id)
            labels = labels_of(version.forms)
            hidden = restricted_fields(labels, actor, row.site)
            history = [
                HistoryEntry(
                    e.occurred_at, e.actor, e.action, e.details.get("task"), history_details(e.details, hidden)
                )
                for e in events
                if e.action not in (Action.CASE_VIEWED, Action.TASK_VIEWED)
            ]
            return CaseView(
                header=header_of(row, version),
                open_tasks=tasks_of_case(session, row.id),
                history=history,
                data=without(case_data(workflow), hidden),
                labels=labels,
                path=case_path(workflow, version.model),
                deadlines=[Deadline(name, due) for name, due in timer_deadlines(workflow)],
                related=self._related(session, actor, row),
            )

    def _related(self, session: Session, actor: Actor, row: ProcessInstance) -> list[RelatedCase]:
        """Cases linked by message starts, limited to those the actor may see."""
        conditions = [ProcessInstance.related_key == row.business_key]
        if row.related_key:
            conditions.append(ProcessInstance.business_key == row.related_key)
        found: list[RelatedCase] = []
        for other in session.scalars(
            sa.select(ProcessInstance).where(sa.or_(*conditions)).order_by(ProcessInstance.id)
        ):
            if other.id == row.id:
                continue
            version = self.specs.get(session, other.version_id)
            if not self._may_view(actor, version, other.site):
                continue
            relation = "Ausgangsvorgang" if other.business_key == row.related_key else "daraus gestartet"
            found.append(RelatedCase(other.id, other.business_key, version.name, other.status, relation))
        return found

    def task_view(self, actor: Actor, task_uuid: str) -> TaskView:
        """Show a task with its form and the case data so far; audited.

        :raises NotFoundError: :raises ConflictError: task no longer open. :raises PermissionDeniedError:
        """
        with self._audited(actor, "view_task", task_uuid=task_uuid), self.db.transaction() as session:
            task_row = self._open_task(session, actor, task_uuid)
            row = session.get(ProcessInstance, task_row.instance_id)
            if row is None:
                raise NotFoundError("Den Vorgang gibt es nicht.")
            version, workflow = self.runtime.load(session, row)
            task = self.runtime.ready_task(workflow, task_uuid)
            info = version.model.tasks.get(task_row.task_spec_id)
            form = version.forms.get(task_row.form_key or "", {})
            assignee = None
            if task_row.assignee_id is not None:
                assignee = next((t.assignee for t in tasks_of_case(session, row.id) if t.task_uuid == task_uuid), None)
            audit.record(
                session, Action.TASK_VIEWED, actor.username, instance_id=row.id, task_uuid=task_uuid,
                process_id=row.process_id, details={"task": task_row.name},
            )  # fmt: skip
            draft = session.scalar(
                sa.select(TaskDraft).where(TaskDraft.task_uuid == task_uuid, TaskDraft.user_id == actor.user_id)
            )
            labels = labels_of(version.forms)
            return TaskView(
                draft=dict(draft.values) if draft else None,
                draft_saved_at=draft.saved_at if draft else None,
                task_uuid=task_uuid,
                name=task_row.name,
                lane=task_row.lane,
                egs_role=task_row.egs_role,
                instructions=info.instructions if info else "",
                form_key=task_row.form_key,
                form_title=str(form.get("title", task_row.name)),
                fields=form_fields(form) if form else [],
                assignee=assignee,
                due_at=task_row.due_at,
                header=header_of(row, version),
                data=without(task.data, restricted_fields(labels, actor, row.site)),
                labels=labels,
            )


__all__ = ["Engine", "CaseHeader", "CaseView", "TaskView", "ProcessInfo", "HistoryEntry", "FormValidationError"]
