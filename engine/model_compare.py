"""What the diff page shows: a draft or an older version of a process against its live version – both BPMN
texts for the two diagrams, the semantic diff (``model_diff``) and the form files the draft changes."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import drafts
from .auth import Actor
from .drafts import Draft
from .errors import NotFoundError
from .model_diff import ModelDiff, diff_xml
from .models import ProcessVersion
from .versions import LoadedVersion, SpecCache


@dataclass(frozen=True)
class Comparison:
    """``new`` (a draft or a version) against the live version of the same process."""

    process_id: str
    name: str
    title: str  # "Entwurf „…“" or "Version 3"
    live_version: int
    live_xml: str
    new_xml: str
    diff: ModelDiff
    form_changes: tuple[str, ...] = ()
    draft_id: int | None = None

    def audit_summary(self) -> dict[str, object]:
        return {**self.diff.audit_summary(), "formulare": list(self.form_changes), "text": self.summary_text}

    @property
    def summary_text(self) -> str:
        text = self.diff.summary_text()
        if self.form_changes:
            text += f"; Formulare: {', '.join(self.form_changes)}"
        return text


def main_text(version: LoadedVersion) -> str:
    return version.resources[version.model.filename]


def draft_against_live(draft: Draft, live: LoadedVersion, max_bytes: int) -> Comparison:
    """:raises ModelError: if the draft's text cannot be read (it was checked when saved, so only if rules grew)."""
    forms = tuple(
        f"{name} ({'neu' if name not in live.forms else 'geändert'})"
        for name, schema in sorted(draft.forms.items())
        if live.forms.get(name) != schema
    )
    return Comparison(draft.process_id, live.name, f"Entwurf „{draft.name}“", live.version, main_text(live),
                      draft.xml, diff_xml(main_text(live), draft.xml, max_bytes, draft.filename), forms,
                      draft.id)  # fmt: skip


def compare_draft(session: Session, specs: SpecCache, actor: Actor, draft_id: int, max_bytes: int) -> Comparison:
    """A draft against the live version of its process. :raises NotFoundError: :raises PermissionDeniedError:"""
    draft = drafts.get(session, actor, draft_id)
    return draft_against_live(draft, specs.latest(session, draft.process_id), max_bytes)


def compare_version(
    session: Session, specs: SpecCache, actor: Actor, process_id: str, version: int, max_bytes: int
) -> Comparison:
    """A deployed version against the live one. :raises NotFoundError: :raises PermissionDeniedError:"""
    drafts.require_modeller(actor)
    version_id = session.scalar(
        sa.select(ProcessVersion.id).where(ProcessVersion.process_id == process_id, ProcessVersion.version == version)
    )
    if version_id is None:
        raise NotFoundError("Diese Version des Prozesses gibt es nicht.")
    shown = specs.get(session, version_id)
    live = specs.latest(session, process_id)
    forms = tuple(
        f"{name} ({'nicht in der Live-Version' if name not in live.forms else 'anders'})"
        for name, schema in sorted(shown.forms.items())
        if live.forms.get(name) != schema
    )
    diff = diff_xml(main_text(live), main_text(shown), max_bytes, shown.model.filename)
    return Comparison(process_id, live.name, f"Version {shown.version}", live.version, main_text(live),
                      main_text(shown), diff, forms)  # fmt: skip
