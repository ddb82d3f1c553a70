"""What the REST API does with cases, for a token's principal (``api_tokens.Principal``).

The same work as the web's: cases start through ``Casework.start_for`` and messages go through
``Casework.send_for``; a person's token carries the person's rights there. A system token has no grants: it
passes as the system for the start lanes and message routing, but only for the sites it is made for –
checked here, in the operation's transaction, before anything happens.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import api_tokens, audit
from .api_tokens import Principal
from .audit import Action
from .casework import Casework
from .errors import NotFoundError, PermissionDeniedError
from .inbox import TaskSummary, tasks_of_case
from .models import ProcessInstance
from .read_models import CaseHeader, header_of
from .versions import ProcessInfo, SpecCache, newest_versions
from .vocabulary import ALL_SITES, RUNNING, SITES


@dataclass(frozen=True)
class CaseStatus:
    """A case's status for another system: its header and its open tasks."""

    header: CaseHeader
    open_tasks: list[TaskSummary]


def startable(session: Session, specs: SpecCache, principal: Principal) -> list[ProcessInfo]:
    """What a system token may start: every directly started process, at the token's sites where it is offered."""
    mine = SITES if ALL_SITES in principal.sites else tuple(site for site in SITES if site in principal.sites)
    found = []
    for version in newest_versions(session, specs):
        model = version.model
        sites = tuple(site for site in mine if model.sites is None or site in model.sites)
        if model.direct_start and sites:
            found.append(ProcessInfo(version.process_id, version.name, version.version, model.start_lanes, sites))
    return found


def start(
    session: Session, casework: Casework, principal: Principal, process_id: str, site: str, business_key: str | None
) -> CaseHeader:
    """Start a case (``Casework.start_for``). :raises PermissionDeniedError: a site the token is not for."""
    api_tokens.require_site(principal, site)
    return casework.start_for(session, principal.actor, process_id, site=site, business_key=business_key,
                              system=principal.is_system)  # fmt: skip


def send(
    session: Session, casework: Casework, principal: Principal, name: str, business_key: str,
    payload: Mapping[str, Any],
) -> int:  # fmt: skip
    """Deliver a message by business key (``Casework.send_for``); a system token only to cases at its sites."""
    if principal.is_system:
        sites = session.scalars(
            sa.select(ProcessInstance.site).where(
                ProcessInstance.business_key == business_key, ProcessInstance.status == RUNNING
            )
        ).all()
        for site in sites:
            if not principal.acts_for(site):
                raise PermissionDeniedError(f"Für den Vorgang {business_key} fehlt die Berechtigung (Standort).")
    return casework.send_for(session, principal.actor, name, business_key, payload, principal.is_system)


def case_status(session: Session, specs: SpecCache, principal: Principal, instance_id: int) -> CaseStatus:
    """A case's header and open tasks; the view is audited.

    :raises NotFoundError: :raises PermissionDeniedError: not the token's site / not the person's case.
    """
    row = session.get(ProcessInstance, instance_id)
    if row is None:
        raise NotFoundError("Den Vorgang gibt es nicht.")
    version = specs.get(session, row.version_id)
    if not api_tokens.may_view(principal, version.lanes, row.site):
        raise PermissionDeniedError("Für diesen Vorgang fehlt die Berechtigung (Gruppe/Standort).")
    audit.record(session, Action.CASE_VIEWED, principal.actor.username, instance_id=row.id,
                 process_id=row.process_id, details={"ansicht": "api", "token": principal.prefix})  # fmt: skip
    return CaseStatus(header_of(row, version), tasks_of_case(session, row.id, principal.actor, version.lanes))
