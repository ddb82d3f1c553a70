"""Walking PB Antragsannahme through the engine API: paths, locking, permissions and validation."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from engine import clock
from engine.api import Engine
from engine.auth import system_actor
from engine.errors import ConflictError, FormValidationError, NotFoundError, PermissionDeniedError
from engine.models import AuditEvent, HumanTask, ProcessInstance
from tests.support import pb


def audit_actions(engine: Engine, instance_id: int) -> list[tuple[str, str]]:
    with engine.db.reading() as session:
        rows = session.execute(
            sa.select(AuditEvent.action, AuditEvent.actor)
            .where(AuditEvent.instance_id == instance_id)
            .order_by(AuditEvent.id)
        ).all()
    return [(action, actor) for action, actor in rows]


def test_walk_from_registration_to_hand_over(deployed: Engine) -> None:
    egs, tl, lsb = deployed.actor("egs"), deployed.actor("tl"), deployed.actor("lsb")
    case = deployed.start_case(egs, pb.PROCESS, site="56.4")
    assert case.status == "running" and case.lock_version == 1
    assert case.business_key and case.business_key.startswith("VG-")

    pb.walk_to_completeness_check(deployed, egs, case.instance_id)
    pb.step(deployed, egs, case.instance_id, pb.VOLLSTAENDIGKEIT_PRUEFEN, pb.VOLLSTAENDIG)
    pb.step(deployed, egs, case.instance_id, pb.TERMINE_DOKUMENTIEREN, pb.termine())
    assert [t.name for t in deployed.inbox(egs) if t.instance_id == case.instance_id] == []
    pb.step(deployed, tl, case.instance_id, pb.VERTEILEN, pb.VERTEILUNG)
    done = pb.step(deployed, lsb, case.instance_id, pb.UEBERNEHMEN, pb.UEBERNAHME)

    assert done.status == "completed"
    assert done.applicant_name == "Probstfeld, Jana"
    assert done.claim_date == clock.today_berlin()
    assert done.lock_version == 11
    view = deployed.case_view(egs, case.instance_id)
    assert view.open_tasks == []
    assert view.data["lsb_team"] == "team_a" and view.data["identitaet_geprueft"] is True
    steps = [(h.action, h.actor, h.task_name) for h in view.history]
    assert steps == [
        ("start", "egs", None),
        ("complete", "egs", pb.ANMELDEN),
        ("complete", "egs", pb.ANNEHMEN),
        ("complete", "egs", pb.BG_ERFASSEN),
        ("complete", "egs", pb.VORRANG_HINWEISEN),
        ("complete", "egs", pb.NEU_ANLEGEN),
        ("complete", "egs", pb.PAPIERAKTE_ANLEGEN),
        ("complete", "egs", pb.VOLLSTAENDIGKEIT_PRUEFEN),
        ("complete", "egs", pb.TERMINE_DOKUMENTIEREN),
        ("complete", "tl", pb.VERTEILEN),
        ("complete", "lsb", pb.UEBERNEHMEN),
    ]


def test_missing_documents_are_requested_and_rechecked(deployed: Engine) -> None:
    egs, tl, lsb = deployed.actor("egs"), deployed.actor("tl"), deployed.actor("lsb")
    case = deployed.start_case(egs, pb.PROCESS)
    pb.walk_to_documents_requested(deployed, egs, case.instance_id, frist_tage=14)
    waiting = pb.open_task(deployed, egs, case.instance_id)
    assert waiting.name == pb.EINGANG_ERFASSEN
    assert waiting.due_at is not None
    # The deadline is the end of the 14th day after the request was sent (the timer fires at 0:00 of the next day).
    end_of_deadline = clock.parse_iso(f"{clock.today_berlin() + timedelta(days=15)}T00:00:00+01:00")
    assert abs((waiting.due_at - end_of_deadline).total_seconds()) < 1
    pb.step(deployed, egs, case.instance_id, pb.EINGANG_ERFASSEN, pb.eingang())
    pb.step(deployed, egs, case.instance_id, pb.VOLLSTAENDIGKEIT_PRUEFEN, pb.VOLLSTAENDIG)
    pb.step(deployed, egs, case.instance_id, pb.TERMINE_DOKUMENTIEREN, pb.termine())
    pb.step(deployed, tl, case.instance_id, pb.VERTEILEN, pb.VERTEILUNG)
    done = pb.step(deployed, lsb, case.instance_id, pb.UEBERNEHMEN, pb.UEBERNAHME)
    assert done.status == "completed"
    assert done.next_timer_at is None, "the deadline ended with the documents"


def test_stale_lock_version_conflicts_and_changes_nothing(deployed: Engine) -> None:
    egs = deployed.actor("egs")
    case = deployed.start_case(egs, pb.PROCESS)
    task = pb.open_task(deployed, egs, case.instance_id)
    deployed.complete_task(egs, task.task_uuid, pb.anmeldung(), expected_lock_version=1)

    second = pb.open_task(deployed, egs, case.instance_id)
    with pytest.raises(ConflictError):
        deployed.complete_task(egs, second.task_uuid, pb.ANTRAGSANNAHME, expected_lock_version=1)
    with pytest.raises(ConflictError, match="nicht mehr offen"):
        deployed.complete_task(egs, task.task_uuid, pb.anmeldung(), expected_lock_version=2)

    with deployed.db.reading() as session:
        assert session.get(ProcessInstance, case.instance_id).lock_version == 2  # type: ignore[union-attr]
    assert pb.open_task(deployed, egs, case.instance_id).task_uuid == second.task_uuid
    assert [a for a, _ in audit_actions(deployed, case.instance_id)].count("conflict") == 2


def test_two_concurrent_completions_exactly_one_wins(deployed: Engine) -> None:
    egs = deployed.actor("egs")
    case = deployed.start_case(egs, pb.PROCESS)
    task = pb.open_task(deployed, egs, case.instance_id)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def complete(first_name: str) -> None:
        barrier.wait()
        try:
            deployed.complete_task(egs, task.task_uuid, pb.anmeldung(vorname=first_name), expected_lock_version=1)
            outcomes.append("ok")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=complete, args=(name,)) for name in ("Anna", "Berta")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    view = deployed.case_view(egs, case.instance_id)
    assert view.header.lock_version == 2
    assert [h.action for h in view.history].count("complete") == 1
    assert view.data["vorname"] in ("Anna", "Berta")


def test_claim_is_atomic(deployed: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    egs = deployed.actor("egs")
    colleague = make_user("egs2", ("EGS", "56.4"))
    case = deployed.start_case(egs, pb.PROCESS)
    task = pb.open_task(deployed, egs, case.instance_id)
    barrier = threading.Barrier(2)
    winners: list[str] = []

    def claim(actor) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        try:
            deployed.claim(actor, task.task_uuid)
            winners.append(actor.username)
        except ConflictError:
            pass

    threads = [threading.Thread(target=claim, args=(a,)) for a in (egs, colleague)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
    loser = colleague if winners == ["egs"] else egs
    assert pb.open_task(deployed, loser, case.instance_id).assignee == winners[0]
    with pytest.raises(ConflictError, match="übernommen"):
        deployed.complete_task(loser, task.task_uuid, pb.anmeldung())
    winner = egs if loser is colleague else colleague
    deployed.unclaim(winner, task.task_uuid)
    deployed.claim(loser, task.task_uuid)
    assert pb.open_task(deployed, winner, case.instance_id).assignee == loser.username


def test_invalid_form_data_stores_nothing(deployed: Engine) -> None:
    egs = deployed.actor("egs")
    case = deployed.start_case(egs, pb.PROCESS)
    task = pb.open_task(deployed, egs, case.instance_id)
    bad = pb.anmeldung(vorname="", anliegen="urlaub", tag_der_antragstellung="2999-01-01", hobby="Segeln")
    with pytest.raises(FormValidationError) as caught:
        deployed.complete_task(egs, task.task_uuid, bad)
    errors = caught.value.field_errors
    assert errors["vorname"] == ["Pflichtfeld – bitte ausfüllen."]
    assert errors["anliegen"] == ["Bitte einen der vorgegebenen Werte wählen."]
    assert errors["tag_der_antragstellung"] == ["Das Datum darf nicht in der Zukunft liegen."]
    assert errors["hobby"] == ["Unbekanntes Feld."]
    with deployed.db.reading() as session:
        assert session.get(ProcessInstance, case.instance_id).lock_version == 1  # type: ignore[union-attr]
    assert pb.open_task(deployed, egs, case.instance_id).task_uuid == task.task_uuid
    assert [a for a, _ in audit_actions(deployed, case.instance_id)] == ["start"]


def test_tag_der_antragstellung_cannot_be_changed_later(deployed: Engine) -> None:
    egs = deployed.actor("egs")
    case = deployed.start_case(egs, pb.PROCESS)
    with clock.frozen(clock.parse_iso("2025-03-03T09:00:00+01:00")):
        pb.step(deployed, egs, case.instance_id, pb.ANMELDEN, pb.anmeldung())
    task = pb.open_task(deployed, egs, case.instance_id)
    view = deployed.task_view(egs, task.task_uuid)
    assert view.data["tag_der_antragstellung"] == "2025-03-03"
    assert view.header.claim_date == date(2025, 3, 3)


def test_other_group_cannot_see_or_complete_and_is_logged(deployed: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    egs, lsb = deployed.actor("egs"), deployed.actor("lsb")
    other_site = make_user("egs_goe", ("EGS", "56.5"))
    case = deployed.start_case(egs, pb.PROCESS, site="56.4")
    task = pb.open_task(deployed, egs, case.instance_id)
    assert [t for t in deployed.inbox(lsb) if t.instance_id == case.instance_id] == []
    assert [t for t in deployed.inbox(other_site) if t.instance_id == case.instance_id] == []
    for intruder in (lsb, other_site):
        with pytest.raises(PermissionDeniedError):
            deployed.task_view(intruder, task.task_uuid)
        with pytest.raises(PermissionDeniedError):
            deployed.complete_task(intruder, task.task_uuid, pb.anmeldung())
    with pytest.raises(PermissionDeniedError):
        deployed.case_view(other_site, case.instance_id)
    denied = [actor for action, actor in audit_actions(deployed, case.instance_id) if action == "access_denied"]
    assert denied == ["lsb", "lsb", "egs_goe", "egs_goe", "egs_goe"]
    assert pb.open_task(deployed, egs, case.instance_id).task_uuid == task.task_uuid


def test_start_requires_the_start_lane_at_that_site(deployed: Engine) -> None:
    with pytest.raises(PermissionDeniedError):
        deployed.start_case(deployed.actor("lsb"), pb.PROCESS, site="56.4")
    with pytest.raises(PermissionDeniedError):
        deployed.start_case(deployed.actor("egs"), pb.PROCESS, site="56.7")
    with pytest.raises(NotFoundError):
        deployed.start_case(deployed.actor("egs"), "gibt_es_nicht")
    with deployed.db.reading() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ProcessInstance)) == 0


def test_business_key_length_is_checked(deployed: Engine) -> None:
    with pytest.raises(FormValidationError) as caught:
        deployed.start_case(deployed.actor("egs"), pb.PROCESS, business_key="x" * 65)
    assert caught.value.field_errors == {"business_key": ["Das Geschäftszeichen muss 1 bis 64 Zeichen lang sein."]}
    with deployed.db.reading() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ProcessInstance)) == 0


def test_open_tasks_lists_only_what_the_actor_may_work(deployed: Engine) -> None:
    egs = deployed.actor("egs")
    case = deployed.start_case(egs, pb.PROCESS)
    [task] = deployed.open_tasks(egs, case.instance_id)
    assert (task.name, task.process_name) == (
        "Besucher anmelden und Anliegen erfassen",
        "PB – Antragsannahme (Erstantrag und sonstige Anträge)",
    )
    assert deployed.open_tasks(deployed.actor("lsb"), case.instance_id) == []


def test_unknown_task_is_not_found(deployed: Engine) -> None:
    with pytest.raises(NotFoundError):
        deployed.task_view(deployed.actor("egs"), "00000000-0000-4000-8000-000000000000")


def test_inbox_rows_follow_the_case(deployed: Engine) -> None:
    egs, tl = deployed.actor("egs"), deployed.actor("tl")
    case = deployed.start_case(egs, pb.PROCESS, business_key="07402//0094744")
    pb.step(deployed, egs, case.instance_id, pb.ANMELDEN, pb.anmeldung())
    row = pb.open_task(deployed, egs, case.instance_id)
    assert (row.business_key, row.applicant_name, row.site, row.lane) == (
        "07402//0094744",
        "Probstfeld, Jana",
        "56.4",
        "EGS",
    )
    assert row.egs_role == "Durchführender"
    pb.step(deployed, egs, case.instance_id, pb.ANNEHMEN, pb.ANTRAGSANNAHME)
    pb.step(deployed, egs, case.instance_id, pb.BG_ERFASSEN, pb.BEDARFSGEMEINSCHAFT)
    pb.step(deployed, egs, case.instance_id, pb.VORRANG_HINWEISEN, pb.vorrang())
    pb.step(deployed, egs, case.instance_id, pb.NEU_ANLEGEN, pb.neuanlage())
    pb.step(deployed, egs, case.instance_id, pb.PAPIERAKTE_ANLEGEN, pb.papierakte())
    pb.step(deployed, egs, case.instance_id, pb.VOLLSTAENDIGKEIT_PRUEFEN, pb.VOLLSTAENDIG)
    pb.step(deployed, egs, case.instance_id, pb.TERMINE_DOKUMENTIEREN, pb.termine())
    tl_row = pb.open_task(deployed, tl, case.instance_id)
    assert (tl_row.lane, tl_row.egs_role) == ("TL", "Mitwirkender")
    with deployed.db.reading() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(HumanTask)) == 1


def test_running_case_stays_on_its_version(deployed: Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.support.engines import FORMS, PROCESSES

    egs = deployed.actor("egs")
    old = deployed.start_case(egs, pb.PROCESS)
    changed = (PROCESSES / "pb_antragsannahme.bpmn").read_text(encoding="utf-8")
    changed = changed.replace('name="Vollständigkeit prüfen"', 'name="Unterlagen auf Vollständigkeit prüfen"')
    (tmp_path / "pb_antragsannahme.bpmn").write_text(changed, encoding="utf-8")
    for decision in PROCESSES.glob("umstellung*.dmn"):  # the decision tables PB calls
        (tmp_path / decision.name).write_bytes(decision.read_bytes())
    [result] = deployed.deploy_paths([tmp_path], system_actor("test"), FORMS)
    assert (result.version, result.created) == (2, True)
    new = deployed.start_case(egs, pb.PROCESS)
    assert (old.version, new.version) == (1, 2)
    for case in (old, new):
        pb.walk_to_completeness_check(deployed, egs, case.instance_id)
    assert pb.open_task(deployed, egs, old.instance_id).name == "Vollständigkeit prüfen"
    assert pb.open_task(deployed, egs, new.instance_id).name == "Unterlagen auf Vollständigkeit prüfen"


def test_stopping_a_case_goes_through_the_lock_version_like_every_write(deployed: Engine) -> None:
    """mark_error writes the case row only if nobody changed it since it was read (and bumps the version)."""
    case = deployed.start_case(deployed.actor("egs"), pb.PROCESS)
    with deployed.db.transaction() as session:
        row = session.get(ProcessInstance, case.instance_id)
        assert row is not None
        with pytest.raises(ConflictError):
            deployed.runtime.mark_error(session, row, row.lock_version - 1, "veraltet")
        deployed.runtime.mark_error(session, row, row.lock_version, "Skript fehlgeschlagen")
    stopped = deployed.case_view(deployed.actor("egs"), case.instance_id).header
    assert (stopped.status, stopped.error_message) == ("error", "Skript fehlgeschlagen")
    assert stopped.lock_version == case.lock_version + 1
