"""Work inside one transaction that spans cases: starting cases and routing messages between them.

A case that sends a message (a message throw event whose payload names the target's
``vorgangsnummer``) hands it to the running case with that business key that waits for it; if no
case waits but a process starts with that message, a new case of it is started at the sender's site
(refused where that process is not offered). All of it commits together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import audit, clock, permissions, service_tasks, versions
from .audit import Action
from .auth import Actor
from .errors import FormValidationError, NotFoundError, PermissionDeniedError, RuleViolationError, ScriptError
from .konfiguration import Konfiguration
from .models import HumanTask, ProcessInstance
from .read_models import CaseHeader, header_of
from .runtime import CaseRuntime
from .service_tasks import ServiceContext
from .stepping import StepResult
from .steps import Steps, StepSession
from .versions import LoadedVersion, SpecCache
from .vocabulary import BUSINESS_KEY_MAX, RUNNING, SITES

MAX_MESSAGE_DEPTH = 5


class Casework:
    """Starts and settles cases, delivering the messages they send."""

    def __init__(self, runtime: CaseRuntime, specs: SpecCache, konfig: Konfiguration, steps: Steps) -> None:
        self.runtime = runtime
        self.specs = specs
        self.konfig = konfig
        self.steps = steps

    @contextmanager
    def step_on(
        self, session: Session, row: ProcessInstance, version: LoadedVersion, actor: str
    ) -> Iterator[StepSession]:
        """A jail for one step of the (locked) case ``row``: the session holds the case's audit chain head,
        and service operations the step calls act for the case and ``actor``."""
        audit.hold_head(session, row.id, row.audit_head)
        context = ServiceContext(session, row.id, row.business_key, row.site, actor, self.konfig, specs=self.specs)
        with service_tasks.bound(context), self.steps.session(version) as step:
            yield step

    def start_for(
        self,
        session: Session,
        actor: Actor,
        process_id: str,
        *,
        site: str,
        business_key: str | None = None,
        system: bool = False,
        data: Mapping[str, Any] | None = None,
    ) -> CaseHeader:
        """Start a case of the newest version of a process at a site, for ``actor`` (``data``: initial case data).

        :raises NotFoundError: unknown process or site. :raises FormValidationError: business key too long.
            :raises PermissionDeniedError: actor not in a start lane at that site (unless ``system``).
            :raises RuleViolationError: process not offered at that site. :raises ScriptError:
        """
        if site not in SITES:
            raise NotFoundError(f"Unbekannter Standort: {site}")
        if business_key is not None and not 0 < len(business_key) <= BUSINESS_KEY_MAX:
            raise FormValidationError(
                {"business_key": [f"Das Geschäftszeichen muss 1 bis {BUSINESS_KEY_MAX} Zeichen lang sein."]}
            )
        version = self.specs.latest(session, process_id)
        lanes = version.model.start_lanes
        if not system and not permissions.may_start(actor, lanes, site):
            raise PermissionDeniedError(
                f"Nur {' / '.join(lanes) or 'niemand'} am Standort {site} darf diesen Prozess starten."
            )
        row = self.start(session, version, site=site, business_key=business_key, actor=actor.username, data=data)
        return header_of(row, version)

    def send_for(
        self, session: Session, actor: Actor, name: str, business_key: str, payload: Mapping[str, Any] | None,
        system: bool = False,
    ) -> int:  # fmt: skip
        """Deliver a message to the running cases with ``business_key`` that wait for it; how many took it.

        :raises NotFoundError: no such case waits for it. :raises PermissionDeniedError: the actor may not
            view one of those cases (unless ``system``).
        """
        rows = session.scalars(
            sa.select(ProcessInstance).where(
                ProcessInstance.business_key == business_key, ProcessInstance.status == RUNNING
            )
        ).all()
        if not system:
            for row in rows:
                version = self.specs.get(session, row.version_id)
                if not permissions.may_view_case(actor, version.lanes, row.site):
                    raise PermissionDeniedError(f"Für den Vorgang {business_key} fehlt die Berechtigung.")
        delivered = self.deliver(session, name, business_key, dict(payload or {}), actor.username)
        if not delivered:
            raise NotFoundError(f"Kein offener Vorgang {business_key} wartet auf die Nachricht „{name}“.")
        return len(delivered)

    def start(
        self,
        session: Session,
        version: LoadedVersion,
        *,
        site: str,
        business_key: str | None,
        actor: str,
        data: Mapping[str, Any] | None = None,
        message: tuple[str, Any] | None = None,
        depth: int = 0,
    ) -> ProcessInstance:
        """Create and run a new case; with ``message``, it is started by that message.

        :raises RuleViolationError: the process is not offered at ``site``.
        """
        if message is None and not version.model.direct_start:
            raise RuleViolationError(f"„{version.name}“ wird nur durch eine Nachricht gestartet, nicht direkt.")
        sites = version.model.sites
        if sites is not None and site not in sites:
            raise RuleViolationError(
                f"„{version.name}“ wird am Standort {site} nicht angeboten (nur {', '.join(sites)})."
            )
        related = (data or {}).get("bezugsvorgang")
        row = self.runtime.create_row(
            session, version, site=site, business_key=business_key, actor=actor,
            related_key=str(related)[:BUSINESS_KEY_MAX] if related else None,
        )  # fmt: skip
        initial = {
            "vorgangsnummer": row.business_key,
            "standort": site,
            "gestartet_am": clock.today_berlin().isoformat(),
            **(data or {}),
        }
        with self.step_on(session, row, version, actor) as step:
            result = step.start(initial, message)
        if not result.delivered and message is not None:
            raise RuleViolationError(f"„{version.name}“ wartet beim Start nicht auf die Nachricht „{message[0]}“.")
        details = {"version": version.version, "site": site, "business_key": row.business_key}
        details["konfiguration"] = self.konfig.version
        if message is not None:
            details["message"] = message[0]
        audit.record(session, Action.START, actor, instance_id=row.id, process_id=version.process_id, details=details)
        self._route(session, row, result, actor, depth)
        self.runtime.save_new(session, row, version, result, by=actor)
        return row

    def settle(
        self,
        session: Session,
        row: ProcessInstance,
        version: LoadedVersion,
        result: StepResult,
        expected: int,
        actor: str,
        depth: int = 0,
        inbox: Sequence[HumanTask] | None = None,
    ) -> None:
        """Deliver what the case sent in its step, then save it (optimistic lock on ``expected``; ``inbox``:
        the case's inbox rows if the caller read them)."""
        self._route(session, row, result, actor, depth)
        self.runtime.save(session, row, version, result, expected, inbox, by=actor)

    def deliver(
        self,
        session: Session,
        name: str,
        business_key: str | None,
        payload: Any,
        actor: str,
        *,
        exclude: int | None = None,
        depth: int = 0,
    ) -> list[int]:
        """Hand a message to every running case with ``business_key`` that waits for it; return their ids."""
        if not business_key:
            return []
        query = (
            sa.select(ProcessInstance)
            .where(ProcessInstance.business_key == business_key, ProcessInstance.status == RUNNING)
            .order_by(ProcessInstance.id)
            .with_for_update()
        )
        delivered: list[int] = []
        for row in session.scalars(query).all():
            if row.id == exclude:
                continue
            version = self.specs.get(session, row.version_id)
            expected = row.lock_version
            try:
                with self.step_on(session, row, version, actor) as step:
                    result = step.deliver(row.state, row.serializer_version, name, payload)
            except ScriptError as exc:  # the receiving case failed: its incident, not the sender's
                if exc.instance_id is None:
                    exc.instance_id, exc.during = row.id, "message"
                raise
            if result is None:
                continue
            audit.record(
                session,
                Action.MESSAGE,
                actor,
                instance_id=row.id,
                process_id=row.process_id,
                details={"message": name, "payload": payload if isinstance(payload, dict) else {}},
            )
            self.settle(session, row, version, result, expected, actor, depth + 1)
            delivered.append(row.id)
        return delivered

    def _route(self, session: Session, row: ProcessInstance, result: StepResult, actor: str, depth: int) -> None:
        for name, payload in result.thrown:
            if depth >= MAX_MESSAGE_DEPTH:
                raise RuleViolationError(f"Nachricht „{name}“: zu viele Weiterleitungen hintereinander.")
            target = payload.get("vorgangsnummer") if isinstance(payload, dict) else None
            if self.deliver(session, name, target, payload, actor, exclude=row.id, depth=depth):
                continue
            starter = versions.started_by_message(session, self.specs, name)
            if starter is None:
                raise RuleViolationError(
                    f"Die Nachricht „{name}“ kann nicht zugestellt werden: kein offener Vorgang "
                    f"{target or '(ohne Vorgangsnummer)'} wartet darauf."
                )
            data = {"bezugsvorgang": row.business_key}
            self.start(
                session, starter, site=row.site, business_key=None, actor=actor, data=data,
                message=(name, payload), depth=depth + 1,
            )  # fmt: skip
