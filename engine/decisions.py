"""Decision tables (DMN files, e.g. the § 1 cut-over rules ``processes/umstellung_*.dmn``) for process owners:
their versions, the processes that use them, drafts edited in the browser, and the deploy of a draft.

How a version binds its tables: a process version keeps its own copy of every DMN file it uses (its
``resources``), and a case runs on the version it started with. So a deploy of a decision table stores the
new version of the file **and** gives every process whose live version uses the file a new process version
with the same BPMN, forms and other files and the new table (one transaction, each audited). Cases started
afterwards decide with the new table; running cases keep the table of their version (a process owner may
move them with the case migration, where the unchanged BPMN lets every case move).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import audit, clock, drafts, permissions
from .auth import Actor
from .decision_check import check_dmn, decision_ids
from .deployments import DeployedProcess, newest_decision_version, record_decision_version
from .drafts import DMN, Draft, DraftInfo
from .errors import ConflictError, ModelError, NotFoundError, PermissionDeniedError
from .model_lint import ModelLintError
from .model_loader import ModelFile
from .models import DecisionVersion, ModelDraft
from .safe_xml import NS, parse_model_xml
from .versions import LoadedVersion, SpecCache, newest_versions


@dataclass(frozen=True)
class DecisionVersionInfo:
    """One deployed version of a decision table file."""

    version: int
    deployed_by: str
    deployed_at: datetime
    comment: str


@dataclass(frozen=True)
class ProcessUse:
    """A process whose live version uses a decision table file, and the decisions it calls from it."""

    process_id: str
    name: str
    version: int
    decisions: tuple[str, ...]


@dataclass(frozen=True)
class DecisionTableEntry:
    """A decision table file: its live version, the older ones (newest first), who uses it, its drafts."""

    filename: str
    name: str
    decision_ids: tuple[str, ...]
    live: DecisionVersionInfo
    older: tuple[DecisionVersionInfo, ...]
    used_by: tuple[ProcessUse, ...]
    drafts: tuple[DraftInfo, ...]


@dataclass(frozen=True)
class DecisionDeployed:
    """The outcome of deploying a decision table draft: its version and the new versions of the processes."""

    filename: str
    version: int
    created: bool
    processes: tuple[DeployedProcess, ...] = ()


def _called_decisions(version: LoadedVersion) -> set[str]:
    """Every ``calledDecisionId`` in the BPMN files of a version."""
    return {
        (ref.text or "").strip()
        for tree in version.model.trees.values()
        for ref in tree.getroot().iterfind(".//spiffworkflow:calledDecisionId", NS)
    }


def _users(session: Session, specs: SpecCache, filename: str, ids: set[str]) -> list[tuple[LoadedVersion, set[str]]]:
    """The live process versions that carry ``filename``, each with the decisions of ``ids`` it calls."""
    return [
        (version, _called_decisions(version) & ids)
        for version in newest_versions(session, specs)
        if filename in version.resources
    ]


def _ids(xml: str, filename: str, max_bytes: int) -> set[str]:
    return decision_ids(parse_model_xml(xml.encode("utf-8"), filename, "dmn", max_bytes))


def catalogue(session: Session, specs: SpecCache, actor: Actor, max_bytes: int) -> list[DecisionTableEntry]:
    """Every deployed decision table file by name. :raises PermissionDeniedError:"""
    drafts.require_modeller(actor)
    rows = session.scalars(
        sa.select(DecisionVersion).order_by(DecisionVersion.filename, DecisionVersion.version.desc())
    ).all()
    by_file: dict[str, list[DecisionVersion]] = {}
    for row in rows:
        by_file.setdefault(row.filename, []).append(row)
    own_drafts: dict[str, list[DraftInfo]] = {}
    for draft in drafts.list_drafts(session, actor, kind=DMN):
        own_drafts.setdefault(draft.filename, []).append(draft)
    entries = []
    for filename, found in by_file.items():
        ids = _ids(found[0].xml, filename, max_bytes)
        infos = [DecisionVersionInfo(r.version, r.deployed_by, r.deployed_at, r.comment or "") for r in found]
        used = tuple(ProcessUse(v.process_id, v.name, v.version, tuple(sorted(called)))
                     for v, called in _users(session, specs, filename, ids))  # fmt: skip
        entries.append(DecisionTableEntry(filename, found[0].name, tuple(sorted(ids)), infos[0], tuple(infos[1:]),
                                          used, tuple(own_drafts.get(filename, ()))))  # fmt: skip
    return sorted(entries, key=lambda entry: (entry.name.casefold(), entry.filename))


def create_draft(session: Session, actor: Actor, filename: str) -> Draft:
    """A new draft holding the live version of a decision table file (audited). :raises NotFoundError:"""
    drafts.require_modeller(actor)
    live = newest_decision_version(session, filename)
    if live is None:
        raise NotFoundError(f"Die Entscheidungstabelle '{filename}' ist nicht bereitgestellt.")
    now = clock.now()
    row = ModelDraft(
        process_id=filename, name=f"Entwurf auf Basis von Version {live.version}", comment="",
        base_version=live.version, filename=filename, bpmn_xml=live.xml, forms={}, created_by=actor.username,
        created_at=now, updated_by=actor.username, updated_at=now, lock_version=1, kind=DMN,
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(session, audit.Action.MODEL_DRAFT_CREATED, actor.username,
                 details={"draft": row.id, "lock_version": 1, "decision_file": filename,
                          "base_version": live.version})  # fmt: skip
    return drafts.get(session, actor, row.id, kind=DMN)


DeployProcess = Callable[[list[ModelFile], str, Mapping[str, Any], str], list[DeployedProcess]]


def deploy_draft(
    session: Session,
    actor: Actor,
    draft_id: int,
    expected: int,
    comment: str,
    specs: SpecCache,
    deploy_process: DeployProcess,
    max_bytes: int,
) -> DecisionDeployed:
    """Deploy a decision table draft with a comment: the new version of the file and a new version of every
    process whose live version uses it (``deploy_process(files, comment, forms, process_id)``, the normal deploy
    path with its lint); the draft goes (audited). Content equal to the live version creates nothing.

    :raises FormValidationError: without a comment. :raises ModelError: (``ModelLintError`` with every problem)
        if the table is broken or lacks a decision that a deployed process calls; nothing is stored then.
        :raises ConflictError: if the draft was saved since ``expected``, or another version of the table went
        live since the draft was started.
    """
    if not permissions.may_deploy(actor):
        raise PermissionDeniedError("Entscheidungstabellen stellt nur die Prozessverantwortung bereit.")
    draft = drafts.locked(session, actor, draft_id, expected, kind=DMN)
    comment = drafts.deploy_comment(comment)
    live = newest_decision_version(session, draft.filename)
    if live is not None and draft.base_version is not None and live.version != draft.base_version:
        raise ConflictError(
            f"Der Entwurf beruht auf Version {draft.base_version}, live ist inzwischen Version {live.version}. "
            f"Bitte öffnen Sie Version {live.version} im DMN-Editor und übernehmen Sie Ihre Änderungen dort "
            "(den Entwurf können Sie als .dmn herunterladen)."
        )
    new_ids = decision_ids(check_dmn(draft.xml, draft.filename, max_bytes))
    old_ids = _ids(live.xml, draft.filename, max_bytes) if live is not None else set()
    users = _users(session, specs, draft.filename, old_ids | new_ids)
    problems = [
        ModelError(f"Die Entscheidung '{decision}' fehlt in der Tabelle, wird aber von „{version.name}“ "
                   f"(Version {version.version}) aufgerufen. Bitte die ID der Entscheidung beibehalten.",
                   filename=draft.filename, element_id=decision)
        for version, called in users for decision in sorted(called - new_ids)
    ]  # fmt: skip
    if problems:
        raise ModelLintError(problems)
    row, created = record_decision_version(session, draft.filename, draft.xml, actor.username, comment, max_bytes)
    if not created:
        return DecisionDeployed(draft.filename, row.version, False)
    note = f"Entscheidungstabelle {draft.filename}, Version {row.version}: {comment}"
    deployed: list[DeployedProcess] = []
    for version, _ in users:
        files = [ModelFile(name, (draft.xml if name == draft.filename else text).encode("utf-8"))
                 for name, text in sorted(version.resources.items())]  # fmt: skip
        found = [r for r in deploy_process(files, note, version.forms, version.process_id)
                 if r.process_id == version.process_id]  # fmt: skip
        deployed += found
    drafts.delete(session, actor, draft_id, expected, deployed_as=row.version, kind=DMN,
                  diff={"processes": {r.process_id: r.version for r in deployed}})  # fmt: skip
    return DecisionDeployed(draft.filename, row.version, True, tuple(deployed))
