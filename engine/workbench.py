"""The auditor's workbench (issue 12): one front for the audit function's read-only pages.

Every call checks ``permissions.may_use_workbench``, needs the purpose of the sitting
(``audit_purpose.required``: else ``PurposeRequiredError``) and records the view with that purpose and the
filters – a case story as a view of that case (so it appears in the applicant's Art. 15 answer), every other
page in the global chain. Refusals go through the engine's ``_operation`` and are recorded as everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import audit, audit_events, audit_purpose, audit_search, audit_story, clock, permissions
from .audit import Action
from .audit_events import ApplicantCase, EventPage, EventQuery
from .audit_purpose import Purpose
from .audit_search import AuditCasePage, CaseQuery
from .audit_story import CaseStory
from .auth import Actor
from .db import Database
from .errors import PermissionDeniedError
from .models import ProcessInstance, ProcessVersion
from .runtime import CaseRuntime
from .vocabulary import SITES

Operation = Callable[..., AbstractContextManager[Session]]
REFUSED = "Die Revisionsansichten sind der Innenrevision und dem Datenschutz (Gruppe AUDIT) vorbehalten."


@dataclass(frozen=True)
class ApplicantAnswer:
    """The cases of an applicant and every access to them (Art. 15 DSGVO)."""

    name: str
    cases: list[ApplicantCase]
    events: EventPage


class Workbench:
    """Purpose, case search, case story, person views and system record for group AUDIT."""

    def __init__(self, db: Database, runtime: CaseRuntime, operation: Operation) -> None:
        self._db = db
        self._runtime = runtime
        self._operation = operation

    def _sitting(
        self, actor: Actor, name: str, token: str | None, purpose: Purpose | None = None
    ) -> AbstractContextManager[tuple[Session, Purpose]]:
        return _Sitting(self._operation(actor, f"workbench:{name}"), actor, token, purpose)

    def purpose(self, actor: Actor, token: str | None) -> Purpose | None:
        """The purpose stated in this sitting, if any (the workbench's header shows it)."""
        if not permissions.may_use_workbench(actor):
            return None
        with self._db.reading() as session:
            return audit_purpose.current(session, token)

    def state_purpose(self, actor: Actor, token: str, code: str, reference: str) -> Purpose:
        """Record why the auditor reads personal data in this sitting. :raises FormValidationError:"""
        with self._operation(actor, "workbench:purpose") as session:
            _require(actor)
            return audit_purpose.state(session, actor, token, code, reference, clock.wall_now())

    def search_cases(self, actor: Actor, token: str | None, query: CaseQuery) -> AuditCasePage:
        with self._sitting(actor, "search", token) as (session, purpose):
            page = audit_search.search(
                session, replace(query, sites=None if (sites := _sites(actor)) is None else tuple(sites))
            )
            _viewed(session, actor, purpose, "vorgangssuche", query.filters())
            return page

    def story(self, actor: Actor, token: str | None, instance_id: int, purpose: Purpose | None = None) -> CaseStory:
        """A case's story, for the sitting of ``token`` – or, from the REST API, for ``purpose`` stated with the
        request (``audit_purpose.checked``)."""
        with self._sitting(actor, "story", token, purpose) as (session, purpose):
            site = session.scalar(sa.select(ProcessInstance.site).where(ProcessInstance.id == instance_id))
            if site is not None and not permissions.may_audit_case(actor, site):
                raise PermissionDeniedError("Für Vorgänge dieses Standorts fehlt die Berechtigung (AUDIT).")
            found = audit_story.story(session, self._runtime, actor, instance_id)
            audit.record(session, Action.CASE_VIEWED, actor.username, instance_id=instance_id,
                         process_id=found.header.process_id,
                         details={"ansicht": "revision", **purpose.details()})  # fmt: skip
            return found

    def activity(self, actor: Actor, token: str | None, query: EventQuery) -> EventPage:
        with self._sitting(actor, "activity", token) as (session, purpose):
            page = audit_events.activity(session, query, _sites(actor)) if query.person else EventPage(query, [], None)
            _viewed(session, actor, purpose, "taetigkeit", query.filters())
            return page

    def applicant(self, actor: Actor, token: str | None, name: str, query: EventQuery) -> ApplicantAnswer:
        with self._sitting(actor, "applicant", token) as (session, purpose):
            cases = audit_events.applicant_cases(session, name, _sites(actor))
            page = audit_events.applicant_accesses(session, cases, query)
            _viewed(session, actor, purpose, "antragsteller", {"name": name[:100], **query.filters()})
            return ApplicantAnswer(name, cases, page)

    def system_record(self, actor: Actor, token: str | None, query: EventQuery) -> EventPage:
        with self._sitting(actor, "system", token) as (session, purpose):
            page = audit_events.system_record(session, query)
            _viewed(session, actor, purpose, "systemprotokoll", query.filters())
            return page

    def processes(self, actor: Actor) -> list[tuple[str, str, list[int]]]:
        """(process id, name of the newest version, versions) of every deployed process, for the filters."""
        _require(actor)
        with self._db.reading() as session:
            rows = session.execute(
                sa.select(ProcessVersion.process_id, ProcessVersion.name, ProcessVersion.version).order_by(
                    ProcessVersion.process_id, ProcessVersion.version
                )
            ).all()
        found: dict[str, tuple[str, list[int]]] = {}
        for process_id, name, version in rows:
            found[process_id] = (name, [*found.get(process_id, ("", []))[1], version])
        return sorted(((pid, name, versions) for pid, (name, versions) in found.items()), key=lambda p: p[1])


class _Sitting(AbstractContextManager[tuple[Session, Purpose]]):
    """An audited workbench operation: permission and purpose checked inside the operation's transaction."""

    def __init__(
        self, operation: AbstractContextManager[Session], actor: Actor, token: str | None, purpose: Purpose | None
    ) -> None:
        self._operation, self._actor, self._token, self._purpose = operation, actor, token, purpose

    def __enter__(self) -> tuple[Session, Purpose]:
        session = self._operation.__enter__()
        try:
            _require(self._actor)
            return session, self._purpose or audit_purpose.required(session, self._token)
        except BaseException as exc:
            if not self._operation.__exit__(type(exc), exc, exc.__traceback__):
                raise
            raise

    def __exit__(self, *exc_info: Any) -> bool | None:
        return self._operation.__exit__(*exc_info)


def _sites(actor: Actor) -> list[str] | None:
    """The auditor's sites, None for all of them (no filter)."""
    sites = permissions.audit_sites(actor)
    return None if len(sites) == len(SITES) else sites


def _require(actor: Actor) -> None:
    if not permissions.may_use_workbench(actor):
        raise PermissionDeniedError(REFUSED)


def _viewed(session: Session, actor: Actor, purpose: Purpose, page: str, filters: dict[str, str]) -> None:
    audit.record(session, Action.AUDIT_VIEWED, actor.username,
                 details={"ansicht": page, "filter": filters, **purpose.details()})  # fmt: skip
