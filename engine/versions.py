"""Deployed versions: the parsed-spec cache and the queries over what is deployed (newest versions first).

A version never changes once stored, so its parsed model is cached in memory for as long as the process
runs. ``newest_version_ids`` is the one place that knows which version of each process is the current one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import permissions
from .auth import Actor
from .errors import NotFoundError
from .model_loader import ModelFile, ProcessModel, load_processes
from .models import ProcessVersion


@dataclass(frozen=True)
class ProcessInfo:
    """A deployed process (newest version) someone may start."""

    process_id: str
    name: str
    version: int
    start_lanes: tuple[str, ...]
    sites: tuple[str, ...] = ()  # where the actor may start it (start lane there, process offered there)


@dataclass(frozen=True)
class LoadedVersion:
    """A deployed version with its parsed model, ready to run."""

    id: int
    process_id: str
    version: int
    name: str
    forms: dict[str, Any]
    model: ProcessModel
    content_hash: str = ""
    resources: Mapping[str, str] = field(default_factory=dict)

    @property
    def lanes(self) -> set[str]:
        """Every group that works a step of the process or may start it."""
        lanes = {task.lane for task in self.model.tasks.values() if task.lane}
        return lanes | set(self.model.start_lanes)


# Parsed models by (process id, content hash), shared by every engine in this process: a version's
# content never changes, so a second engine (worker, test) need not parse the same files again.
_PARSED: dict[tuple[str, str], ProcessModel] = {}
_PARSED_LOCK = threading.Lock()


class SpecCache:
    """Parsed specs per deployed version, kept in memory (versions are immutable)."""

    def __init__(self, max_model_bytes: int) -> None:
        self.max_model_bytes = max_model_bytes
        self._versions: dict[int, LoadedVersion] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, version_id: int) -> LoadedVersion:
        """Return the parsed version, parsing its stored files on first use.

        :raises NotFoundError: if the version does not exist.
        """
        cached = self._versions.get(version_id)
        if cached is not None:
            return cached
        row = session.get(ProcessVersion, version_id)
        if row is None:
            raise NotFoundError("Prozessversion nicht gefunden.")
        with self._lock:
            cached = self._versions.get(version_id)
            if cached is None:
                key = (row.process_id, row.content_hash)
                with _PARSED_LOCK:
                    model = _PARSED.get(key)
                    if model is None:
                        files = [ModelFile(name, text.encode("utf-8")) for name, text in row.resources.items()]
                        model = _PARSED[key] = load_processes(files, self.max_model_bytes)[row.process_id]
                cached = LoadedVersion(
                    row.id, row.process_id, row.version, row.name, dict(row.forms), model,
                    row.content_hash, dict(row.resources),
                )  # fmt: skip
                self._versions[version_id] = cached
        return cached

    def latest(self, session: Session, process_id: str) -> LoadedVersion:
        """Return the newest deployed version of a process.

        :raises NotFoundError: if the process was never deployed.
        """
        version_id = session.scalar(
            sa.select(ProcessVersion.id)
            .where(ProcessVersion.process_id == process_id)
            .order_by(ProcessVersion.version.desc())
            .limit(1)
        )
        if version_id is None:
            raise NotFoundError(f"Prozess '{process_id}' ist nicht bereitgestellt.")
        return self.get(session, version_id)


def newest_version_ids() -> sa.ScalarSelect[Any]:
    """Subquery: the id of the newest version of every deployed process."""
    return sa.select(sa.func.max(ProcessVersion.id)).group_by(ProcessVersion.process_id).scalar_subquery()


def newest_versions(session: Session, specs: SpecCache) -> Iterator[LoadedVersion]:
    """The newest version of every deployed process, parsed, ordered by process name."""
    ids = session.scalars(
        sa.select(ProcessVersion.id).where(ProcessVersion.id.in_(newest_version_ids())).order_by(ProcessVersion.name)
    ).all()
    for version_id in ids:
        yield specs.get(session, version_id)


def process_names(session: Session) -> list[tuple[str, str]]:
    """(process id, name) of the newest version of every deployed process, by name."""
    rows = session.execute(
        sa.select(ProcessVersion.process_id, ProcessVersion.name)
        .where(ProcessVersion.id.in_(newest_version_ids()))
        .order_by(ProcessVersion.name)
    ).all()
    return [(process_id, name) for process_id, name in rows]


def startable(session: Session, specs: SpecCache, actor: Actor) -> list[ProcessInfo]:
    """The newest version of each process the actor may start directly (at some site where it is offered),
    by name, with those sites."""
    infos = []
    for version in newest_versions(session, specs):
        model = version.model
        sites = permissions.start_sites(actor, model.start_lanes, model.sites)
        if model.direct_start and sites:
            info = ProcessInfo(version.process_id, version.name, version.version, model.start_lanes, tuple(sites))
            infos.append(info)
    return infos


def started_by_message(session: Session, specs: SpecCache, message: str) -> LoadedVersion | None:
    """The newest version of the (first deployed) process that starts with ``message``, if any."""
    candidates = [version for version in newest_versions(session, specs) if message in version.model.start_messages]
    return min(candidates, key=lambda version: version.id, default=None)
