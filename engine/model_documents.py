"""Uploads on the page "Modelle". A BPMN file that holds one of our deployed processes and passes the deploy
check becomes a draft of that process; any other BPMN file – from Camunda, Signavio, the interchange test
suite – is kept as a documentation model: view only, never deployed, with the reasons why it cannot run as it
is (``model_analysis``). Uploads and deletions are audited.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import audit, clock, drafts
from .auth import Actor
from .case_path import diagram_xml
from .errors import ModelError, NotFoundError
from .model_analysis import (
    NOT_EXECUTABLE,
    UNSUPPORTED,
    VENDOR,
    Analysis,
    ElementRef,
    Finding,
    analyse,
    element_ids,
    rule_findings,
)
from .model_loader import ModelFile
from .models import ModelDocument, ProcessVersion
from .versions import SpecCache

CheckFiles = Callable[[Sequence[ModelFile], Mapping[str, Any]], Any]


@dataclass(frozen=True)
class DocumentInfo:
    """A documentation model without its text, for the list on "Modelle"."""

    id: int
    name: str
    filename: str
    uploaded_by: str
    uploaded_at: datetime
    finding_count: int


@dataclass(frozen=True)
class Document(DocumentInfo):
    """A documentation model with its BPMN text and findings."""

    xml: str = ""
    findings: tuple[Finding, ...] = ()
    diagram: str = ""  # the text reduced to what the viewer draws (``case_path.diagram_xml``)

    @property
    def by_topic(self) -> list[tuple[str, list[Finding]]]:
        """The findings grouped by topic, in the order of ``model_analysis.TOPICS``."""
        groups: dict[str, list[Finding]] = {}
        for finding in self.findings:
            groups.setdefault(finding.topic, []).append(finding)
        return list(groups.items())

    @property
    def element_ids(self) -> list[str]:
        return element_ids(self.findings)


@dataclass(frozen=True)
class Uploaded:
    """Where an upload went: a new draft or a new documentation model."""

    draft_id: int | None = None
    document_id: int | None = None


def _filename(name: str) -> str:
    base = PurePath(name.replace("\\", "/")).name.strip()
    return base[:200] or "modell.bpmn"


def upload(
    session: Session,
    actor: Actor,
    specs: SpecCache,
    name: str,
    content: bytes,
    analysed: Callable[[bytes, str], Analysis],
    check_files: CheckFiles,
) -> Uploaded:
    """Analyse an uploaded BPMN file; a runnable file of a deployed process becomes a draft, anything else a
    documentation model. :raises ModelError: for a hostile or unreadable file (nothing is stored).
    :raises PermissionDeniedError:"""
    drafts.require_modeller(actor)
    filename = _filename(name)
    analysis = analysed(content, filename)
    findings = list(analysis.findings)
    deployed = set(
        session.scalars(
            sa.select(ProcessVersion.process_id).where(ProcessVersion.process_id.in_(analysis.executable_ids))
        )
    )
    own = [pid for pid in analysis.executable_ids if pid in deployed]
    if own:  # a file of ours: the deploy check with the other files of the live version decides
        live = specs.latest(session, own[0])
        xml = content.decode("utf-8")
        try:
            check_files(drafts.files_with(live.model.filename, xml, live), {})
        except ModelError as exc:
            problems: list[ModelError] = getattr(exc, "problems", None) or [exc]
            kept = [f for f in analysis.findings if f.topic in (NOT_EXECUTABLE, UNSUPPORTED, VENDOR)]
            findings = [*rule_findings(problems, analysis.names), *kept]
        else:
            draft = drafts.create_from_version(session, actor, live, uploaded=filename, xml=xml)
            return Uploaded(draft_id=draft.id)
    elif analysis.runnable:
        elements = tuple(ElementRef(pid, analysis.names.get(pid, "")) for pid in analysis.executable_ids)
        findings.append(
            Finding(
                NOT_EXECUTABLE,
                "Der Prozess ist auf dieser Plattform nicht bereitgestellt. Neue "
                "Prozesse stellt der Betrieb mit „egs deploy“ bereit; hochladen lassen sich neue "
                "Fassungen bereitgestellter Prozesse.",
                elements,
            )
        )
    row = ModelDocument(
        name=analysis.name,
        filename=filename,
        bpmn_xml=content.decode("utf-8"),
        sha256=hashlib.sha256(content).hexdigest(),
        findings=[f.to_json() for f in findings],
        uploaded_by=actor.username,
        uploaded_at=clock.now(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        audit.Action.MODEL_DOCUMENT_UPLOADED,
        actor.username,
        details={
            "document": row.id,
            "file": filename,
            "sha256": row.sha256,
            "findings": len(findings),
            "processes": list(analysis.process_ids[:20]),
        },
    )
    return Uploaded(document_id=row.id)


def analyser(forms_dir: Any, max_model_bytes: int, max_form_bytes: int) -> Callable[[bytes, str], Analysis]:
    """``model_analysis.analyse`` with the platform's forms and size limits."""
    return lambda content, filename: analyse(
        content, filename, forms_dir, max_model_bytes=max_model_bytes, max_form_bytes=max_form_bytes
    )


def _info(row: ModelDocument) -> DocumentInfo:
    return DocumentInfo(row.id, row.name, row.filename, row.uploaded_by, row.uploaded_at, len(row.findings or []))


def documents(session: Session, actor: Actor) -> list[DocumentInfo]:
    """Every documentation model, newest first. :raises PermissionDeniedError:"""
    drafts.require_modeller(actor)
    rows = session.scalars(sa.select(ModelDocument).order_by(ModelDocument.uploaded_at.desc(), ModelDocument.id.desc()))
    return [_info(row) for row in rows]


def document(session: Session, actor: Actor, document_id: int) -> Document:
    """:raises NotFoundError: :raises PermissionDeniedError:"""
    drafts.require_modeller(actor)
    row = session.get(ModelDocument, document_id)
    if row is None:
        raise NotFoundError("Dieses Dokumentationsmodell gibt es nicht (mehr).")
    info = _info(row)
    findings = tuple(Finding.from_json(f) for f in row.findings or [])
    fields = {name: getattr(info, name) for name in DocumentInfo.__dataclass_fields__}
    return Document(**fields, xml=row.bpmn_xml, findings=findings, diagram=diagram_xml(row.bpmn_xml))


def delete(session: Session, actor: Actor, document_id: int) -> None:
    """Delete a documentation model (audited). :raises NotFoundError: :raises PermissionDeniedError:"""
    drafts.require_modeller(actor)
    row = session.get(ModelDocument, document_id, with_for_update=True)
    if row is None:
        raise NotFoundError("Dieses Dokumentationsmodell gibt es nicht (mehr).")
    audit.record(
        session,
        audit.Action.MODEL_DOCUMENT_DELETED,
        actor.username,
        details={"document": row.id, "file": row.filename, "sha256": row.sha256},
    )
    session.delete(row)
    session.flush()
