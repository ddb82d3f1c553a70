"""Deploys released by a second process owner (``[modelle] freigabe_durch_zweite_person`` in config/egs.toml).

With the setting on, "Bereitstellen" in the modeller asks for a release instead: the draft as it is then (its
lock_version), checked like a deploy, with the author's comment and the diff summary. Another process owner sees
the request on "Modelle", looks at the diff and releases it – then the draft is deployed through the normal
path – or rejects it with a reason. The author cannot release their own request, and a request whose draft
was saved since is refused as stale (``ConflictError``). Every step is audited.
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
from .deployments import DeployedProcess
from .drafts import Draft
from .errors import ConflictError, FormValidationError, NotFoundError, PermissionDeniedError, RuleViolationError
from .models import ModelDraft, ModelRelease
from .versions import LoadedVersion

REASON_MAX = 1000
OWN_RELEASE = "Wer die Freigabe beantragt hat, gibt sie nicht selbst frei: das macht eine zweite Person."
STALE = (
    "Der Entwurf wurde nach dem Antrag auf Freigabe noch geändert. Freigegeben werden kann nur, was beantragt und "
    "geprüft wurde: bitte den Antrag im Modeller neu stellen lassen."
)


@dataclass(frozen=True)
class PendingRelease:
    """A deploy waiting for (or refused by) a second process owner, as "Modelle" shows it to ``actor``."""

    id: int
    draft_id: int
    draft_name: str
    process_id: str
    draft_lock_version: int
    comment: str
    summary_text: str
    requested_by: str
    requested_at: datetime
    rejected_by: str | None
    rejected_at: datetime | None
    reject_reason: str | None
    stale: bool  # the draft was saved since the request
    may_decide: bool  # ``actor`` may release or reject it (another process owner)


def _require_deployer(actor: Actor) -> None:
    if not permissions.may_deploy(actor):
        raise PermissionDeniedError("Prozessmodelle stellt nur die Prozessverantwortung bereit.")


def request(
    session: Session,
    actor: Actor,
    draft_id: int,
    expected: int,
    comment: str,
    live: LoadedVersion | None,
    check: Callable[[Draft], None],
    summary: Callable[[Draft], Mapping[str, Any]],
) -> PendingRelease:
    """Ask for the release of the draft at ``expected`` (``check`` runs the deploy check; ``summary`` gives the
    diff against the live version). A new request of the same draft replaces the earlier one.

    :raises FormValidationError: without a comment. :raises ModelError: if the draft cannot run.
    :raises ConflictError: if the draft was saved since ``expected`` or another version went live.
    """
    _require_deployer(actor)
    draft = drafts.locked(session, actor, draft_id, expected)
    comment = drafts.deploy_comment(comment)
    drafts.check_base(session, draft, live)
    check(draft)
    diff = dict(summary(draft)) if live is not None else {}
    row = session.scalars(sa.select(ModelRelease).where(ModelRelease.draft_id == draft_id)).first()
    if row is None:
        row = ModelRelease(draft_id=draft_id, process_id=draft.process_id)
        session.add(row)
    row.draft_lock_version, row.base_version, row.comment, row.summary = expected, draft.base_version, comment, diff
    row.requested_by, row.requested_at = actor.username, clock.now()
    row.rejected_by = row.rejected_at = row.reject_reason = None
    session.flush()
    _record(session, audit.Action.MODEL_RELEASE_REQUESTED, actor, row, {"comment": comment, "diff": diff})
    return _pending(row, draft.name, expected, actor)


def pending(session: Session, actor: Actor) -> list[PendingRelease]:
    """Every open or rejected request, oldest first. :raises PermissionDeniedError:"""
    drafts.require_modeller(actor)
    rows = session.execute(
        sa.select(ModelRelease, ModelDraft.name, ModelDraft.lock_version)
        .join(ModelDraft, ModelDraft.id == ModelRelease.draft_id)
        .order_by(ModelRelease.requested_at, ModelRelease.id)
    ).all()
    return [_pending(row, name, lock_version, actor) for row, name, lock_version in rows]


def release(
    session: Session, actor: Actor, release_id: int, expected: int, deploy: Callable[[int, int, str], DeployedProcess]
) -> DeployedProcess:
    """Release the request as a second process owner: ``deploy(draft_id, lock_version, comment)`` deploys the
    draft as it was asked for. :raises PermissionDeniedError: for the author or a non-owner. :raises ConflictError:
    if the draft was saved since the request, or the request since ``expected`` (the draft lock_version shown).
    :raises RuleViolationError: if the request was rejected. :raises NotFoundError:"""
    row = _decidable(session, actor, release_id, expected)
    requested_by, draft_id, summary = row.requested_by, row.draft_id, row.summary
    result = deploy(row.draft_id, row.draft_lock_version, row.comment)
    details = {"requested_by": requested_by, "version": result.version, "created": result.created, "diff": summary}
    _record(session, audit.Action.MODEL_RELEASE_GRANTED, actor, row, details)
    session.execute(sa.delete(ModelRelease).where(ModelRelease.draft_id == draft_id))
    return result


def reject(session: Session, actor: Actor, release_id: int, expected: int, reason: str) -> None:
    """Reject the request with a reason (the draft stays; its author sees the reason on "Modelle").

    :raises FormValidationError: without a reason. :raises PermissionDeniedError: :raises ConflictError:"""
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise FormValidationError({"grund": [f"Bitte einen Grund angeben (höchstens {REASON_MAX} Zeichen)."]})
    row = _decidable(session, actor, release_id, expected, stale_ok=True)
    row.rejected_by, row.rejected_at, row.reject_reason = actor.username, clock.now(), reason
    session.flush()
    _record(session, audit.Action.MODEL_RELEASE_REJECTED, actor, row, {"requested_by": row.requested_by,
                                                                        "reason": reason})  # fmt: skip


def _decidable(
    session: Session, actor: Actor, release_id: int, expected: int, *, stale_ok: bool = False
) -> ModelRelease:
    _require_deployer(actor)
    row = session.get(ModelRelease, release_id, with_for_update=True)
    if row is None:
        raise NotFoundError("Diesen Antrag auf Freigabe gibt es nicht (mehr).")
    if not permissions.may_release_deploy(actor, row.requested_by):
        raise PermissionDeniedError(OWN_RELEASE)
    if row.rejected_at is not None:
        raise RuleViolationError(f"Dieser Antrag wurde am {row.rejected_at:%d.%m.%Y} abgelehnt.")
    draft_lock = session.scalar(sa.select(ModelDraft.lock_version).where(ModelDraft.id == row.draft_id))
    if expected != row.draft_lock_version or (draft_lock != row.draft_lock_version and not stale_ok):
        raise ConflictError(STALE, expected=row.draft_lock_version, actual=draft_lock)
    return row


def _pending(row: ModelRelease, name: str, lock_version: int, actor: Actor) -> PendingRelease:
    return PendingRelease(
        row.id, row.draft_id, name, row.process_id, row.draft_lock_version, row.comment,
        str((row.summary or {}).get("text", "")), row.requested_by, row.requested_at, row.rejected_by,
        row.rejected_at, row.reject_reason, lock_version != row.draft_lock_version,
        permissions.may_release_deploy(actor, row.requested_by),
    )  # fmt: skip


def _record(session: Session, action: audit.Action, actor: Actor, row: ModelRelease, details: dict[str, Any]) -> None:
    audit.record(session, action, actor.username, process_id=row.process_id,
                 details={"release": row.id, "draft": row.draft_id, "lock_version": row.draft_lock_version,
                          **details})  # fmt: skip
