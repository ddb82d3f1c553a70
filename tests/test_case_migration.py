"""Moving running cases between versions of a process: dry run, confirmed mappings, one transaction per case."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import clock
from engine.api import Engine
from engine.auth import Actor
from engine.case_migration import CaseCheck, MigrationPlan
from engine.errors import ConflictError, PermissionDeniedError, RuleViolationError
from tests.support import migration_models as mm
from tests.support import pb
from tests.support.records import audit_events, case_events, case_row
from tests.support.users import UserFactory

A = ("Task_A", "Antrag erfassen")
B = ("Task_B", "Antrag prüfen")
C = ("Task_C", "Bescheid vorbereiten")
NEU = ("Task_Neu", "Unterlagen sichten")


@pytest.fixture
def owner(make_user: UserFactory) -> Actor:
    return make_user("prozess", ("MODELLER", "*"))


@pytest.fixture
def clerk(make_user: UserFactory) -> Actor:
    return make_user("sachb", ("EGS", "56.4"))


def _only(
    engine: Engine, owner: Actor, pid: str, source: int = 1, target: int = 2, **mappings: dict[str, str]
) -> tuple[MigrationPlan, CaseCheck]:
    plan = engine.migration_dry_run(owner, pid, source, target, {int(k): v for k, v in mappings.items()})
    (check,) = plan.cases
    return plan, check


def test_umbenannte_aufgabe_braucht_zuordnung_und_zieht_mit_daten(engine: Engine, owner: Actor, clerk: Actor) -> None:
    mm.deploy(engine, "mig_umbenannt", mm.model("mig_umbenannt", [A, B]))
    case = engine.start_case(clerk, "mig_umbenannt", site=mm.SITE, data={"notiz": "bleibt"}).instance_id
    mm.complete(engine, clerk, case)
    before = mm.open_task(engine, case)
    mm.deploy(engine, "mig_umbenannt", mm.model("mig_umbenannt", [A, ("Task_B2", "Antrag gründlich prüfen")]))

    plan, check = _only(engine, owner, "mig_umbenannt")
    assert check.status_label == "braucht eine Zuordnung"
    (need,) = check.needs
    assert (need.task, need.name, need.suggestion) == ("Task_B", "Antrag prüfen", "Task_B2")
    assert ("Task_B2", "Antrag gründlich prüfen") in plan.choices

    with pytest.raises(RuleViolationError, match="Zuordnung"):  # never on the unconfirmed guess
        engine.migrate_case(owner, case, 2, check.lock_version, {})
    assert case_row(engine, case).lock_version == check.lock_version

    _, confirmed = _only(engine, owner, "mig_umbenannt", **{str(case): {"Task_B": "Task_B2"}})
    assert confirmed.status_label == "kann umziehen"
    outcome = engine.migrate_case(owner, case, 2, check.lock_version, {"Task_B": "Task_B2"})
    assert outcome.moved
    after = mm.open_task(engine, case)
    assert after.task_uuid == before.task_uuid
    assert (after.task_spec_id, after.name, after.process_name) == ("Task_B2", "Antrag gründlich prüfen",
                                                                     "Test: mig_umbenannt")  # fmt: skip
    assert mm.case_data(engine, case)["notiz"] == "bleibt"
    row = case_row(engine, case)
    assert (row.version_id != before.id, row.lock_version) == (True, check.lock_version + 1)
    (event,) = case_events(engine, case, "case_migrated")
    assert event["from_version"] == 1 and event["to_version"] == 2 and event["mapping"] == {"Task_B": "Task_B2"}
    mm.complete(engine, clerk, case)
    assert case_row(engine, case).status == "completed"


def test_entfernte_offene_aufgabe_braucht_zuordnung(engine: Engine, owner: Actor, clerk: Actor) -> None:
    mm.deploy(engine, "mig_weg", mm.model("mig_weg", [A, B, C]))
    case = mm.start(engine, clerk, "mig_weg")
    mm.complete(engine, clerk, case)
    mm.deploy(engine, "mig_weg", mm.model("mig_weg", [A, C]))

    _, check = _only(engine, owner, "mig_weg")
    assert check.status_label == "braucht eine Zuordnung"
    assert [need.task for need in check.needs] == ["Task_B"]
    (outcome,) = engine.migrate_cases(owner, 2, [(case, check.lock_version, {})])
    assert not outcome.moved and "Antrag prüfen" in outcome.message
    assert case_row(engine, case).lock_version == check.lock_version  # untouched

    (outcome,) = engine.migrate_cases(owner, 2, [(case, check.lock_version, {"Task_B": "Task_C"})])
    assert outcome.moved
    assert mm.open_task(engine, case).task_spec_id == "Task_C"
    mm.complete(engine, clerk, case)
    assert case_row(engine, case).status == "completed"


def test_entfernte_erledigte_aufgabe_kann_nicht_umziehen(engine: Engine, owner: Actor, clerk: Actor) -> None:
    mm.deploy(engine, "mig_erledigt", mm.model("mig_erledigt", [A, B]))
    case = mm.start(engine, clerk, "mig_erledigt")
    mm.complete(engine, clerk, case)
    mm.deploy(engine, "mig_erledigt", mm.model("mig_erledigt", [B]))

    _, check = _only(engine, owner, "mig_erledigt")
    assert check.status_label == "kann nicht umziehen"
    assert check.reasons == ("Der erledigte Schritt „Antrag erfassen“ fehlt in Version 2.",)
    with pytest.raises(RuleViolationError, match="erledigte Schritt"):
        engine.migrate_case(owner, case, 2, check.lock_version, {})
    assert case_row(engine, case).lock_version == check.lock_version


def test_aufgabe_vor_der_offenen_wird_uebersprungen(engine: Engine, owner: Actor, clerk: Actor) -> None:
    mm.deploy(engine, "mig_davor", mm.model("mig_davor", [A, B]))
    case = mm.start(engine, clerk, "mig_davor")
    mm.complete(engine, clerk, case)
    open_before = mm.open_task(engine, case)
    mm.deploy(engine, "mig_davor", mm.model("mig_davor", [A, NEU, B]))

    _, check = _only(engine, owner, "mig_davor")
    assert (check.status_label, check.open_tasks) == ("kann umziehen", ("Antrag prüfen",))
    assert engine.migrate_case(owner, case, 2, check.lock_version, {}).moved
    assert mm.open_task(engine, case).task_uuid == open_before.task_uuid
    mm.complete(engine, clerk, case)
    assert case_row(engine, case).status == "completed"  # the new task upstream is skipped


def test_aufgabe_nach_der_offenen_wird_spaeter_erreicht(engine: Engine, owner: Actor, clerk: Actor) -> None:
    mm.deploy(engine, "mig_danach", mm.model("mig_danach", [A, B]))
    case = mm.start(engine, clerk, "mig_danach")
    mm.deploy(engine, "mig_danach", mm.model("mig_danach", [A, B, NEU]))

    _, check = _only(engine, owner, "mig_danach")
    assert check.status_label == "kann umziehen"
    assert engine.migrate_case(owner, case, 2, check.lock_version, {}).moved
    mm.complete(engine, clerk, case)
    mm.complete(engine, clerk, case)
    assert mm.open_task(engine, case).task_spec_id == "Task_Neu"
    mm.complete(engine, clerk, case)
    assert case_row(engine, case).status == "completed"


def test_laufende_frist_behaelt_faelligkeit(engine: Engine, owner: Actor, clerk: Actor) -> None:
    start = clock.parse_iso("2025-04-01T10:00:00+02:00")
    mm.deploy(engine, "mig_frist", mm.model("mig_frist", [A, B], timer_on="Task_A"))
    with clock.frozen(start):
        case = mm.start(engine, clerk, "mig_frist")
    due = case_row(engine, case).next_timer_at
    assert due == start + timedelta(days=14)
    assert mm.open_task(engine, case).due_at == due
    mm.deploy(engine, "mig_frist", mm.model("mig_frist", [A, B, NEU], timer_on="Task_A"))

    with clock.frozen(start + timedelta(days=3)):
        _, check = _only(engine, owner, "mig_frist")
        assert check.status_label == "kann umziehen"
        assert engine.migrate_case(owner, case, 2, check.lock_version, {}).moved
    assert case_row(engine, case).next_timer_at == due  # not counted again from the move
    assert mm.open_task(engine, case).due_at == due
    assert engine.fire_due_timers(due - timedelta(seconds=1)) == 0
    assert engine.fire_due_timers(due + timedelta(seconds=1)) == 1
    assert case_row(engine, case).status == "completed"


def test_aufruf_eines_teilprozesses_zieht_um(engine: Engine, owner: Actor, clerk: Actor) -> None:
    call = ("Call_Teil", "Teilprozess")
    mm.deploy(engine, "mig_ruf", mm.model("mig_ruf", [A, call], call="Call_Teil", called=[("Task_T1", "Teil eins")]))
    case = mm.start(engine, clerk, "mig_ruf")
    mm.complete(engine, clerk, case)
    assert mm.open_task(engine, case).task_spec_id == "Task_T1"
    v2 = mm.model("mig_ruf", [A, call], call="Call_Teil", called=[("Task_T1", "Teil eins"), ("Task_T2", "Teil zwei")])
    mm.deploy(engine, "mig_ruf", v2)

    _, check = _only(engine, owner, "mig_ruf")
    assert check.status_label == "kann umziehen"
    assert engine.migrate_case(owner, case, 2, check.lock_version, {}).moved
    mm.complete(engine, clerk, case)
    assert mm.open_task(engine, case).task_spec_id == "Task_T2"  # the called process's new task is reached
    mm.complete(engine, clerk, case)
    assert case_row(engine, case).status == "completed"


def test_laufende_mehrfachaufgabe_zieht_nicht_um(engine: Engine, owner: Actor, clerk: Actor) -> None:
    mm.deploy(engine, "mig_multi", mm.model("mig_multi", [A, B], multi_on="Task_B"))
    case = mm.start(engine, clerk, "mig_multi")
    mm.complete(engine, clerk, case)
    mm.deploy(engine, "mig_multi", mm.model("mig_multi", [A, B, NEU], multi_on="Task_B"))

    _, check = _only(engine, owner, "mig_multi")
    assert check.status_label == "kann nicht umziehen"
    assert [r for r in check.reasons if "Mehrfachaufgabe „Antrag prüfen“" in r], check.reasons
    with pytest.raises(RuleViolationError, match="Mehrfachaufgabe"):
        engine.migrate_case(owner, case, 2, check.lock_version, {})


def test_veralteter_stand_ist_ein_konflikt(engine: Engine, owner: Actor, clerk: Actor) -> None:
    mm.deploy(engine, "mig_stand", mm.model("mig_stand", [A, B]))
    case = mm.start(engine, clerk, "mig_stand")
    mm.deploy(engine, "mig_stand", mm.model("mig_stand", [A, B, NEU]))
    _, check = _only(engine, owner, "mig_stand")
    mm.complete(engine, clerk, case)  # the clerk works on after the dry run

    with pytest.raises(ConflictError):
        engine.migrate_case(owner, case, 2, check.lock_version, {})
    (outcome,) = engine.migrate_cases(owner, 2, [(case, check.lock_version, {})])
    assert not outcome.moved and "zwischenzeitlich geändert" in outcome.message
    assert case_row(engine, case).lock_version == check.lock_version + 1
    assert [e.details["operation"] for e in audit_events(engine, "conflict")] == ["migrate_case", "migrate_case"]


def test_nur_prozessverantwortung_zieht_um(engine: Engine, owner: Actor, clerk: Actor) -> None:
    mm.deploy(engine, "mig_recht", mm.model("mig_recht", [A, B]))
    case = mm.start(engine, clerk, "mig_recht")
    mm.deploy(engine, "mig_recht", mm.model("mig_recht", [A, B, NEU]))
    lock = case_row(engine, case).lock_version

    with pytest.raises(PermissionDeniedError):
        engine.migration_dry_run(clerk, "mig_recht", 1, 2)
    with pytest.raises(PermissionDeniedError):
        engine.migrate_cases(clerk, 2, [(case, lock, {})])
    with pytest.raises(PermissionDeniedError):
        engine.migrate_case(clerk, case, 2, lock, {})
    assert case_row(engine, case).lock_version == lock
    assert len(audit_events(engine, "access_denied", actor="sachb")) == 3
    assert engine.migration_dry_run(owner, "mig_recht", 1, 2).cases[0].status_label == "kann umziehen"
    (checked,) = audit_events(engine, "cases_migration_checked")
    assert checked.details["cases"] == [case]


def test_gleiche_oder_fehlende_version_wird_abgewiesen(engine: Engine, owner: Actor) -> None:
    mm.deploy(engine, "mig_v", mm.model("mig_v", [A]))
    with pytest.raises(RuleViolationError):
        engine.migration_dry_run(owner, "mig_v", 1, 1)
    with pytest.raises(Exception, match="Version 7"):
        engine.migration_dry_run(owner, "mig_v", 1, 7)


def test_pb_antragsannahme_mit_umbenannter_aufgabe_zieht_nach_zuordnung_um(deployed: Engine) -> None:
    egs, owner = deployed.actor("egs"), deployed.actor("modeller")
    case = deployed.start_case(egs, pb.PROCESS, site="56.4").instance_id
    pb.step(deployed, egs, case, pb.ANMELDEN, pb.anmeldung())
    waiting = pb.open_task(deployed, egs, case)
    assert waiting.name == pb.ANNEHMEN
    draft = deployed.create_model_draft(owner, pb.PROCESS)
    renamed = draft.xml.replace("Task_Antragsannahme", "Task_Antrag_Annehmen").replace(
        f'name="{pb.ANNEHMEN}"', 'name="Antrag annehmen und Identität sorgfältig prüfen"'
    )
    saved = deployed.save_model_draft(owner, draft.id, draft.lock_version, xml=renamed)
    assert deployed.deploy_model_draft(owner, draft.id, saved.lock_version, "Schritt umbenannt").version == 2

    plan, check = _only(deployed, owner, pb.PROCESS)
    assert check.status_label == "braucht eine Zuordnung"
    assert [(n.task, n.suggestion) for n in check.needs] == [("Task_Antragsannahme", "Task_Antrag_Annehmen")]
    (outcome,) = deployed.migrate_cases(
        owner, 2, [(case, check.lock_version, {"Task_Antragsannahme": "Task_Antrag_Annehmen"})]
    )
    assert outcome.moved, outcome.message
    moved = pb.open_task(deployed, egs, case)
    assert (moved.task_uuid, moved.name) == (waiting.task_uuid, "Antrag annehmen und Identität sorgfältig prüfen")
    deployed.complete_task(egs, moved.task_uuid, pb.ANTRAGSANNAHME)
    assert pb.open_task(deployed, egs, case).name == pb.BG_ERFASSEN  # runs on in version 2


def test_abgebrochene_frist_einer_erledigten_aufgabe(engine: Engine, owner: Actor, clerk: Actor) -> None:
    """The deadline of a finished task was cancelled: moving works while the deadline stays in the model."""
    mm.deploy(engine, "mig_alt", mm.model("mig_alt", [A, B], timer_on="Task_A"))
    case = mm.start(engine, clerk, "mig_alt")
    mm.complete(engine, clerk, case)
    mm.deploy(engine, "mig_alt", mm.model("mig_alt", [A, B, NEU], timer_on="Task_A"))
    mm.deploy(engine, "mig_alt", mm.model("mig_alt", [A, B, NEU]))

    _, check = _only(engine, owner, "mig_alt", target=3)
    assert check.reasons == ("Das Randereignis (Frist) an „Antrag erfassen“ fehlt in Version 3.",)
    _, check = _only(engine, owner, "mig_alt")
    assert check.status_label == "kann umziehen"
    assert engine.migrate_case(owner, case, 2, check.lock_version, {}).moved
    mm.complete(engine, clerk, case)
    assert mm.open_task(engine, case).task_spec_id == "Task_Neu"
