"""Deploys released by a second process owner ([modelle] freigabe_durch_zweite_person): off by default; when on,
the author asks, another process owner releases (or rejects with a reason), never the author, never a stale one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.api import Engine
from engine.errors import ConflictError, FormValidationError, PermissionDeniedError, RuleViolationError
from engine.model_lint import ModelLintError
from tests.support import pb
from tests.support.engines import engine_with_config
from tests.support.records import audit_events
from tests.support.users import user_factory

PB = pb.PROCESS
OLD_NAME = 'name="Antrag annehmen und Identität prüfen"'
NEW_NAME = 'name="Antrag annehmen und Identität sorgfältig prüfen"'


@pytest.fixture
def four_eyes(deployed: Engine, db_url: str, tmp_path: Path) -> Iterator[Engine]:
    """The deployed engine's database with deploys released by a second process owner, and a second one."""
    with engine_with_config(db_url, tmp_path, freigabe_durch_zweite_person="true") as engine:
        user_factory(engine)("modeller2", ("MODELLER", "56.4"))
        yield engine


def changed_draft(engine: Engine) -> tuple[int, int]:
    modeller = engine.actor("modeller")
    draft = engine.create_model_draft(modeller, PB)
    saved = engine.save_model_draft(modeller, draft.id, 1, xml=draft.xml.replace(OLD_NAME, NEW_NAME))
    return draft.id, saved.lock_version


def live_version(engine: Engine) -> int:
    entry = next(e for e in engine.model_catalogue(engine.actor("modeller")) if e.process_id == PB)
    return entry.live.version


def test_by_default_the_author_deploys_at_once(deployed: Engine) -> None:
    assert deployed.deploy_needs_release is False
    draft_id, lock = changed_draft(deployed)
    assert deployed.deploy_model_draft(deployed.actor("modeller"), draft_id, lock, "Name geschärft").version == 2


def test_a_second_process_owner_releases_what_the_author_asked_for(four_eyes: Engine) -> None:
    author, second = four_eyes.actor("modeller"), four_eyes.actor("modeller2")
    assert four_eyes.deploy_needs_release is True
    draft_id, lock = changed_draft(four_eyes)
    with pytest.raises(RuleViolationError):
        four_eyes.deploy_model_draft(author, draft_id, lock, "direkt")
    asked = four_eyes.request_model_release(author, draft_id, lock, "Name geschärft")
    assert (asked.requested_by, asked.comment) == ("modeller", "Name geschärft")
    assert not asked.may_decide and not asked.stale
    assert "geändert" in asked.summary_text
    [seen] = four_eyes.model_releases(second)
    assert seen.may_decide and seen.draft_id == draft_id and seen.draft_lock_version == lock
    assert live_version(four_eyes) == 1, "nothing is live before the release"
    with pytest.raises(PermissionDeniedError):
        four_eyes.release_model(author, asked.id, lock)
    [refusal] = audit_events(four_eyes, action="access_denied", actor="modeller")
    assert refusal.details["operation"] == "release_model"
    result = four_eyes.release_model(second, asked.id, lock)
    assert result.created and result.version == 2 and live_version(four_eyes) == 2
    assert four_eyes.model_releases(second) == []
    version = next(e for e in four_eyes.model_catalogue(second) if e.process_id == PB).live
    assert (version.deployed_by, version.comment) == ("modeller2", "Name geschärft")
    [requested] = audit_events(four_eyes, action="model_release_requested")
    [granted] = audit_events(four_eyes, action="model_release_granted")
    assert requested.actor == "modeller" and requested.details["comment"] == "Name geschärft"
    assert requested.details["diff"]["text"] == granted.details["diff"]["text"] != ""
    assert granted.actor == "modeller2" and granted.details["requested_by"] == "modeller"
    assert granted.details["version"] == 2


def test_a_request_whose_draft_changed_since_is_refused_as_stale(four_eyes: Engine) -> None:
    author, second = four_eyes.actor("modeller"), four_eyes.actor("modeller2")
    draft_id, lock = changed_draft(four_eyes)
    asked = four_eyes.request_model_release(author, draft_id, lock, "Name geschärft")
    draft = four_eyes.model_draft(author, draft_id)
    four_eyes.save_model_draft(author, draft_id, lock, xml=draft.xml.replace(NEW_NAME, 'name="Etwas anderes"'))
    [seen] = four_eyes.model_releases(second)
    assert seen.stale
    with pytest.raises(ConflictError):
        four_eyes.release_model(second, asked.id, lock)
    assert live_version(four_eyes) == 1
    assert audit_events(four_eyes, action="conflict")[-1].details["operation"] == "release_model"
    with pytest.raises(ConflictError):
        four_eyes.release_model(second, asked.id, lock - 1)


def test_a_rejection_needs_a_reason_and_keeps_the_draft(four_eyes: Engine) -> None:
    author, second = four_eyes.actor("modeller"), four_eyes.actor("modeller2")
    draft_id, lock = changed_draft(four_eyes)
    asked = four_eyes.request_model_release(author, draft_id, lock, "Name geschärft")
    with pytest.raises(FormValidationError):
        four_eyes.reject_model_release(second, asked.id, lock, "  ")
    with pytest.raises(PermissionDeniedError):
        four_eyes.reject_model_release(author, asked.id, lock, "selbst")
    four_eyes.reject_model_release(second, asked.id, lock, "Bitte erst mit der TL abstimmen.")
    [seen] = four_eyes.model_releases(author)
    assert (seen.rejected_by, seen.reject_reason) == ("modeller2", "Bitte erst mit der TL abstimmen.")
    with pytest.raises(RuleViolationError):
        four_eyes.release_model(second, asked.id, lock)
    assert four_eyes.model_draft(author, draft_id).lock_version == lock
    assert audit_events(four_eyes, action="model_release_rejected")[0].details["reason"].startswith("Bitte erst")
    again = four_eyes.request_model_release(author, draft_id, lock, "abgestimmt")
    assert again.id == asked.id and again.rejected_by is None, "asking again replaces the rejected request"
    assert four_eyes.release_model(second, again.id, lock).version == 2


def test_a_request_is_checked_like_a_deploy(four_eyes: Engine) -> None:
    author = four_eyes.actor("modeller")
    draft = four_eyes.create_model_draft(author, PB)
    role = '<spiffworkflow:property name="egsRole" value="Durchführender" />'
    saved = four_eyes.save_model_draft(author, draft.id, 1, xml=draft.xml.replace(role, "", 1))
    with pytest.raises(ModelLintError):
        four_eyes.request_model_release(author, draft.id, saved.lock_version, "kaputt")
    with pytest.raises(FormValidationError):
        four_eyes.request_model_release(author, draft.id, saved.lock_version, " ")
    assert four_eyes.model_releases(author) == []


@pytest.mark.parametrize("username", ["egs", "tl", "audit"])
def test_only_process_owners_ask_see_and_release(four_eyes: Engine, username: str) -> None:
    draft_id, lock = changed_draft(four_eyes)
    asked = four_eyes.request_model_release(four_eyes.actor("modeller"), draft_id, lock, "x")
    other = four_eyes.actor(username)
    for call in (
        lambda: four_eyes.request_model_release(other, draft_id, lock, "x"),
        lambda: four_eyes.model_releases(other),
        lambda: four_eyes.release_model(other, asked.id, lock),
        lambda: four_eyes.reject_model_release(other, asked.id, lock, "nein"),
    ):
        with pytest.raises(PermissionDeniedError):
            call()
    assert live_version(four_eyes) == 1
