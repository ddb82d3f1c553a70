"""The engine's public API: the web app and the command line call nothing else.

``Engine`` is a thin front. Each operation opens one transaction and hands it to the module that does the
work (``tasks``, ``case_reading``, ``casework``, ``inbox``, ``exports`` …); refusals that matter to an
auditor (no permission, conflicts, broken rules and scripts) are recorded in a transaction of their own,
because the operation's transaction is rolled back.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from . import (
    accounts,
    api_tokens,
    audit,
    audit_anchors,
    audit_exports,  # noqa: F401  (registers the exports audit-csv and audit-xes)
    audit_keys,
    audit_purpose,
    audit_verify,
    auth,
    case_log,
    case_migration,
    case_reading,
    case_search,
    clock,
    db_upgrade,
    decision_library,
    decisions,
    deploy_release,
    draft_forms,
    drafts,
    escalation,
    exports,
    heat_map,
    idempotency,
    incidents,
    integrations,
    lint_vocabulary,
    login_throttle,
    metrics,
    model_catalogue,
    model_compare,
    model_documents,
    notice_jobs,
    notice_mail,
    notices,
    payment_cancellation,
    permissions,
    raci,
    redeployment,
    retention,
    sessions,
    simulation_report,
    staff,
    staff_exports,  # also registers the staffing exports
    staff_overview,
    tasks,
    timer_worker,
    versions,
    vzae_plan,
)
from . import inbox as inbox_queries
from .api_tokens import CreatedToken, Principal, TokenInfo
from .audit import Action
from .audit_anchors import AnchorWritten
from .audit_purpose import Purpose
from .audit_story import CaseStory
from .audit_verify import ChainProblem, Scope
from .auth import Actor, system_actor
from .case_migration import MigrationOutcome, MigrationPlan
from .case_search import CaseHit
from .casework import Casework
from .config import EngineSettings
from .db import Database
from .decisions import DecisionDeployed, DecisionTableEntry
from .deployments import DeployedProcess, checked_models, collect_model_files, deploy
from .drafts import Draft
from .errors import (
    AuthenticationError,
    ConflictError,
    FormValidationError,
    LoginThrottledError,
    NotFoundError,
    PermissionDeniedError,
    RuleViolationError,
    ScriptError,
    SessionEndedError,
    TaskClosedError,
)
from .forms import FieldSpec, Submission
from .idempotency import Claim, Reply
from .inbox import InboxPage, InboxQuery, TaskSummary
from .incidents import IncidentView
from .integrations import CaseStatus
from .konfiguration import load_konfiguration
from .login_throttle import ThrottlePolicy
from .model_catalogue import ProcessEntry, VersionDiagram
from .model_compare import Comparison
from .model_documents import Document, DocumentInfo, Uploaded
from .model_loader import ModelFile
from .notifications import Notifications
from .payment_cancellation import CancelStep, ListSelection
from .payment_lists import PaymentList
from .raci import RaciRow
from .read_models import CaseHeader, CaseView, Completion, TaskView
from .retention import Hold
from .runtime import CaseRuntime
from .serialization import StateCodec
from .sessions import SessionInfo, SessionPolicy
from .simulation_report import ProcessDefault, SimulationInputs, SimulationReport
from .simulation_staff import RosterStaff
from .staff_overview import StaffOverview
from .staffing import StaffingShares, staffing_shares
from .steps import Steps
from .timer_worker import StopSignal
from .trials import Trial, Trials, TrialTaskView
from .versions import ProcessInfo, SpecCache
from .workbench import Workbench

T = TypeVar("T")
SYSTEM = system_actor("system")

log = logging.getLogger("egs.engine")

# Operations that only read: finding the task done already (TaskClosedError) is no conflict there.
READS = ("view_task",)

# Refusals recorded in the audit trail, and the action each is recorded as.
REFUSALS: tuple[tuple[type[Exception], Action], ...] = (
    (PermissionDeniedError, Action.ACCESS_DENIED),
    (ConflictError, Action.CONFLICT),
    (RuleViolationError, Action.RULE_VIOLATION),
    (ScriptError, Action.SCRIPT_ERROR),
)


@dataclass(frozen=True)
class SignedIn:
    """A successful login: who, and the token of the new session (for the cookie)."""

    actor: Actor
    token: str


def throttled_message(seconds: int) -> str:
    wait = f"{seconds} Sekunde{'n' if seconds != 1 else ''}" if seconds < 120 else f"{math.ceil(seconds / 60)} Minuten"
    return f"Zu viele fehlgeschlagene Anmeldeversuche. Bitte warten Sie {wait} und versuchen Sie es dann erneut."


class Engine:
    """Deployments, cases, tasks, the inbox, timers, reports and the audit trail (no web framework inside)."""

    def __init__(self, settings: EngineSettings) -> None:
        self.settings = settings
        self.db = Database(settings.database_url, settings.audit_key, settings.audit_keys[:-1])
        self.konfig = load_konfiguration(settings.config_file)
        self.specs = SpecCache(settings.max_model_bytes)
        self.steps = Steps(settings.jail_limits, self.konfig, settings.script_timeout, settings.max_model_bytes)
        self.runtime = CaseRuntime(self.specs, StateCodec())
        self.casework = Casework(self.runtime, self.specs, self.konfig, self.steps)
        self.session_policy = SessionPolicy(
            idle=timedelta(minutes=settings.session_idle_minutes), lifetime=timedelta(hours=settings.session_max_hours)
        )
        self.throttle_policy = ThrottlePolicy()
        self.trials = Trials(self.steps, self.konfig, self._checked_models, settings.max_model_bytes)
        self.workbench = Workbench(self.db, self.runtime, self._operation)  # the audit function's pages
        self.notifications = Notifications(self.db, self.specs, self._operation, settings)  # the bell, e-mail

    def init_db(self) -> tuple[str | None, str | None]:
        """Upgrade the database schema to the newest revision; return the revisions before and after. After an
        upgrade of a trail written without the key, the keyed chain begins with an epoch marker."""
        before, after = db_upgrade.upgrade(self.db)
        if before is not None and before != after:
            with self.db.transaction() as session:
                audit.begin_key_epoch(session)
        return before, after

    def ensure_schema(self) -> None:
        """:raises SchemaOutdatedError: if ``init-db`` has to run first."""
        db_upgrade.ensure_current(self.db)

    def ping(self) -> bool:
        return self.db.ping()

    def close(self) -> None:
        self.db.dispose()

    # --- the audited operation -------------------------------------------------------------------------------

    def _record(self, action: Action, username: str, **fields: Any) -> None:
        with self.db.transaction() as session:
            audit.record(session, action, username[:64] or "?", **fields)

    @contextmanager
    def _operation(
        self, actor: Actor, name: str, *, task_uuid: str | None = None, instance_id: int | None = None,
        optimistic: bool = False,
    ) -> Iterator[Session]:  # fmt: skip
        """One write transaction for ``name``; a refusal is recorded (case and task included) and re-raised."""
        try:
            with self.db.transaction(optimistic=optimistic) as session:
                yield session
        except tuple(kind for kind, _ in REFUSALS) as exc:
            if isinstance(exc, TaskClosedError) and name in READS:
                raise  # e.g. the back button after completing a task: nothing collided, nothing to record
            action = next(action for kind, action in REFUSALS if isinstance(exc, kind))
            if instance_id is None and task_uuid is not None:
                with self.db.reading() as session:
                    instance_id = tasks.instance_of(session, task_uuid)
            details = {"operation": name, "reason": getattr(exc, "message", str(exc))}
            with self.db.transaction() as session:
                audit.record(session, action, actor.username[:64] or "?", instance_id=instance_id,
                             task_uuid=task_uuid, details=details)  # fmt: skip
                if isinstance(exc, ScriptError) and (exc.instance_id or instance_id) is not None:
                    incidents.record(session, exc.instance_id or instance_id or 0, exc.during, exc)
            log.info("%s refused: %s", name, action)  # who: in the trail; logs carry no personal data
            raise

    def _step(self, actor: Actor, name: str, work: Callable[[Session], T], *, task_uuid: str | None = None) -> T:
        """``_operation`` for work that runs model code in a jail: on SQLite without holding the database's write
        lock while the model code runs, unless another writer interferes (``Database.optimistically``)."""

        def attempt(optimistic: bool) -> T:
            with self._operation(actor, name, task_uuid=task_uuid, optimistic=optimistic) as session:
                return work(session)

        return self.db.optimistically(attempt)

    # --- people ----------------------------------------------------------------------------------------------

    def login(self, username: str, password: str, address: str = "") -> SignedIn:
        """Check credentials behind the login throttle (``login_throttle``) and start a session.

        Both outcomes of a check are audited (user name only); tries refused unchecked are summarised.

        :raises LoginThrottledError: too many failures for this user name or from ``address`` (not checked).
        :raises AuthenticationError: wrong user name or password, or the account is disabled.
        """
        self._check_throttled(username, address)
        try:
            with self.db.reading() as session:
                actor = auth.authenticate(session, username, password)
        except AuthenticationError:
            self._record(Action.LOGIN_FAILED, username)
            raise
        with self.db.transaction() as session:
            now = clock.wall_now()
            login_throttle.succeeded(session, username, address, self.throttle_policy, now)
            token = sessions.open_session(session, _user_id(actor), self.session_policy, now)
            audit.record(session, Action.LOGIN, actor.username)
        return SignedIn(actor, token)

    def _check_throttled(self, username: str, address: str) -> None:
        """Count a password check before it runs, or refuse it. :raises LoginThrottledError:"""
        with self.db.transaction() as session:
            refusal = login_throttle.reserve(session, username, address, self.throttle_policy, clock.wall_now())
        if refusal is not None:
            log.info("login refused unchecked: too many failures (%s)", refusal.scope)
            raise LoginThrottledError(throttled_message(refusal.retry_after), retry_after=refusal.retry_after)

    def session_actor(self, token: str, *, activity: bool = True) -> Actor:
        """The user of a live session, with the grants valid now; ``activity`` (a person acted, not a background
        refresh) keeps the session from going idle.

        :raises SessionEndedError: the session is unknown, ended, idle for too long or past its lifetime.
        """
        now = clock.wall_now()
        with self.db.reading() as session:
            found = sessions.look_up(session, token, self.session_policy, now, activity)
            actor = auth.load_actor(session, found.username) if found.username else None
        if found.session_id is not None and (found.expire or found.touch):
            with self.db.transaction() as session:
                if found.expire:
                    sessions.end_id(session, found.session_id, found.expire, now)
                else:
                    sessions.touch(session, found.session_id, now)
        if actor is None:
            reason = found.ended_reason or sessions.ENDED
            raise SessionEndedError(sessions.MESSAGES.get(reason, sessions.MESSAGES[sessions.ENDED]))
        return actor

    def logout(self, actor: Actor, token: str | None = None) -> None:
        """End the session of ``token`` (audited)."""
        with self.db.transaction() as session:
            if token:
                sessions.end_token(session, token, sessions.LOGGED_OUT, clock.wall_now())
            audit.record(session, Action.LOGOUT, actor.username)

    def sessions_of(self, actor: Actor, token: str) -> list[SessionInfo]:
        """The actor's live sessions (``token`` marks the current one)."""
        with self.db.reading() as session:
            return sessions.live_sessions(session, _user_id(actor), self.session_policy, clock.wall_now(), token)

    def end_sessions(self, actor: Actor, username: str) -> int:
        """End every session of ``username`` at once (``accounts.end_sessions``); audited."""
        with self._operation(actor, "end_sessions") as session:
            return accounts.end_sessions(session, actor, username, clock.wall_now())

    def change_password(self, actor: Actor, token: str, current: str, new: str, address: str = "") -> int:
        """The actor's own password: ``current`` is checked behind the login throttle; every other session ends.

        :raises LoginThrottledError: :raises FormValidationError: wrong current password, new one too short.
        """
        accounts.check_new_password(new, "neues_passwort")
        self._check_throttled(actor.username, address)
        with self.db.reading() as session:
            try:
                auth.authenticate(session, actor.username, current)
            except AuthenticationError:
                ok = False
            else:
                ok = True
        if not ok:
            self._record(Action.LOGIN_FAILED, actor.username, details={"operation": "change_password"})
            raise FormValidationError({"aktuelles_passwort": ["Das bisherige Passwort ist nicht richtig."]})
        with self._operation(actor, "change_password") as session:
            now = clock.wall_now()
            login_throttle.succeeded(session, actor.username, address, self.throttle_policy, now)
            return accounts.set_password(session, actor, actor.username, new, now, keep_token=token)

    def set_password(self, actor: Actor, username: str, password: str) -> int:
        """Set a user's password (user administration, ``egs set-password``); all their sessions end."""
        with self._operation(actor, "set_password") as session:
            return accounts.set_password(session, actor, username, password, clock.wall_now())

    def housekeeping(self) -> None:
        """Summarise refused logins of blocks that are over; drop old sessions and throttle rows; delete personal
        data past its retention period; publish an anchor of the audit chains when one is due (timer worker)."""
        now = clock.wall_now()
        with self.db.transaction() as session:
            login_throttle.housekeeping(session, self.throttle_policy, now)
            sessions.purge(session, self.session_policy, now)
            idempotency.purge(session, now)
            redeployment.record_ends(session)
        self.check_escalations()
        notice_jobs.run(self.db, self.specs)  # due reminders (once a day), incidents
        notice_mail.run(self.db, self.specs, self.settings)  # e-mail, when EGS_SMTP_HOST is set
        interval = timedelta(minutes=self.settings.audit_anchor_minutes)
        if audit_anchors.anchor_due(self.settings.audit_anchor_dir, interval, now):  # not every round: hourly
            self.run_retention(SYSTEM)
            self.anchor_audit(SYSTEM)

    def actor(self, username: str) -> Actor:
        """A user with the grants valid now. :raises AuthenticationError:"""
        with self.db.reading() as session:
            return auth.load_actor(session, username)

    def create_user(
        self, actor: Actor, username: str, name: str, password: str, grants: Sequence[tuple[str, str]]
    ) -> None:
        """Create a login with (group, site) grants; audited (see ``accounts.create_account``)."""
        with self._operation(actor, "create_user") as session:
            accounts.create_account(session, actor, username, name, password, grants)

    def seed_demo(self) -> tuple[list[str], list[str]]:
        """Create the demo users and cases that do not exist yet (refused in production)."""
        from .demo import create_demo_cases, create_demo_staff, create_demo_users

        users, cases = create_demo_users(self), create_demo_cases(self)
        create_demo_staff(self)
        return users, cases

    # --- models ----------------------------------------------------------------------------------------------

    def deploy_files(
        self, files: Sequence[ModelFile], actor: Actor, forms_dir: Path | None = None
    ) -> list[DeployedProcess]:
        """Deploy model files with forms from ``forms_dir`` (process owners and the system). :raises ModelError:"""
        with self._operation(actor, "deploy") as session:
            if not permissions.may_deploy(actor):
                raise PermissionDeniedError("Prozessmodelle stellt nur die Prozessverantwortung bereit.")
            return deploy(session, files, forms_dir or self.settings.forms_dir, actor.username,
                          max_model_bytes=self.settings.max_model_bytes,
                          max_form_bytes=self.settings.max_form_bytes)  # fmt: skip

    def deploy_paths(self, paths: Sequence[Path], actor: Actor, forms_dir: Path | None = None) -> list[DeployedProcess]:
        """Deploy every .bpmn/.dmn file found in ``paths``."""
        return self.deploy_files(collect_model_files(paths), actor, forms_dir)

    def process_names(self) -> list[tuple[str, str]]:
        with self.db.reading() as session:
            return versions.process_names(session)

    def startable_processes(self, actor: Actor) -> list[ProcessInfo]:
        with self.db.reading() as session:
            return versions.startable(session, self.specs, actor)

    def flags(self, actor: Actor) -> permissions.Flags:
        """What the navigation and pages offer ``actor`` (``permissions.flags``, with the startable processes)."""
        return permissions.flags(actor, startable_processes=len(self.startable_processes(actor)))

    def raci(self) -> list[RaciRow]:
        with self.db.reading() as session:
            return raci.raci_rows(session, self.specs)

    # --- the modeller: drafts, versions, deploys from the browser (process owners) ----------------------------

    def model_catalogue(self, actor: Actor) -> list[ProcessEntry]:
        """Every process with its versions and drafts (``model_catalogue``)."""
        with self._operation(actor, "model_catalogue") as session:
            return model_catalogue.catalogue(session, actor)

    def version_diagram(self, actor: Actor, process_id: str, version: int) -> VersionDiagram:
        with self._operation(actor, "version_diagram") as session:
            return model_catalogue.version_diagram(session, self.specs, actor, process_id, version)

    def form_names(self, actor: Actor) -> list[str]:
        """The form files a task of a draft may name (``forms_dir``)."""
        with self._operation(actor, "form_names"):
            drafts.require_modeller(actor)
            return sorted(path.name for path in self.settings.forms_dir.glob("*.json") if path.is_file())

    def model_lint_context(self, actor: Actor, draft_id: int) -> dict[str, Any]:
        """What the modeller's live lint needs for a draft (``lint_vocabulary.lint_context``): the form files
        (with the draft's own ones) and the outputs of the live version's decision tables."""
        with self._operation(actor, "model_lint_context") as session:
            draft = drafts.get(session, actor, draft_id)
            live = self.specs.latest(session, draft.process_id)
            forms = {**lint_vocabulary.read_forms(self.settings.forms_dir), **draft.forms}
            return lint_vocabulary.lint_context(forms, live.resources)

    def modeller_choices(self, actor: Actor) -> dict[str, Any]:
        """What the modeller's EGS panel offers (``lint_vocabulary.panel_choices``): sites, groups, service
        operations and the deployed decisions."""
        with self._operation(actor, "modeller_choices") as session:
            drafts.require_modeller(actor)
            return lint_vocabulary.panel_choices(decision_library.deployed(session))

    def create_model_draft(self, actor: Actor, process_id: str) -> Draft:
        """A new draft of the live version of ``process_id``; audited."""
        with self._operation(actor, "create_model_draft") as session:
            drafts.require_modeller(actor)
            return drafts.create_from_version(session, actor, self.specs.latest(session, process_id))

    def model_draft(self, actor: Actor, draft_id: int) -> Draft:
        with self._operation(actor, "model_draft") as session:
            return drafts.get(session, actor, draft_id)

    def save_model_draft(self, actor: Actor, draft_id: int, expected_lock_version: int, **texts: Any) -> Draft:
        """Store a draft's ``xml``, ``name``, ``comment`` or ``forms`` (``drafts.save``); a stale lock_version is
        refused with ConflictError, unsafe text with ModelError – then nothing is stored."""
        with self._operation(actor, "save_model_draft") as session:
            return drafts.save(session, actor, draft_id, expected_lock_version, **texts,
                               max_model_bytes=self.settings.max_model_bytes,
                               max_form_bytes=self.settings.max_form_bytes)  # fmt: skip

    def delete_model_draft(self, actor: Actor, draft_id: int, expected_lock_version: int) -> None:
        """Delete a draft and throw away its trials (each audited)."""
        with self._operation(actor, "delete_model_draft") as session:
            drafts.locked(session, actor, draft_id, expected_lock_version)
            self.trials.discard_of_draft(session, actor, draft_id)
            drafts.delete(session, actor, draft_id, expected_lock_version)

    @property
    def deploy_needs_release(self) -> bool:
        """Whether a second process owner releases every deploy from the modeller (config/egs.toml)."""
        return self.konfig.release_required

    def deploy_model_draft(
        self, actor: Actor, draft_id: int, expected_lock_version: int, comment: str
    ) -> DeployedProcess:
        """Deploy a draft as a new version of its process (``drafts.deploy_draft``). :raises ModelError:
        :raises RuleViolationError: when a second process owner has to release deploys (``request_model_release``)."""
        with self._operation(actor, "deploy_model_draft") as session:
            if self.deploy_needs_release:
                raise RuleViolationError("Neue Versionen gibt eine zweite Person der Prozessverantwortung frei: "
                                         "bitte die Freigabe beantragen.")  # fmt: skip
            return self._deploy_draft(session, actor, draft_id, expected_lock_version, comment)

    def _deploy_draft(
        self, session: Session, actor: Actor, draft_id: int, expected_lock_version: int, comment: str
    ) -> DeployedProcess:
        draft = drafts.get(session, actor, draft_id)
        live = self.specs.latest(session, draft.process_id)

        def deploy_files(files: list[ModelFile], note: str, forms: Mapping[str, Any]) -> list[DeployedProcess]:
            results = deploy(session, files, self.settings.forms_dir, actor.username, comment=note,
                             own_forms=forms, only=draft.process_id,
                             max_model_bytes=self.settings.max_model_bytes,
                             max_form_bytes=self.settings.max_form_bytes)  # fmt: skip
            if any(r.created and r.process_id == draft.process_id for r in results):
                self.trials.discard_of_draft(session, actor, draft_id)  # the draft goes: its trials with it
            return results

        return drafts.deploy_draft(session, actor, draft_id, expected_lock_version, comment, live, deploy_files,
                                   self._diff_summary(live), lambda: decision_library.library(session))  # fmt: skip

    def _diff_summary(self, live: versions.LoadedVersion) -> Callable[[Draft], dict[str, object]]:
        def diff(draft: Draft) -> dict[str, object]:
            return model_compare.draft_against_live(draft, live, self.settings.max_model_bytes).audit_summary()

        return diff

    # --- deploys released by a second process owner (``deploy_release``) ----------------------------------------

    def request_model_release(
        self, actor: Actor, draft_id: int, expected_lock_version: int, comment: str
    ) -> deploy_release.PendingRelease:
        """Ask a second process owner to release the draft as it is now (checked like a deploy; audited)."""
        with self._operation(actor, "request_model_release") as session:
            draft = drafts.get(session, actor, draft_id)
            live = self.specs.latest(session, draft.process_id)

            def check(asked: Draft) -> None:
                self._checked_models(
                    drafts.model_files(asked, live, lambda: decision_library.library(session)), asked.forms
                )

            return deploy_release.request(session, actor, draft_id, expected_lock_version, comment, live, check,
                                          self._diff_summary(live))  # fmt: skip

    def model_releases(self, actor: Actor) -> list[deploy_release.PendingRelease]:
        with self._operation(actor, "model_releases") as session:
            return deploy_release.pending(session, actor)

    def release_model(self, actor: Actor, release_id: int, expected_lock_version: int) -> DeployedProcess:
        """Release a requested deploy as a second process owner: the draft goes live (``deploy_release.release``)."""
        with self._operation(actor, "release_model") as session:
            return deploy_release.release(session, actor, release_id, expected_lock_version,
                                          lambda draft_id, lock, comment: self._deploy_draft(
                                              session, actor, draft_id, lock, comment))  # fmt: skip

    def reject_model_release(self, actor: Actor, release_id: int, expected_lock_version: int, reason: str) -> None:
        """Reject a requested deploy with a reason (audited)."""
        with self._operation(actor, "reject_model_release") as session:
            deploy_release.reject(session, actor, release_id, expected_lock_version, reason)

    # --- uploads: drafts of our own models, documentation of other tools' models (``model_documents``) ---------

    def upload_model(self, actor: Actor, filename: str, content: bytes) -> Uploaded:
        """A BPMN file uploaded on "Modelle": a draft if it is a runnable file of a deployed process, else a
        documentation model with its findings. :raises ModelError: for a hostile or unreadable file."""
        analysed = model_documents.analyser(self.settings.forms_dir, self.settings.max_model_bytes,
                                            self.settings.max_form_bytes)  # fmt: skip
        with self._operation(actor, "upload_model") as session:
            return model_documents.upload(session, actor, self.specs, filename, content, analysed, self._checked_models)

    def documentation_models(self, actor: Actor) -> list[DocumentInfo]:
        with self._operation(actor, "documentation_models") as session:
            return model_documents.documents(session, actor)

    def documentation_model(self, actor: Actor, document_id: int) -> Document:
        with self._operation(actor, "documentation_model") as session:
            return model_documents.document(session, actor, document_id)

    def delete_documentation_model(self, actor: Actor, document_id: int) -> None:
        """Delete a documentation model (audited)."""
        with self._operation(actor, "delete_documentation_model") as session:
            model_documents.delete(session, actor, document_id)

    # --- decision tables (DMN) in the browser: versions, drafts, deploy (``decisions``) ------------------------

    def decision_tables(self, actor: Actor) -> list[DecisionTableEntry]:
        """Every deployed decision table file with its versions, users and drafts."""
        with self._operation(actor, "decision_tables") as session:
            return decisions.catalogue(session, self.specs, actor, self.settings.max_model_bytes)

    def create_decision_draft(self, actor: Actor, filename: str) -> Draft:
        """A new draft of the live version of a decision table file; audited."""
        with self._operation(actor, "create_decision_draft") as session:
            return decisions.create_draft(session, actor, filename)

    def decision_draft(self, actor: Actor, draft_id: int) -> Draft:
        with self._operation(actor, "decision_draft") as session:
            return drafts.get(session, actor, draft_id, kind=drafts.DMN)

    def save_decision_draft(
        self,
        actor: Actor,
        draft_id: int,
        expected_lock_version: int,
        *,
        xml: str | None = None,
        name: str | None = None,
    ) -> Draft:
        """Store a decision table draft's text or name; unsafe or broken DMN: ModelError, stale: ConflictError."""
        with self._operation(actor, "save_decision_draft") as session:
            return drafts.save(session, actor, draft_id, expected_lock_version, xml=xml, name=name, kind=drafts.DMN,
                               max_model_bytes=self.settings.max_model_bytes,
                               max_form_bytes=self.settings.max_form_bytes)  # fmt: skip

    def delete_decision_draft(self, actor: Actor, draft_id: int, expected_lock_version: int) -> None:
        with self._operation(actor, "delete_decision_draft") as session:
            drafts.delete(session, actor, draft_id, expected_lock_version, kind=drafts.DMN)

    def deploy_decision_draft(
        self, actor: Actor, draft_id: int, expected_lock_version: int, comment: str
    ) -> DecisionDeployed:
        """Deploy a decision table draft: its new version and new versions of the processes that use it
        (``decisions.deploy_draft``). :raises ModelError:"""
        with self._operation(actor, "deploy_decision_draft") as session:

            def deploy_process(files: list[ModelFile], note: str, forms: Mapping[str, Any], process_id: str) -> Any:
                return deploy(session, files, self.settings.forms_dir, actor.username, comment=note,
                              own_forms=forms, only=process_id, max_model_bytes=self.settings.max_model_bytes,
                              max_form_bytes=self.settings.max_form_bytes)  # fmt: skip

            return decisions.deploy_draft(session, actor, draft_id, expected_lock_version, comment, self.specs,
                                          deploy_process, self.settings.max_model_bytes)  # fmt: skip

    # --- the form editor of a draft (``draft_forms``) ----------------------------------------------------------

    def draft_form(self, actor: Actor, draft_id: int, name: str) -> dict[str, Any]:
        """A task form as the draft would deploy it (its own copy, else the form file)."""
        with self._operation(actor, "draft_form") as session:
            return draft_forms.read(session, actor, draft_id, name, self.settings.forms_dir,
                                    self.settings.max_form_bytes)  # fmt: skip

    def preview_form(self, actor: Actor, schema: Any) -> list[FieldSpec]:
        """The fields of a form being edited, checked like every form. :raises ModelError:"""
        with self._operation(actor, "preview_form"):
            return draft_forms.preview(actor, schema)

    def save_draft_form(self, actor: Actor, draft_id: int, expected_lock_version: int, name: str, schema: Any) -> Draft:
        """Store a changed form in the draft (``draft_forms.store``); stale lock_version: ConflictError."""
        with self._operation(actor, "save_draft_form") as session:
            return draft_forms.store(session, actor, draft_id, expected_lock_version, name, schema,
                                     max_model_bytes=self.settings.max_model_bytes,
                                     max_form_bytes=self.settings.max_form_bytes)  # fmt: skip

    # --- Probelauf: trial cases of drafts, kept apart from real cases (``trials``) ----------------------------

    def _checked_models(self, files: Sequence[ModelFile], own_forms: Mapping[str, Any]) -> Any:
        return checked_models(files, self.settings.forms_dir, own_forms=own_forms,
                              max_model_bytes=self.settings.max_model_bytes,
                              max_form_bytes=self.settings.max_form_bytes)  # fmt: skip

    def compare_model_draft(self, actor: Actor, draft_id: int) -> Comparison:
        """A draft against the live version of its process (``model_compare``)."""
        with self._operation(actor, "compare_model_draft") as session:
            return model_compare.compare_draft(session, self.specs, actor, draft_id, self.settings.max_model_bytes)

    def compare_model_version(self, actor: Actor, process_id: str, version: int) -> Comparison:
        """A deployed version against the live one (``model_compare``)."""
        with self._operation(actor, "compare_model_version") as session:
            return model_compare.compare_version(session, self.specs, actor, process_id, version,
                                                 self.settings.max_model_bytes)  # fmt: skip

    def trials_of_draft(self, actor: Actor, draft_id: int) -> list[Trial]:
        with self._operation(actor, "trials_of_draft") as session:
            return self.trials.of_draft(session, actor, draft_id)

    def start_trial(self, actor: Actor, draft_id: int, site: str | None = None) -> Trial:
        """Start a Probelauf of the saved draft (``trials.Trials.start``). :raises ModelError: draft cannot run."""

        def work(session: Session) -> Trial:
            draft = drafts.get(session, actor, draft_id)
            try:
                live = self.specs.latest(session, draft.process_id)
            except NotFoundError:
                live = None
            return self.trials.start(session, actor, draft, live, site or self.settings.default_site)

        return self._step(actor, "start_trial", work)

    def trial(self, actor: Actor, trial_id: int) -> Trial:
        with self._operation(actor, "trial") as session:
            return self.trials.get(session, actor, trial_id)

    def trial_task(self, actor: Actor, trial_id: int, task_uuid: str) -> TrialTaskView:
        with self._operation(actor, "trial_task") as session:
            return self.trials.task_view(session, actor, trial_id, task_uuid)

    def submit_trial_form(
        self, actor: Actor, trial_id: int, task_uuid: str, raw: Mapping[str, Sequence[str]], expected: int
    ) -> Trial:
        """Complete a task of a trial as any lane with HTML form values (coerced and checked by its form)."""
        submission = Submission("form", raw, clock.today_berlin())
        return self._step(actor, "trial_step", lambda session: self.trials.complete(
            session, actor, trial_id, task_uuid, submission, expected))  # fmt: skip

    def discard_trial(self, actor: Actor, trial_id: int) -> None:
        """Throw a trial away (deleted with its open tasks; audited)."""
        with self._operation(actor, "discard_trial") as session:
            self.trials.discard(session, actor, trial_id)

    # --- moving running cases to another version (process owners) --------------------------------------------

    def migration_process(self, actor: Actor, process_id: str) -> ProcessEntry:
        """A process with its versions and open cases, to choose what to move (``case_migration``)."""
        with self._operation(actor, "migration_process") as session:
            return case_migration.process_entry(session, actor, process_id)

    def migration_dry_run(
        self, actor: Actor, process_id: str, source: int, target: int,
        mappings: Mapping[int, Mapping[str, str]] | None = None,
    ) -> MigrationPlan:  # fmt: skip
        """Which running cases of version ``source`` can move to ``target`` (``case_migration.dry_run``); audited."""
        return self._step(actor, "migration_dry_run", lambda session: case_migration.dry_run(
            session, self.casework, actor, process_id, source, target, mappings))  # fmt: skip

    def migrate_case(
        self, actor: Actor, instance_id: int, target: int, expected_lock_version: int, mapping: Mapping[str, str]
    ) -> MigrationOutcome:
        """Move one case in its own transaction (``case_migration.migrate_case``).

        :raises ConflictError: stale ``expected_lock_version``. :raises RuleViolationError: it cannot move.
        """
        return self._step(actor, "migrate_case", lambda session: case_migration.migrate_case(
            session, self.casework, actor, instance_id, target, expected_lock_version, mapping))  # fmt: skip

    def migrate_cases(
        self, actor: Actor, target: int, selected: Sequence[tuple[int, int, Mapping[str, str]]]
    ) -> list[MigrationOutcome]:
        """Move the ``selected`` cases (id, lock_version seen in the dry run, mapping), each in its own
        transaction; a case that cannot move or changed meanwhile is left untouched and reported.

        :raises PermissionDeniedError: the actor may not move cases (nothing is tried).
        """
        if not permissions.may_migrate_cases(actor):
            with self._operation(actor, "migrate_cases"):
                case_migration.require_owner(actor)
        outcomes = []
        for instance_id, lock_version, mapping in selected:
            try:
                outcomes.append(self.migrate_case(actor, instance_id, target, lock_version, mapping))
            except (ConflictError, RuleViolationError, ScriptError, NotFoundError) as exc:
                with self.db.reading() as session:
                    outcomes.append(case_migration.not_moved(session, instance_id, exc.message))
        return outcomes

    # --- cases and tasks -------------------------------------------------------------------------------------

    def start_case(self, actor: Actor, process_id: str, *, site: str | None = None, business_key: str | None = None,
                   system: bool = False, data: Mapping[str, Any] | None = None) -> CaseHeader:  # fmt: skip
        """Start a case (``Casework.start_for``); nothing is stored on any error."""
        return self._step(actor, "start", lambda session: self.casework.start_for(
            session, actor, process_id, site=site or self.settings.default_site, business_key=business_key,
            system=system, data=data))  # fmt: skip

    def send_message(self, actor: Actor, name: str, business_key: str, payload: Mapping[str, Any] | None = None,
                     system: bool = False) -> int:  # fmt: skip
        """Deliver a message to the running cases with ``business_key`` (``Casework.send_for``)."""
        return self._step(
            actor,
            "message",
            lambda session: self.casework.send_for(session, actor, name, business_key, payload, system),
        )

    def case_view(self, actor: Actor, instance_id: int) -> CaseView:
        with self._operation(actor, "view_case", instance_id=instance_id) as session:
            return case_reading.case_view(session, self.runtime, actor, instance_id)

    def search_cases(self, actor: Actor, term: str | None) -> list[CaseHit]:
        """Cases the actor may open by number or visible name (``case_search``)."""
        with self.db.reading() as session:
            return case_search.search_cases(session, self.specs, actor, term)

    def cases_with_key(self, actor: Actor, business_key: str) -> list[CaseHit]:
        """Cases with this Geschäftszeichen the actor may open (warned about before starting another)."""
        with self.db.reading() as session:
            return case_search.cases_with_key(session, self.specs, actor, business_key)

    def open_tasks(self, actor: Actor, instance_id: int) -> list[TaskSummary]:
        with self.db.reading() as session:
            return case_reading.open_tasks(session, actor, instance_id)

    def inbox(self, actor: Actor) -> list[TaskSummary]:
        with self.db.reading() as session:
            return inbox_queries.list_tasks(session, actor)

    def inbox_page(self, actor: Actor, query: InboxQuery | None = None) -> InboxPage:
        with self.db.reading() as session:
            return inbox_queries.inbox_page(session, self.specs, actor, query or InboxQuery())

    def inbox_choices(self, actor: Actor) -> tuple[list[str], list[tuple[str, str]]]:
        with self.db.reading() as session:
            return inbox_queries.filter_choices(session, self.specs, actor)

    def task_view(self, actor: Actor, task_uuid: str) -> TaskView:
        """A task with its form; the view is audited. Reading a task that is done already (the back button
        after completing it) raises ``TaskClosedError`` without recording a conflict: nothing collided."""
        with self._operation(actor, "view_task", task_uuid=task_uuid) as session:
            return case_reading.task_view(session, self.runtime, actor, task_uuid)

    def case_of_task(self, task_uuid: str) -> int | None:
        """The case a task belongs (or belonged) to."""
        with self.db.reading() as session:
            return tasks.instance_of(session, task_uuid)

    def colleagues(self, actor: Actor, task_uuid: str) -> list[tuple[str, str]]:
        with self.db.reading() as session:
            return tasks.colleagues(session, actor, task_uuid)

    def claim(self, actor: Actor, task_uuid: str) -> None:
        with self._operation(actor, "claim", task_uuid=task_uuid) as session:
            tasks.claim(session, self.specs, actor, task_uuid)

    def unclaim(self, actor: Actor, task_uuid: str) -> None:
        with self._operation(actor, "unclaim", task_uuid=task_uuid) as session:
            tasks.unclaim(session, actor, task_uuid)

    def delegate(self, actor: Actor, task_uuid: str, to_username: str, reason: str) -> None:
        with self._operation(actor, "delegate", task_uuid=task_uuid) as session:
            tasks.delegate(session, self.specs, actor, task_uuid, to_username, reason)

    def reassign(self, actor: Actor, task_uuid: str, to_username: str | None, reason: str) -> None:
        """A lead gives a task to a colleague or back to the group, with a reason (``tasks.reassign``)."""
        with self._operation(actor, "reassign", task_uuid=task_uuid) as session:
            tasks.reassign(session, self.specs, actor, task_uuid, to_username, reason)

    def open_notices(self, actor: Actor) -> list[notices.Notice]:
        with self.db.reading() as session:
            return notices.open_notices(session, actor)

    def acknowledge_notice(self, actor: Actor, notice_id: int) -> None:
        with self._operation(actor, "acknowledge_notice") as session:
            notices.acknowledge(session, actor, notice_id)

    def set_priority(self, actor: Actor, task_uuid: str, priority: int) -> None:
        with self._operation(actor, "set_priority", task_uuid=task_uuid) as session:
            tasks.set_priority(session, self.specs, actor, task_uuid, priority)

    def set_due(self, actor: Actor, task_uuid: str, due_at: datetime | None) -> None:
        with self._operation(actor, "set_due", task_uuid=task_uuid) as session:
            tasks.set_due(session, self.specs, actor, task_uuid, due_at)

    def save_draft(self, actor: Actor, task_uuid: str, values: Mapping[str, Sequence[str]]) -> None:
        with self._operation(actor, "save_draft", task_uuid=task_uuid) as session:
            tasks.save_draft(session, actor, task_uuid, values)

    def complete_task(
        self, actor: Actor, task_uuid: str, data: Mapping[str, Any], expected_lock_version: int | None = None
    ) -> Completion:
        """Validate ``data`` against the task's form and complete it (``tasks.complete``)."""
        return self._complete(actor, task_uuid, Submission("data", data, clock.today_berlin()), expected_lock_version)

    def submit_form(
        self, actor: Actor, task_uuid: str, raw: Mapping[str, Sequence[str]], expected_lock_version: int | None = None
    ) -> Completion:
        """Like ``complete_task``, for HTML form values (lists of strings) coerced by the task's schema."""
        return self._complete(actor, task_uuid, Submission("form", raw, clock.today_berlin()), expected_lock_version)

    def _complete(self, actor: Actor, task_uuid: str, submission: Submission, expected: int | None) -> Completion:
        return self._step(
            actor,
            "complete",
            lambda session: tasks.complete(session, self.casework, actor, task_uuid, submission, expected),
            task_uuid=task_uuid,
        )

    # --- the REST API (/api/v1): tokens, idempotency keys, the same operations for a token's principal ------------

    def create_system_token(self, actor: Actor, name: str, scopes: Sequence[str], sites: Sequence[str],
                            days: int = api_tokens.DEFAULT_DAYS,
                            rate_limit: int = api_tokens.DEFAULT_RATE_LIMIT) -> CreatedToken:  # fmt: skip
        """A token for another system (``egs token create-system``); the secret is returned once; audited."""
        with self._operation(actor, "create_system_token") as session:
            return api_tokens.create_system(session, actor, name, scopes, sites, clock.wall_now(), days, rate_limit)

    def create_personal_token(self, actor: Actor, name: str, scopes: Sequence[str],
                              days: int = api_tokens.DEFAULT_DAYS) -> CreatedToken:  # fmt: skip
        """A token of the actor for themself (*Mein Konto*); the secret is returned once; audited."""
        with self._operation(actor, "create_personal_token") as session:
            return api_tokens.create_personal(session, actor, name, scopes, clock.wall_now(), days)

    def revoke_token(self, actor: Actor, prefix: str) -> None:
        """Revoke a token (the system: any, a person: their own); audited."""
        with self._operation(actor, "revoke_token") as session:
            api_tokens.revoke(session, actor, prefix, clock.wall_now())

    def offered_scopes(self, actor: Actor) -> list[str]:
        return api_tokens.offered_scopes(actor)

    def tokens(self, actor: Actor) -> list[TokenInfo]:
        with self.db.reading() as session:
            return api_tokens.tokens_of(session, actor)

    def api_principal(self, token: str, scope: str, method: str, route: str) -> Principal:
        """Who calls the API with ``token`` for an operation needing ``scope``; the use is counted and recorded.

        :raises AuthenticationError: unknown, expired or revoked token. :raises PermissionDeniedError: no
            ``scope``. :raises RateLimitedError: too many requests in this minute.
        """
        try:
            with self.db.transaction() as session:
                return api_tokens.authenticate(session, token, scope, method, route, clock.wall_now())
        except api_tokens.Refused as refused:
            self._record(Action.API_TOKEN_REFUSED, refused.who, details=refused.details)
            log.info("API token refused: %s", refused.details.get("grund"))
            raise refused.error from None

    def claim_idempotency(self, principal: Principal, key: str, fingerprint: str) -> Reply | None:
        """Claim an ``Idempotency-Key`` for a request, or return the reply kept for it (``idempotency``)."""
        with self.db.transaction() as session:
            return idempotency.claim(session, principal.token_id, key, fingerprint, clock.wall_now())

    def _api_step(self, principal: Principal, name: str, work: Callable[[Session], T], claim: Claim | None,
                  reply: Callable[[T], Reply] | None, task_uuid: str | None = None) -> T:  # fmt: skip
        """``_step`` for an API operation: its reply is kept with the operation in one transaction; a failed
        operation gives its claim up."""

        def run(session: Session) -> T:
            result = work(session)
            if claim is not None and reply is not None:
                idempotency.complete(session, claim, reply(result))
            return result

        try:
            return self._step(principal.actor, name, run, task_uuid=task_uuid)
        except BaseException:
            if claim is not None:
                with self.db.transaction() as session:
                    idempotency.release(session, claim)
            raise

    def api_startable(self, principal: Principal) -> list[ProcessInfo]:
        """What the principal may start: a person's startable processes, a system token's at its sites."""
        if not principal.is_system:
            return self.startable_processes(principal.actor)
        with self.db.reading() as session:
            return integrations.startable(session, self.specs, principal)

    def api_start_case(self, principal: Principal, process_id: str, site: str, business_key: str | None,
                       claim: Claim | None = None, reply: Callable[[CaseHeader], Reply] | None = None,
                       ) -> CaseHeader:  # fmt: skip
        """Start a case for a token (``integrations.start``); with ``claim``, exactly once."""
        return self._api_step(principal, "api:start", lambda session: integrations.start(
            session, self.casework, principal, process_id, site, business_key), claim, reply)  # fmt: skip

    def api_send_message(self, principal: Principal, name: str, business_key: str, payload: Mapping[str, Any],
                         claim: Claim | None = None, reply: Callable[[int], Reply] | None = None) -> int:  # fmt: skip
        """Deliver a message by business key for a token (``integrations.send``); with ``claim``, exactly once."""
        return self._api_step(principal, "api:message", lambda session: integrations.send(
            session, self.casework, principal, name, business_key, payload), claim, reply)  # fmt: skip

    def api_complete_task(self, principal: Principal, task_uuid: str, data: Mapping[str, Any], expected: int,
                          claim: Claim | None = None, reply: Callable[[Completion], Reply] | None = None,
                          ) -> Completion:  # fmt: skip
        """Complete a task of a personal token's person (``tasks.complete``, stale ``expected``: ConflictError)."""
        submission = Submission("data", data, clock.today_berlin())

        def work(session: Session) -> Completion:
            api_tokens.require_person(principal)
            return tasks.complete(session, self.casework, principal.actor, task_uuid, submission, expected)

        return self._api_step(principal, "api:complete", work, claim, reply, task_uuid)

    def api_case_status(self, principal: Principal, instance_id: int) -> CaseStatus:
        """A case's header and open tasks for a token; audited (``integrations.case_status``)."""
        with self._operation(principal.actor, "api:case", instance_id=instance_id) as session:
            return integrations.case_status(session, self.specs, principal, instance_id)

    def api_case_story(self, principal: Principal, instance_id: int, purpose: str, reference: str) -> CaseStory:
        """A case's history for the audit function, with the purpose (§ 67 ff. SGB X) stated in the request;
        audited like the workbench's story (``Workbench.story``). :raises FormValidationError: bad purpose."""
        code, reference = audit_purpose.checked(purpose, reference)
        stated = Purpose(code, reference, clock.wall_now())
        return self.workbench.story(principal.actor, None, instance_id, stated)

    # --- incidents ("Störungen") ------------------------------------------------------------------------------

    def incidents(self, actor: Actor) -> list[IncidentView]:
        """Open incidents at the sites the actor handles (``incidents``)."""
        with self.db.reading() as session:
            return incidents.open_incidents(session, self.specs, actor)

    def incident_count(self, actor: Actor) -> int:
        with self.db.reading() as session:
            return incidents.count_open(session, self.specs, actor)

    def retry_incident(self, actor: Actor, incident_id: int) -> None:
        """Set a stopped case going again; audited."""
        self._step(actor, "retry_incident", lambda session: incidents.retry(session, self.specs, actor, incident_id))

    def mark_incident_fixed(self, actor: Actor, incident_id: int) -> None:
        with self._operation(actor, "mark_incident_fixed") as session:
            incidents.mark_fixed(session, self.specs, actor, incident_id)

    def cancel_case(self, actor: Actor, incident_id: int, reason: str) -> None:
        """Cancel the case of an incident with a reason; audited."""
        with self._operation(actor, "cancel_case") as session:
            incidents.cancel_case(session, self.specs, actor, incident_id, reason)

    # --- monitoring -----------------------------------------------------------------------------------------

    def metrics(self) -> metrics.Figures:
        """Figures for ``/metrics`` (no personal data)."""
        with self.db.reading() as session:
            return metrics.figures(session, clock.now())

    # --- timers ----------------------------------------------------------------------------------------------

    def fire_due_timers(self, now: datetime | None = None, limit: int = 100) -> int:
        """Fire every timer due at ``now``; return how many cases moved on (``timer_worker``)."""
        return timer_worker.fire_due_timers(self.db, self.casework, now, limit)

    def run_worker(
        self, interval: float | None = None, stop: StopSignal | None = None, max_rounds: int | None = None
    ) -> None:
        """Fire due timers in a loop (``egs worker``) until ``stop`` (an Event) is set."""
        pause = self.settings.worker_interval if interval is None else interval
        timer_worker.run_worker(self.db, self.casework, pause, stop, max_rounds, housekeeping=self.housekeeping)

    # --- reports, exports, audit -----------------------------------------------------------------------------

    def payment_list(self, actor: Actor, site: str, measure_type: str, month: str) -> PaymentList:
        """The monthly Sammelliste for its printable page; retrieving it is audited as an export."""
        with self._operation(actor, "payment_list") as session:
            return exports.payment_list_page(exports.ExportRequest(session, self.specs, actor, {
                "standort": site, "art": measure_type, "monat": month}))  # fmt: skip

    def cancel_payment(self, actor: Actor, entry_id: int, step: CancelStep, reason: str = "") -> ListSelection:
        """One step of cancelling a Sammelliste entry (``payment_cancellation``): ask with a reason, confirm
        (a second person) or discard; audited, refusals too."""
        with self._operation(actor, f"payment_cancel:{step}") as session:
            return payment_cancellation.STEPS[step](session, actor, entry_id, reason)

    def export(
        self, actor: Actor, name: str, parameters: Mapping[str, str], token: str | None = None
    ) -> exports.ExportFile:
        """Run a named export (``exports.REGISTRY``); audited with its parameters and, for an auditor who stated
        one in the web session ``token``, the purpose of the sitting (``audit_purpose``)."""
        with self._operation(actor, f"export:{name}") as session:
            purpose = audit_purpose.current(session, token) if permissions.may_use_workbench(actor) else None
            request = exports.ExportRequest(session, self.specs, actor, dict(parameters), self.konfig,
                                            purpose.details() if purpose else None)  # fmt: skip
            return exports.run(request, name)

    def export_names(self) -> list[exports.Export]:
        """Every registered export (name, German title, parameters), by name."""
        return [exports.REGISTRY[name] for name in sorted(exports.REGISTRY)]

    def export_chunks(self, result: exports.ExportFile) -> Iterator[str]:
        """The file of an export piece by piece; a streamed one reads in its own read transaction."""
        if result.stream is None:
            yield result.content
            return
        with self.db.reading() as session:
            yield from result.stream(session)

    def exportable_processes(self, actor: Actor) -> list[tuple[str, str]]:
        """(process id, name) of every deployed process, for the audit function's filters."""
        with self._operation(actor, "process_view") as session:
            case_log.case_filter(actor, {})  # refused (and recorded) for everybody but the audit function
            return heat_map.process_choices(session)

    def process_view(self, actor: Actor, parameters: Mapping[str, str]) -> heat_map.ProcessView:
        """The heat map of a process over the filtered cases (the audit function); audited with its filter."""
        with self._operation(actor, "process_view") as session:
            chosen = case_log.case_filter(actor, parameters)
            request = exports.ExportRequest(session, self.specs, actor, dict(parameters))
            view = heat_map.process_view(session, self.specs, chosen)
            exports.record(request, "prozessansicht", view.cases, "html")
            return view

    def simulation_defaults(
        self, actor: Actor, site: str
    ) -> tuple[SimulationInputs, list[ProcessDefault], RosterStaff | None]:
        """The what-if form's starting values for ``site`` (forecast, staff from the staffing tables or configured,
        times) and the staffing tables as counted: TL and FDL there.

        :raises PermissionDeniedError: for everybody else.
        """
        with self._operation(actor, "simulation_defaults") as session:
            if not permissions.may_simulate(actor, site):
                raise PermissionDeniedError("Die Simulation rechnet nur die Leitung des Standorts (TL, FDL).")
            return simulation_report.defaults(session, self.specs, self.konfig, site, clock.today_berlin())

    def simulate(self, actor: Actor, inputs: SimulationInputs) -> SimulationReport:
        """Compare "Wie jetzt" with "plus eine LSB-Kraft" for the next four weeks and find the VZÄ needed; audited.

        The database is read in one short transaction; the simulation itself runs outside it (bounded in time).
        :raises PermissionDeniedError: not a lead of the site. :raises RuleViolationError: bad inputs.
        """
        today = clock.today_berlin()
        with self._operation(actor, "simulate") as session:
            if not permissions.may_simulate(actor, inputs.site):
                raise PermissionDeniedError("Die Simulation rechnet nur die Leitung des Standorts (TL, FDL).")
            prepared = simulation_report.prepare(session, self.specs, self.konfig, inputs, today)
        report = simulation_report.simulate(prepared, self.konfig, inputs, today)
        self._record(Action.SIMULATION, actor.username, details={
            "site": inputs.site, "staff_source": inputs.staff_source, "vzae": inputs.vzae,
            "absence_days": inputs.absence_days,
            "arrivals": {pid: n for pid, n in inputs.arrivals.items() if n}, "seed": inputs.seed,
            "vzae_needed": report.vzae_needed})  # fmt: skip
        return report

    def staffing(self) -> StaffingShares:
        return staffing_shares(self.konfig)

    # --- staffing of a site (§ 6/§ 7): staff, absences, VZÄ plan, demand/capacity, redeployments ------------------

    def staff_overview(self, actor: Actor, site: str) -> StaffOverview:
        """The site's staffing dashboard for its leads (``staff_overview``); the view is audited."""
        with self._operation(actor, "staff_overview") as session:
            return staff_overview.overview(session, self.konfig, self.specs, actor, site)

    def add_staff(self, actor: Actor, site: str, person: staff.StaffInput) -> int:
        with self._operation(actor, "add_staff") as session:
            return staff.add_staff(session, actor, site, person)

    def add_absence(self, actor: Actor, staff_id: int, first_day: date, last_day: date, kind: str) -> int:
        with self._operation(actor, "add_absence") as session:
            return staff.add_absence(session, actor, staff_id, first_day, last_day, kind)

    def delete_absence(self, actor: Actor, absence_id: int) -> None:
        with self._operation(actor, "delete_absence") as session:
            staff.delete_absence(session, actor, absence_id)

    def import_staff(self, actor: Actor, site: str, text: str) -> tuple[int, int]:
        """Staff or absences from CSV, all rows or none (``staff.import_csv``)."""
        with self._operation(actor, "import_staff") as session:
            return staff.import_csv(session, actor, site, text)

    def decide_share_mode(self, actor: Actor, site: str, mode: str) -> None:
        """The FDL's decision how the VZÄ shares count at her site (``vzae_plan.decide``); audited."""
        with self._operation(actor, "decide_share_mode") as session:
            vzae_plan.decide(session, actor, site, mode)

    def redeploy(self, actor: Actor, site: str, staff_id: int, first_day: date, last_day: date) -> int:
        """A time-limited EGS grant for an LSB/IFK person of the site (``redeployment.redeploy``); audited."""
        with self._operation(actor, "redeploy") as session:
            return redeployment.redeploy(session, self.konfig, actor, site, staff_id, first_day, last_day)

    def redeployment_report(self, actor: Actor, site: str, month: str) -> list[staff_exports.MovedHours]:
        """Redeployments into a site's EGS in a month (hours moved, from which unit); audited as an export."""
        with self._operation(actor, "redeployment_report") as session:
            staff_exports.check_site(actor, site)
            rows = staff_exports.moved_hours(session, site, month)
            request = exports.ExportRequest(session, self.specs, actor, {"standort": site, "monat": month})
            exports.record(request, "umsetzungen", len(rows), "page")
            return rows

    def check_escalations(self) -> dict[str, str]:
        """Apply the § 7 risk rule to every site; start/end episodes (``escalation``; timer worker)."""
        return escalation.check_sites(self.db, self.konfig, self.casework)

    def verify_audit(self, actor: Actor, scope: Scope | None = None) -> list[ChainProblem]:
        """Recompute the chains in ``scope`` (default: all) with the key and compare them with the case heads and
        the published anchors (``audit_verify``); for the audit function and the system; the check is audited."""
        scope = scope or Scope()
        with self._operation(actor, "verify_audit", instance_id=scope.instance_id) as session:
            if not permissions.may_read_audit_trail(actor):
                raise PermissionDeniedError("Den Audit-Trail prüft nur die Revision.")
            anchors, problems = audit_anchors.load_anchors(self.settings.audit_anchor_dir, audit.keys_of(session))
            due = audit_verify.AnchorDue(timedelta(minutes=self.settings.audit_anchor_minutes), clock.now())
            problems = [*problems, *audit_verify.verify(session, scope, anchors, due)] if scope.everything else \
                audit_verify.verify(session, scope, anchors, due)  # fmt: skip
            details: dict[str, Any] = {"problems": len(problems)}
            if not scope.everything:
                details["scope"] = {"instance_id": scope.instance_id, "site": scope.site}
            audit.record(session, Action.AUDIT_VERIFIED, actor.username, details=details)
            return problems

    def latest_anchor(self, actor: Actor) -> audit_anchors.LatestAnchor | None:
        """The newest anchor outside the database, for the page *Prüfung* (audit function and system)."""
        if not permissions.may_read_audit_trail(actor):
            raise PermissionDeniedError("Den Audit-Trail prüft nur die Revision.")
        return audit_anchors.latest(self.settings.audit_anchor_dir)

    def anchor_audit(self, actor: Actor) -> AnchorWritten:
        """Publish the heads of the audit chains outside the database (``audit_anchors``); audited."""
        with self._operation(actor, "anchor_audit") as session:
            if not permissions.may_read_audit_trail(actor):
                raise PermissionDeniedError("Den Audit-Trail verankert nur die Revision oder das System.")
            written = audit_anchors.write_anchor(
                session, self.settings.audit_anchor_dir, audit.key_of(session), clock.wall_now()
            )
            audit.record(session, Action.AUDIT_ANCHORED, actor.username,
                         details={"datei": written.path.name, "bis_ereignis": written.up_to})  # fmt: skip
            return written

    def rotate_audit_key(self, actor: Actor) -> tuple[str, str]:
        """Append a new key to the key file and sign from now on with it (``audit_keys``); the old keys stay for
        verification. Returns (old id, new id); recorded, signed with the new key. Other processes sign with the
        new key once restarted. :raises ConfigurationError: no writable key file holds the current key."""
        if not permissions.may_rotate_audit_key(actor):
            raise PermissionDeniedError("Den Schlüssel des Audit-Trails wechselt nur der Betrieb auf dem Server.")
        old, new = audit_keys.rotate(self.settings.audit_key_file, self.settings.audit_key)
        ring = tuple(audit_keys.parse(self.settings.audit_key_file.read_text(encoding="utf-8")))
        self.settings = dataclasses.replace(self.settings, audit_key=ring[-1], audit_keys=ring)
        self.db.use_audit_keys(ring[-1], ring[:-1])
        with self._operation(actor, "rotate_audit_key") as session:
            audit.record(session, Action.AUDIT_KEY_ROTATED, actor.username,
                         details={"alter_schluessel": old, "neuer_schluessel": new})  # fmt: skip
        log.info("audit key rotated: %s -> %s", old, new)
        return old, new

    # --- retention and legal hold (``retention``) ---------------------------------------------------------------

    def run_retention(self, actor: Actor, now: datetime | None = None) -> int:
        """Delete the personal data of every ended case past its retention period and not held; one transaction
        per case; returns how many cases (``egs retention``, the timer worker)."""
        if not permissions.may_run_retention(actor):
            raise PermissionDeniedError("Aufbewahrungsfristen vollzieht nur das System.")
        moment = now or clock.now()
        with self.db.reading() as session:
            due = retention.due_cases(session, self.konfig, moment)
        for instance_id in due:
            with self.db.transaction() as session:
                retention.delete_personal_data(session, self.konfig, instance_id, moment)
        if due:
            log.info("retention: personal data of %d case(s) deleted", len(due))
        return len(due)

    def set_legal_hold(self, actor: Actor, reason: str, *, instance_id: int | None = None,
                       person: str | None = None) -> Hold:  # fmt: skip
        with self._operation(actor, "set_legal_hold", instance_id=instance_id) as session:
            return retention.set_hold(session, actor, clock.now(), instance_id=instance_id, person=person,
                                      reason=reason)  # fmt: skip

    def lift_legal_hold(self, actor: Actor, hold_id: int, reason: str) -> Hold:
        with self._operation(actor, "lift_legal_hold") as session:
            return retention.lift_hold(session, actor, clock.now(), hold_id, reason)

    def legal_holds(self, actor: Actor) -> list[Hold]:
        with self._operation(actor, "legal_holds") as session:
            return retention.holds(session, actor)


def _user_id(actor: Actor) -> int:
    if actor.user_id is None:
        raise AuthenticationError("Nur angemeldete Benutzer haben Sitzungen.")
    return actor.user_id
