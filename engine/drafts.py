"""Model drafts: a process owner's working copy of a process model, kept on the server until it is deployed.

A draft is never live. It holds the BPMN text of the process's main file and, optionally, form files of its
own (file name → JSON Schema) that replace the form files of the same name when it is deployed – or, as a draft
of kind "dmn", the text of a decision table file (``decisions``). Every text
is checked by the safe XML loader before it is stored; every change is audited; a save names the
``lock_version`` it started from, and a stale one is refused (``ConflictError``) instead of overwriting a
newer save (two browser tabs, two process owners).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import audit, clock, decision_library, permissions
from .auth import Actor
from .decision_check import check_dmn
from .deployments import SAFE_FORM_KEY, DeployedProcess
from .errors import ConflictError, FormValidationError, ModelError, NotFoundError, PermissionDeniedError
from .forms import check_schema
from .model_loader import ModelFile
from .models import ModelDraft, ProcessVersion
from .safe_xml import NS, parse_model_xml
from .versions import LoadedVersion

NAME_MAX = 200
COMMENT_MAX = 2000
REFUSED = "Modellentwürfe sind der Prozessverantwortung vorbehalten."
BPMN, DMN = "bpmn", "dmn"
GONE = "Der Modellentwurf existiert nicht (mehr)."


@dataclass(frozen=True)
class DraftInfo:
    """A draft without its texts, for lists."""

    id: int
    process_id: str
    name: str
    comment: str
    base_version: int | None
    filename: str
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    lock_version: int
    form_names: tuple[str, ...] = ()
    kind: str = BPMN  # BPMN: a draft of a process; DMN: of a decision table file


@dataclass(frozen=True)
class Draft(DraftInfo):
    """A draft with its BPMN text and its own forms."""

    xml: str = ""
    forms: dict[str, Any] = field(default_factory=dict)


def require_modeller(actor: Actor) -> None:
    """:raises PermissionDeniedError: unless the actor may edit models (``permissions.may_edit_models``)."""
    if not permissions.may_edit_models(actor):
        raise PermissionDeniedError(REFUSED)


def _info(row: ModelDraft) -> DraftInfo:
    return DraftInfo(
        row.id, row.process_id, row.name, row.comment, row.base_version, row.filename, row.created_by,
        row.created_at, row.updated_by, row.updated_at, row.lock_version, tuple(sorted(row.forms or {})), row.kind,
    )  # fmt: skip


def _draft(row: ModelDraft) -> Draft:
    info = _info(row)
    return Draft(**{name: getattr(info, name) for name in DraftInfo.__dataclass_fields__},
                 xml=row.bpmn_xml, forms=dict(row.forms or {}))  # fmt: skip


def list_drafts(session: Session, actor: Actor, process_id: str | None = None, kind: str = BPMN) -> list[DraftInfo]:
    """Drafts (of one process, or of all) of ``kind``, oldest first."""
    require_modeller(actor)
    query = sa.select(ModelDraft).where(ModelDraft.kind == kind).order_by(ModelDraft.process_id, ModelDraft.id)
    if process_id is not None:
        query = query.where(ModelDraft.process_id == process_id)
    return [_info(row) for row in session.scalars(query)]


def get(session: Session, actor: Actor, draft_id: int, kind: str = BPMN) -> Draft:
    """One draft of ``kind`` with its texts. :raises NotFoundError: :raises PermissionDeniedError:"""
    require_modeller(actor)
    row = session.get(ModelDraft, draft_id)
    if row is None or row.kind != kind:
        raise NotFoundError(GONE)
    return _draft(row)


def check_bpmn(xml: str, filename: str, process_id: str, max_bytes: int) -> None:
    """Check a draft's BPMN text with the safe loader and that it still holds the draft's process.

    :raises ModelError: for oversized, hostile (DOCTYPE/entities), malformed or non-BPMN text, or another process.
    """
    tree = parse_model_xml(xml.encode("utf-8"), filename, "bpmn", max_bytes)
    if not tree.getroot().xpath("bpmn:process[@id=$id]", namespaces=NS, id=process_id):
        raise ModelError(f"Die Datei enthält den Prozess '{process_id}' nicht (Prozess-ID geändert?).",
                         filename=filename)  # fmt: skip


def check_forms(forms: Mapping[str, Any], max_form_bytes: int) -> dict[str, Any]:
    """Check the draft's own forms (file name → JSON Schema) like form files. :raises ModelError:"""
    checked: dict[str, Any] = {}
    for name, schema in forms.items():
        if not isinstance(name, str) or not SAFE_FORM_KEY.fullmatch(name):
            raise ModelError(f"Ungültiger Formularname '{str(name)[:60]}' (nur Dateiname.json erlaubt).")
        if len(json.dumps(schema, ensure_ascii=False).encode("utf-8")) > max_form_bytes:
            raise ModelError(f"Das Formular ist größer als {max_form_bytes} Bytes.", filename=name)
        check_schema(schema, name)
        checked[name] = schema
    return checked


def create_from_version(session: Session, actor: Actor, version: LoadedVersion, *, uploaded: str | None = None,
                        xml: str | None = None) -> Draft:  # fmt: skip
    """A new draft holding the main BPMN file of ``version`` – or ``xml``, the text of the file ``uploaded`` in
    its place (checked by the caller like a deploy) – audited."""
    require_modeller(actor)
    filename = version.model.filename
    now = clock.now()
    row = ModelDraft(
        process_id=version.process_id,
        name=f"Hochgeladen: {uploaded}"[:NAME_MAX] if uploaded else f"Entwurf auf Basis von Version {version.version}",
        comment="",
        base_version=version.version,
        filename=filename,
        bpmn_xml=xml if xml is not None else version.resources[filename],
        forms={},
        created_by=actor.username,
        created_at=now,
        updated_by=actor.username,
        updated_at=now,
        lock_version=1,
    )
    session.add(row)
    session.flush()
    if uploaded:
        _record(session, audit.Action.MODEL_DRAFT_UPLOADED, actor, row,
                {"base_version": version.version, "file": uploaded})  # fmt: skip
    else:
        _record(session, audit.Action.MODEL_DRAFT_CREATED, actor, row, {"base_version": version.version})
    return _draft(row)


def _locked(session: Session, draft_id: int, expected: int, kind: str = BPMN) -> ModelDraft:
    row = session.scalars(sa.select(ModelDraft).where(ModelDraft.id == draft_id).with_for_update()).first()
    if row is None or row.kind != kind:
        raise NotFoundError(GONE)
    if row.lock_version != expected:
        raise ConflictError(
            "Der Entwurf wurde zwischenzeitlich an anderer Stelle gespeichert. Ihre Änderung wurde nicht "
            "übernommen; bitte laden Sie den Entwurf neu.",
            expected=expected,
            actual=row.lock_version,
        )
    return row


def locked(session: Session, actor: Actor, draft_id: int, expected: int, kind: str = BPMN) -> Draft:
    """The draft, locked for the rest of the transaction, if it is still at ``expected``.

    :raises ConflictError: if it was saved since. :raises NotFoundError: :raises PermissionDeniedError:
    """
    require_modeller(actor)
    return _draft(_locked(session, draft_id, expected, kind))


def save(
    session: Session,
    actor: Actor,
    draft_id: int,
    expected: int,
    *,
    xml: str | None = None,
    name: str | None = None,
    comment: str | None = None,
    forms: Mapping[str, Any] | None = None,
    max_model_bytes: int,
    max_form_bytes: int,
    kind: str = BPMN,
) -> Draft:
    """Store new texts of a draft (what is None stays); everything is checked first, nothing stored on error.

    :raises ConflictError: if ``expected`` is not the draft's lock_version. :raises ModelError: for unsafe
        or broken BPMN or forms. :raises FormValidationError: for a missing or overlong name or comment.
    """
    require_modeller(actor)
    row = _locked(session, draft_id, expected, kind)
    if xml is not None and kind == DMN:
        check_dmn(xml, row.filename, max_model_bytes)
    elif xml is not None:
        check_bpmn(xml, row.filename, row.process_id, max_model_bytes)
    if forms is not None and kind == DMN:
        raise ModelError("Eine Entscheidungstabelle hat keine Formulare.", filename=row.filename)
    checked = check_forms(forms, max_form_bytes) if forms is not None else None
    errors: dict[str, list[str]] = {}
    if name is not None and not name.strip():
        errors["name"] = ["Bitte einen Namen angeben."]
    elif name is not None and len(name.strip()) > NAME_MAX:
        errors["name"] = [f"Höchstens {NAME_MAX} Zeichen."]
    if comment is not None and len(comment) > COMMENT_MAX:
        errors["kommentar"] = [f"Höchstens {COMMENT_MAX} Zeichen."]
    if errors:
        raise FormValidationError(errors)
    changed: list[str] = []
    if xml is not None and xml != row.bpmn_xml:
        row.bpmn_xml = xml
        changed.append("bpmn")
    if checked is not None and checked != row.forms:
        row.forms = checked
        changed.append("forms")
    if name is not None and name.strip() != row.name:
        row.name = name.strip()
        changed.append("name")
    if comment is not None and comment.strip() != row.comment:
        row.comment = comment.strip()
        changed.append("comment")
    if changed:
        row.lock_version += 1
        row.updated_by, row.updated_at = actor.username, clock.now()
        session.flush()
        _record(session, audit.Action.MODEL_DRAFT_SAVED, actor, row, {"changed": changed})
    return _draft(row)


def delete(
    session: Session,
    actor: Actor,
    draft_id: int,
    expected: int,
    *,
    deployed_as: int | None = None,
    diff: Mapping[str, Any] | None = None,
    kind: str = BPMN,
) -> None:
    """Remove a draft (audited: deleted, or deployed as version ``deployed_as`` with the ``diff`` summary against
    the version it replaced). :raises ConflictError:"""
    require_modeller(actor)
    row = _locked(session, draft_id, expected, kind)
    if deployed_as is None:
        _record(session, audit.Action.MODEL_DRAFT_DELETED, actor, row, {})
    else:
        _record(
            session, audit.Action.MODEL_DRAFT_DEPLOYED, actor, row, {"version": deployed_as, "diff": dict(diff or {})}
        )
    session.delete(row)
    session.flush()


def model_files(
    draft: Draft, live: LoadedVersion | None, library: Callable[[], Mapping[str, str]] | None = None
) -> list[ModelFile]:
    """The files a deploy of ``draft`` consists of: its BPMN text in place of the live version's main file,
    plus the live version's other files (decision tables, called processes), plus the files of the deployed
    decision ``library`` (``decision_library.library``, read only when needed) that define a decision the draft calls
    and no file here does."""
    files = files_with(draft.filename, draft.xml, live)
    if library is None or not decision_library.called(draft.xml):
        return files
    texts = {f.name: f.content.decode("utf-8") for f in files if f.kind == "dmn"}
    present = {d.id for name, text in texts.items() for d in decision_library.decisions_in(name, text)}
    missing = decision_library.called(draft.xml) - present
    for name, text in sorted(library().items()) if missing else ():
        defined = {d.id for d in decision_library.decisions_in(name, text)} if name not in texts else set()
        if missing & defined:
            files.append(ModelFile(name, text.encode("utf-8")))
            missing -= defined
    return files


def files_with(filename: str, xml: str, live: LoadedVersion | None) -> list[ModelFile]:
    """``xml`` as the main file ``filename`` with the other files of ``live``."""
    files = [ModelFile(filename, xml.encode("utf-8"))]
    if live is not None:
        files += [ModelFile(name, text.encode("utf-8")) for name, text in sorted(live.resources.items())
                  if name != filename]  # fmt: skip
    return files


def _record(session: Session, action: audit.Action, actor: Actor, row: ModelDraft, details: dict[str, Any]) -> None:
    if row.kind == DMN:  # a decision table belongs to no one process: the event names its file
        audit.record(session, action, actor.username, details={"draft": row.id, "lock_version": row.lock_version,
                                                               "decision_file": row.filename, **details})  # fmt: skip
        return
    audit.record(session, action, actor.username, process_id=row.process_id,
                 details={"draft": row.id, "lock_version": row.lock_version, **details})  # fmt: skip


def _replaced_since(session: Session, draft: Draft, live: LoadedVersion) -> bool:
    """Whether a version went live since the draft's base that changed what the draft holds (its BPMN file or the
    forms). A newer version that only brought a new decision table (``decisions``) does not count: the deploy takes
    the live version's other files anyway."""
    if live.version == draft.base_version:
        return False
    base = session.execute(
        sa.select(ProcessVersion.resources, ProcessVersion.forms).where(
            ProcessVersion.process_id == draft.process_id, ProcessVersion.version == draft.base_version
        )
    ).first()
    return (
        base is None
        or base.resources.get(draft.filename) != live.resources.get(draft.filename)
        or (dict(base.forms) != dict(live.forms))
    )


def deploy_comment(comment: str) -> str:
    """The comment of a new version, stripped. :raises FormValidationError: if it is empty or too long."""
    comment = comment.strip()
    if not comment:
        raise FormValidationError({"kommentar": ["Bitte beschreiben Sie kurz, was sich ändert."]})
    if len(comment) > COMMENT_MAX:
        raise FormValidationError({"kommentar": [f"Höchstens {COMMENT_MAX} Zeichen."]})
    return comment


def check_base(session: Session, draft: Draft, live: LoadedVersion | None) -> None:
    """:raises ConflictError: if a version that changed what the draft holds went live since the draft was started
    (deploying the draft would undo it; ``_replaced_since``)."""
    if live is not None and draft.base_version is not None and _replaced_since(session, draft, live):
        raise ConflictError(
            f"Der Entwurf beruht auf Version {draft.base_version}, live ist inzwischen Version {live.version}. "
            f"Bitte öffnen Sie Version {live.version} im Modeller und übernehmen Sie Ihre Änderungen dort "
            "(den Entwurf können Sie als .bpmn herunterladen)."
        )


def deploy_draft(
    session: Session,
    actor: Actor,
    draft_id: int,
    expected: int,
    comment: str,
    live: LoadedVersion | None,
    deploy_files: Callable[[list[ModelFile], str, Mapping[str, Any]], list[DeployedProcess]],
    diff: Callable[[Draft], Mapping[str, Any]] | None = None,
    library: Callable[[], Mapping[str, str]] | None = None,
) -> DeployedProcess:
    """Deploy a draft with the process owner's comment through the normal deploy path (parse, lint, forms);
    a new version removes the draft (audited as deployed). Content equal to the live version creates none
    and keeps the draft. ``diff`` gives the summary of the changes against the live version for the audit event;
    ``library`` the deployed decision tables a draft may call (``model_files``).

    :raises FormValidationError: without a comment. :raises ModelError: (``ModelLintError`` with every
        problem) if the draft cannot run; nothing is stored then. :raises ConflictError: if the draft was saved
        since ``expected``, or another version went live since the draft was started (it would undo that one).
    """
    if not permissions.may_deploy(actor):
        raise PermissionDeniedError("Prozessmodelle stellt nur die Prozessverantwortung bereit.")
    draft = locked(session, actor, draft_id, expected)
    comment = deploy_comment(comment)
    check_base(session, draft, live)
    results = deploy_files(model_files(draft, live, library), comment, draft.forms)
    result = next((r for r in results if r.process_id == draft.process_id), None)
    if result is None:
        raise ModelError(f"Der Entwurf enthält den Prozess '{draft.process_id}' nicht als ausführbaren Prozess.",
                         filename=draft.filename)  # fmt: skip
    if result.created:
        summary = diff(draft) if diff is not None and live is not None else None
        delete(session, actor, draft_id, expected, deployed_as=result.version, diff=summary)
    return result
