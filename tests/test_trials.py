"""Probelauf: trial cases of a draft run in the jail, are worked as any lane, never reach a listing of real
cases, and can be thrown away (audited)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from engine import trials
from engine.api import Engine
from engine.auth import system_actor
from engine.demo import DEMO_USERS
from engine.errors import ConflictError, FormValidationError, NotFoundError, PermissionDeniedError
from engine.inbox import InboxQuery
from engine.model_lint import ModelLintError
from engine.models import CashEntry, CashRegister, HumanTask, PaymentListEntry, ProcessInstance, TrialCase
from tests.support import pb
from tests.support.engines import DATA
from tests.support.records import audit_events
from tests.support.users import user_factory

PB = pb.PROCESS
TABS = ("meine", "gruppe", "ueberfaellig", "alle")
WITNESS = "Probelaufzeugin"  # the applicant's name in the trial: no listing may ever show it
ANMELDUNG = {
    "vorname": ["Jana"],
    "nachname": [WITNESS],
    "geburtsdatum": ["12.04.1988"],
    "anliegen": ["erstantrag"],
    "tag_der_antragstellung": ["01.12.2026"],
}


def counts(engine: Engine) -> tuple[int, int, int]:
    with engine.db.reading() as session:
        return (
            session.scalar(sa.select(sa.func.count()).select_from(ProcessInstance)) or 0,
            session.scalar(sa.select(sa.func.count()).select_from(HumanTask)) or 0,
            session.scalar(sa.select(sa.func.count()).select_from(TrialCase)) or 0,
        )


def test_a_trial_runs_the_draft_as_any_lane_and_is_thrown_away(deployed: Engine) -> None:
    modeller = deployed.actor("modeller")
    draft = deployed.create_model_draft(modeller, PB)
    renamed = draft.xml.replace(f'name="{pb.ANMELDEN}"', 'name="Besucher im Probelauf anmelden"')
    deployed.save_model_draft(modeller, draft.id, draft.lock_version, xml=renamed)
    before = counts(deployed)

    trial = deployed.start_trial(modeller, draft.id, "56.4")
    assert [(t.name, t.lane) for t in trial.tasks] == [("Besucher im Probelauf anmelden", "EGS")], "the draft runs"
    assert trial.data["vorgangsnummer"] == f"PROBE-{trial.id}" and trial.lock_version == 1
    task = trial.tasks[0]
    view = deployed.trial_task(modeller, trial.id, task.task_uuid)
    assert "nachname" in [f.name for f in view.fields], "the task's form, as the task page shows it"

    with pytest.raises(FormValidationError) as invalid:
        deployed.submit_trial_form(modeller, trial.id, task.task_uuid, {"nachname": [""]}, trial.lock_version)
    assert "vorname" in invalid.value.field_errors, "checked by the same form rules as a real task"
    stepped = deployed.submit_trial_form(modeller, trial.id, task.task_uuid, ANMELDUNG, trial.lock_version)
    assert stepped.data["nachname"] == WITNESS and stepped.lock_version == 2
    assert pb.ANNEHMEN in [t.name for t in stepped.tasks]
    assert any("erledigt (als EGS)" in entry.text for entry in stepped.journal)
    with pytest.raises(ConflictError):  # the page the first step was done from is stale now
        deployed.submit_trial_form(modeller, trial.id, stepped.tasks[0].task_uuid, {}, trial.lock_version)
    with pytest.raises(ConflictError):  # that task is done
        deployed.submit_trial_form(modeller, trial.id, task.task_uuid, ANMELDUNG, stepped.lock_version)

    assert counts(deployed)[:2] == before[:2], "no case and no inbox row was created"
    deployed.discard_trial(modeller, trial.id)
    with pytest.raises(NotFoundError):
        deployed.trial(modeller, trial.id)
    assert counts(deployed) == before, "the trial is gone with its tasks"
    events = [e for e in audit_events(deployed, actor="modeller") if e.action.startswith("trial_")]
    assert [(e.action, e.instance_id, e.details["trial"]) for e in events] == [
        ("trial_started", None, trial.id),
        ("trial_step", None, trial.id),
        ("trial_discarded", None, trial.id),
    ]
    assert all(WITNESS not in str(e.details) for e in events), "the trail names steps, not the values entered"


def test_no_listing_shows_a_trial_to_any_role(deployed: Engine) -> None:
    modeller = deployed.actor("modeller")
    draft = deployed.create_model_draft(modeller, PB)
    trial = deployed.start_trial(modeller, draft.id, "56.4")
    deployed.submit_trial_form(modeller, trial.id, trial.tasks[0].task_uuid, ANMELDUNG, trial.lock_version)
    key = f"PROBE-{trial.id}"
    for username, _, _ in DEMO_USERS:
        actor = deployed.actor(username)
        shown = [deployed.inbox_page(actor, InboxQuery(tab=tab, search=None)) for tab in TABS]
        texts = str(shown) + str(deployed.inbox(actor)) + str(deployed.search_cases(actor, WITNESS))
        texts += str(deployed.search_cases(actor, key)) + str(deployed.cases_with_key(actor, key))
        texts += str(deployed.incidents(actor))
        assert WITNESS not in texts and key not in texts, username
    figures = str(deployed.metrics()) + str(deployed.staffing())
    assert WITNESS not in figures and key not in figures
    with deployed.db.reading() as session:
        assert session.scalar(sa.select(sa.func.count()).where(ProcessInstance.business_key == key)) == 0
        assert session.scalar(sa.select(sa.func.count()).where(HumanTask.applicant_name == WITNESS)) == 0


@pytest.mark.parametrize("group", ["EGS", "LSB", "IFK", "TL", "FDL", "FB50", "AUDIT", "ADMIN"])
def test_only_process_owners_run_trials(deployed: Engine, group: str) -> None:
    modeller = deployed.actor("modeller")
    draft = deployed.create_model_draft(modeller, PB)
    trial = deployed.start_trial(modeller, draft.id, "56.4")
    other = user_factory(deployed)(f"nicht{group.lower()}", (group, "*"))
    for attempt in (
        lambda: deployed.start_trial(other, draft.id, "56.4"),
        lambda: deployed.trial(other, trial.id),
        lambda: deployed.trial_task(other, trial.id, trial.tasks[0].task_uuid),
        lambda: deployed.submit_trial_form(other, trial.id, trial.tasks[0].task_uuid, ANMELDUNG, 1),
        lambda: deployed.discard_trial(other, trial.id),
        lambda: deployed.trials_of_draft(other, draft.id),
    ):
        with pytest.raises(PermissionDeniedError):
            attempt()
    assert deployed.trial(modeller, trial.id).lock_version == 1


def test_a_draft_that_cannot_run_starts_no_trial(deployed: Engine) -> None:
    modeller = deployed.actor("modeller")
    draft = deployed.create_model_draft(modeller, PB)
    broken = draft.xml.replace('value="Durchführender"', 'value="Chef"', 1)
    assert broken != draft.xml
    deployed.save_model_draft(modeller, draft.id, draft.lock_version, xml=broken)
    before = counts(deployed)
    with pytest.raises(ModelLintError):
        deployed.start_trial(modeller, draft.id, "56.4")
    assert counts(deployed) == before
    with pytest.raises(NotFoundError):
        deployed.start_trial(modeller, draft.id, "99.9")


def test_deleting_or_deploying_a_draft_throws_its_trials_away(deployed: Engine) -> None:
    modeller = deployed.actor("modeller")
    draft = deployed.create_model_draft(modeller, PB)
    first = deployed.start_trial(modeller, draft.id, "56.4")
    deployed.delete_model_draft(modeller, draft.id, draft.lock_version)
    with pytest.raises(NotFoundError):
        deployed.trial(modeller, first.id)
    other = deployed.create_model_draft(modeller, PB)
    changed = other.xml.replace(f'name="{pb.ANMELDEN}"', 'name="Besucher anmelden (neu)"')
    saved = deployed.save_model_draft(modeller, other.id, other.lock_version, xml=changed)
    second = deployed.start_trial(modeller, other.id, "56.4")
    deployed.deploy_model_draft(modeller, other.id, saved.lock_version, "Neuer Name")
    with pytest.raises(NotFoundError):
        deployed.trial(modeller, second.id)
    gone = [e.details for e in audit_events(deployed, action="trial_discarded")]
    assert [(d["trial"], d.get("with_draft")) for d in gone] == [(first.id, True), (second.id, True)]


def test_too_many_trials_of_one_draft_are_refused(deployed: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trials, "MAX_TRIALS_PER_DRAFT", 2)
    modeller = deployed.actor("modeller")
    draft = deployed.create_model_draft(modeller, PB)
    deployed.start_trial(modeller, draft.id, "56.4")
    deployed.start_trial(modeller, draft.id, "56.5")
    with pytest.raises(Exception, match="höchstens 2 Probeläufe"):
        deployed.start_trial(modeller, draft.id, "56.4")
    assert len(deployed.trials_of_draft(modeller, draft.id)) == 2


def test_service_operations_of_a_trial_are_named_not_run(engine: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    engine.deploy_paths([DATA], system_actor("test"), DATA / "forms")
    owner = make_user("prozessinhaberin", ("MODELLER", "*"))
    draft = engine.create_model_draft(owner, "test_services")
    forms = {name: json.loads((DATA / "forms" / name).read_text()) for name in ("test_buchung.json", "test_leer.json")}
    engine.save_model_draft(owner, draft.id, draft.lock_version, forms=forms)
    money = (PaymentListEntry, CashEntry, CashRegister)
    with engine.db.reading() as session:
        before = [session.scalar(sa.select(sa.func.count()).select_from(table)) for table in money]
    for values in (
        {"aktion": ["liste"], "art": ["EGZ"], "zweck": ["Frau Probe"], "betrag": ["100"], "verwalter": ["2025-05"]},
        {"aktion": ["buchen"], "art": ["auszahlung"], "betrag": ["5000"], "zweck": ["mehr als in der Kasse"]},
    ):
        trial = engine.start_trial(owner, draft.id, "56.4")
        done = engine.submit_trial_form(owner, trial.id, trial.tasks[0].task_uuid, values, trial.lock_version)
        assert [t.name for t in done.tasks] == ["Ergebnis ansehen"]
        operation = "sammelliste.eintragen" if values["aktion"] == ["liste"] else "handvorschuss.buchen"
        assert f"Service-Operation „{operation}“ aufgerufen (im Probelauf nicht ausgeführt)" in [
            e.text for e in done.journal
        ]
    with engine.db.reading() as session:
        assert [session.scalar(sa.select(sa.func.count()).select_from(table)) for table in money] == before
