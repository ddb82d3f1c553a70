"""Deploying models: check a set of BPMN/DMN files with their forms and store new immutable versions."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import audit, clock
from .errors import ModelError
from .forms import load_form
from .model_lint import ModelLintError, lint_process, loop_warnings
from .model_loader import ModelFile, ProcessModel, load_processes
from .models import DecisionVersion, ProcessVersion
from .safe_xml import parse_model_xml

SAFE_FORM_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,150}\.json")


@dataclass(frozen=True)
class DeployedProcess:
    """The outcome of deploying one process: its version and whether this deploy created it."""

    process_id: str
    name: str
    version: int
    version_id: int
    created: bool
    warnings: tuple[str, ...] = ()


def collect_model_files(paths: Iterable[Path]) -> list[ModelFile]:
    """Read the .bpmn/.dmn files named or contained (recursively) in ``paths``.

    :raises ModelError: for missing paths, unsupported file types or an empty selection.
    """
    files: list[ModelFile] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in (".bpmn", ".dmn") and p.is_file())
            files.extend(ModelFile.from_path(p) for p in found)
        elif path.is_file():
            if path.suffix.lower() not in (".bpmn", ".dmn"):
                raise ModelError("Nur .bpmn- und .dmn-Dateien können bereitgestellt werden.", filename=path.name)
            files.append(ModelFile.from_path(path))
        else:
            raise ModelError("Datei oder Verzeichnis nicht gefunden.", filename=str(path))
    if not files:
        raise ModelError("Keine .bpmn- oder .dmn-Dateien gefunden.")
    return files


def load_forms(
    model: ProcessModel, forms_dir: Path, max_form_bytes: int, own_forms: Mapping[str, Any]
) -> tuple[dict[str, Any], list[ModelError]]:
    forms: dict[str, Any] = {}
    problems: list[ModelError] = []
    for task in model.tasks.values():
        key = task.form_key
        if not key or key in forms:
            continue
        if not SAFE_FORM_KEY.fullmatch(key):
            problems.append(
                ModelError(
                    f"Ungültiger Formularname '{key}' (nur Dateiname.json erlaubt).",
                    filename=task.filename,
                    line=task.line,
                    element_id=task.bpmn_id,
                )
            )
            continue
        if key in own_forms:  # a form of the deployed draft (checked when the draft was saved) wins
            forms[key] = dict(own_forms[key])
            continue
        try:
            forms[key] = load_form(forms_dir / key, max_form_bytes)
        except ModelError as exc:
            problems.append(exc)
    return forms, problems


def content_hash(model: ProcessModel, forms: dict[str, Any]) -> str:
    """Hash of everything a version consists of: its files and its forms."""
    payload = json.dumps({"resources": model.resources, "forms": forms}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def checked_models(
    files: Sequence[ModelFile],
    forms_dir: Path,
    *,
    max_model_bytes: int,
    max_form_bytes: int,
    own_forms: Mapping[str, Any] | None = None,
) -> tuple[dict[str, ProcessModel], dict[str, dict[str, Any]]]:
    """Parse and lint model files with their forms as a deploy does, storing nothing: the processes and the
    forms of each. :raises ModelError: (or ModelLintError with all problems) if anything cannot run."""
    forms_by_process: dict[str, dict[str, Any]] = {}

    def check(models: dict[str, ProcessModel]) -> None:
        if not models:
            raise ModelError("Die Dateien enthalten keinen ausführbaren Prozess.")
        problems: list[ModelError] = []
        for process_id, model in models.items():
            forms, form_problems = load_forms(model, forms_dir, max_form_bytes, own_forms or {})
            problems += form_problems
            problems += lint_process(model, forms)
            forms_by_process[process_id] = forms
        if problems:
            raise ModelLintError(problems)

    return load_processes(files, max_model_bytes, check), forms_by_process


def deploy(
    session: Session,
    files: Sequence[ModelFile],
    forms_dir: Path,
    actor: str,
    *,
    max_model_bytes: int,
    max_form_bytes: int,
    comment: str | None = None,
    own_forms: Mapping[str, Any] | None = None,
    only: str | None = None,
) -> list[DeployedProcess]:
    """Check and store a set of model files; identical content creates no new version.

    ``own_forms`` (file name → schema) are used instead of the files of the same name in ``forms_dir``;
    ``comment`` is the process owner's note stored with each new version. With ``only`` (a process id) the
    other processes in the files are checked but get no new version (a draft deploys its own process only).

    :raises ModelError: (or ModelLintError with all problems) if any file is unsafe or breaks a rule;
        then nothing is stored.
    """
    models, forms_by_process = checked_models(files, forms_dir, max_model_bytes=max_model_bytes,
                                              max_form_bytes=max_form_bytes, own_forms=own_forms)  # fmt: skip
    results: list[DeployedProcess] = []
    if only is None:  # a deploy of a set of files (egs deploy) also versions its decision tables
        for model_file in files:
            if model_file.kind == "dmn":
                record_decision_version(session, model_file.name, model_file.content.decode("utf-8"), actor,
                                        comment, max_model_bytes)  # fmt: skip
    for process_id, model in sorted(models.items()):
        if only is not None and process_id != only:
            continue
        forms = forms_by_process[process_id]
        digest = content_hash(model, forms)
        latest = session.scalars(
            sa.select(ProcessVersion)
            .where(ProcessVersion.process_id == process_id)
            .order_by(ProcessVersion.version.desc())
            .limit(1)
        ).first()
        if latest is not None and latest.content_hash == digest:
            results.append(
                DeployedProcess(process_id, latest.name, latest.version, latest.id, False, tuple(loop_warnings(model)))
            )
            continue
        row = ProcessVersion(
            process_id=process_id,
            version=(latest.version if latest else 0) + 1,
            name=model.name,
            content_hash=digest,
            resources=model.resources,
            forms=forms,
            start_lane=model.start_lane,
            deployed_by=actor,
            deployed_at=clock.now(),
            comment=comment or None,
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            audit.Action.DEPLOY,
            actor,
            process_id=process_id,
            details={
                "version": row.version,
                "sha256": digest,
                "files": sorted(model.resources),
                "forms": sorted(forms),
                **({"comment": comment} if comment else {}),
            },
        )
        results.append(DeployedProcess(process_id, row.name, row.version, row.id, True, tuple(loop_warnings(model))))
    return results


def newest_decision_version(session: Session, filename: str) -> DecisionVersion | None:
    """The live (newest) version of a decision table file, if it was ever deployed."""
    return session.scalars(
        sa.select(DecisionVersion)
        .where(DecisionVersion.filename == filename)
        .order_by(DecisionVersion.version.desc())
        .limit(1)
    ).first()


def record_decision_version(
    session: Session, filename: str, xml: str, actor: str, comment: str | None, max_model_bytes: int
) -> tuple[DecisionVersion, bool]:
    """Store ``xml`` (checked by the caller) as the next version of a decision table file unless it equals the live
    one (audited); the version and whether it is new. The processes that use it are the caller's business."""
    digest = hashlib.sha256(xml.encode("utf-8")).hexdigest()
    latest = newest_decision_version(session, filename)
    if latest is not None and latest.content_hash == digest:
        return latest, False
    root = parse_model_xml(xml.encode("utf-8"), filename, "dmn", max_model_bytes).getroot()
    row = DecisionVersion(
        filename=filename,
        version=(latest.version if latest else 0) + 1,
        name=" ".join((root.get("name") or filename).split())[:300],
        content_hash=digest,
        xml=xml,
        deployed_by=actor,
        deployed_at=clock.now(),
        comment=comment or None,
    )
    session.add(row)
    session.flush()
    audit.record(session, audit.Action.DECISION_DEPLOYED, actor,
                 details={"decision_file": filename, "version": row.version, "sha256": digest,
                          **({"comment": comment} if comment else {})})  # fmt: skip
    return row, True
