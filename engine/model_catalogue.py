"""The process owners' view of what is deployed: every process with its live and older versions (who, when,
comment, open cases on each) and its drafts, and the diagram of one version."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import drafts
from .auth import Actor
from .drafts import DraftInfo
from .errors import NotFoundError
from .models import ProcessInstance, ProcessVersion
from .versions import SpecCache
from .vocabulary import ERROR, RUNNING


@dataclass(frozen=True)
class VersionInfo:
    """One deployed version of a process."""

    version_id: int
    version: int
    deployed_by: str
    deployed_at: datetime
    comment: str
    open_cases: int


@dataclass(frozen=True)
class ProcessEntry:
    """A process: its live (newest) version, the older ones (newest first) and its drafts."""

    process_id: str
    name: str
    live: VersionInfo
    older: tuple[VersionInfo, ...]
    drafts: tuple[DraftInfo, ...]


def catalogue(session: Session, actor: Actor) -> list[ProcessEntry]:
    """Every deployed process by name, for process owners. :raises PermissionDeniedError:"""
    drafts.require_modeller(actor)
    open_cases = dict(
        session.execute(
            sa.select(ProcessInstance.version_id, sa.func.count())
            .where(ProcessInstance.status.in_((RUNNING, ERROR)))
            .group_by(ProcessInstance.version_id)
        ).all()
    )
    rows = session.execute(
        sa.select(
            ProcessVersion.id, ProcessVersion.process_id, ProcessVersion.version, ProcessVersion.name,
            ProcessVersion.deployed_by, ProcessVersion.deployed_at, ProcessVersion.comment,
        ).order_by(ProcessVersion.process_id, ProcessVersion.version.desc())
    ).all()  # fmt: skip
    versions: dict[str, list[VersionInfo]] = defaultdict(list)
    names: dict[str, str] = {}
    for row in rows:
        names.setdefault(row.process_id, row.name)  # the newest version's name
        info = VersionInfo(row.id, row.version, row.deployed_by, row.deployed_at, row.comment or "",
                           int(open_cases.get(row.id, 0)))  # fmt: skip
        versions[row.process_id].append(info)
    by_process: dict[str, list[DraftInfo]] = defaultdict(list)
    for draft in drafts.list_drafts(session, actor):
        by_process[draft.process_id].append(draft)
    entries = [
        ProcessEntry(pid, names[pid], found[0], tuple(found[1:]), tuple(by_process.get(pid, ())))
        for pid, found in versions.items()
    ]
    return sorted(entries, key=lambda entry: (entry.name.casefold(), entry.process_id))


@dataclass(frozen=True)
class VersionDiagram:
    """The BPMN text of a version's main file, for the read-only viewer."""

    process_id: str
    name: str
    version: int
    xml: str


def version_diagram(session: Session, specs: SpecCache, actor: Actor, process_id: str, version: int) -> VersionDiagram:
    """:raises NotFoundError: if the process has no such version. :raises PermissionDeniedError:"""
    drafts.require_modeller(actor)
    version_id = session.scalar(
        sa.select(ProcessVersion.id).where(ProcessVersion.process_id == process_id, ProcessVersion.version == version)
    )
    if version_id is None:
        raise NotFoundError("Diese Version des Prozesses gibt es nicht.")
    loaded = specs.get(session, version_id)
    return VersionDiagram(process_id, loaded.name, loaded.version, loaded.resources[loaded.model.filename])
