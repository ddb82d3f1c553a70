"""§ 7: the risk rule fires once per episode; redeployment grants end at midnight by themselves (issue 13)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from engine import clock
from engine.api import Engine
from engine.auth import system_actor
from engine.errors import PermissionDeniedError, RuleViolationError
from engine.models import HumanTask, ProcessInstance
from engine.staff import StaffInput
from tests.support import pb
from tests.support.cases import CaseDriver
from tests.support.records import audit_events

TUESDAY = date(2026, 12, 8)
WEDNESDAY, THURSDAY = TUESDAY + timedelta(days=1), TUESDAY + timedelta(days=2)


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), clock.BERLIN)


def add(engine: Engine, site: str, name: str, function: str = "EGS", username: str | None = None) -> int:
    return engine.add_staff(
        system_actor("test"), site, StaffInput(name, function, Decimal(39), date(2020, 1, 1), None, username)
    )


def safeguard_cases(engine: Engine, site: str) -> list[ProcessInstance]:
    with engine.db.reading() as session:
        return list(
            session.scalars(
                sa.select(ProcessInstance).where(
                    ProcessInstance.process_id == "sicherstellung_egs_besetzung", ProcessInstance.site == site
                )
            )
        )


def test_regel_startet_die_sicherstellung_einmal_je_phase(deployed: Engine) -> None:
    eva = add(deployed, "56.5", "Eva Eins")
    with clock.frozen(at(TUESDAY)):
        assert deployed.check_escalations() == {"56.5": "started"}, "1 EGS present, the rule wants 2"
        assert deployed.check_escalations() == {}, "once per episode"
        assert deployed.check_escalations() == {}
    [case] = safeguard_cases(deployed, "56.5")
    assert case.priority == 3
    lage = CaseDriver.existing(deployed, case.id).data["lage_bei_ausloesung"]
    assert (lage["egs_anwesend"], lage["stichtag"]) == (1, "2026-12-08")
    with deployed.db.reading() as session:
        [task] = session.scalars(sa.select(HumanTask).where(HumanTask.instance_id == case.id)).all()
    assert (task.lane, task.priority, task.name) == ("FDL", 3, "Über Umsetzung in den EGS entscheiden")

    add(deployed, "56.5", "Zora Zwei")
    with clock.frozen(at(date(2026, 12, 12))):  # Saturday: no work, no change
        assert deployed.check_escalations() == {}
    with clock.frozen(at(WEDNESDAY)):
        assert deployed.check_escalations() == {"56.5": "ended"}
        assert deployed.check_escalations() == {}
    deployed.add_absence(system_actor("test"), eva, THURSDAY, THURSDAY, "krankheit")
    with clock.frozen(at(THURSDAY)):
        assert deployed.check_escalations() == {"56.5": "started"}, "a new episode"
    assert len(safeguard_cases(deployed, "56.5")) == 2
    assert [e.details["standort"] for e in audit_events(deployed, "escalation_started")] == ["56.5", "56.5"]
    assert len(audit_events(deployed, "escalation_ended")) == 1
    assert safeguard_cases(deployed, "56.4") == [], "no staff recorded at 56.4: the rule is not applied"


def test_ueberfaellige_aufgaben_loesen_aus(deployed: Engine) -> None:
    for name in ("A", "B", "C"):
        add(deployed, "56.4", name)
    with clock.frozen(at(TUESDAY)):
        for _ in range(11):
            header = deployed.start_case(deployed.actor("egs"), "besuchersteuerung", site="56.4")
            with deployed.db.transaction() as session:
                session.execute(
                    sa.update(HumanTask)
                    .where(HumanTask.instance_id == header.instance_id)
                    .values(due_at=at(TUESDAY, 8))
                )
        assert deployed.check_escalations() == {"56.4": "started"}
    [started] = audit_events(deployed, "escalation_started")
    assert started.details["gruende"] == ["überfällige Aufgaben über der Schwelle"]
    assert started.details["ueberfaellige_aufgaben"] == 11


def test_berechtigung_endet_um_mitternacht(deployed: Engine) -> None:
    lars = add(deployed, "56.4", "Lars Lind", "LSB", "lsb")
    fdl = deployed.actor("fdl")
    with clock.frozen(at(TUESDAY)):
        deployed.redeploy(fdl, "56.4", lars, WEDNESDAY, THURSDAY)
        assert not deployed.actor("lsb").has_group("EGS", "56.4"), "not before the first day"
    with clock.frozen(at(WEDNESDAY, 0, 0)):
        assert deployed.actor("lsb").has_group("EGS", "56.4")
    with clock.frozen(at(THURSDAY, 23, 59)):
        assert deployed.actor("lsb").has_group("EGS", "56.4")
        assert not deployed.actor("lsb").has_group("EGS", "56.5"), "only at that site"
    with clock.frozen(at(THURSDAY + timedelta(days=1), 0, 0)):
        assert not deployed.actor("lsb").has_group("EGS", "56.4"), "ends at midnight, without any job running"
        assert deployed.actor("lsb").has_group("LSB", "56.4")
        deployed.housekeeping()
        deployed.housekeeping()
    [ended] = audit_events(deployed, "redeployment_ended")
    assert ended.details["standort"] == "56.4"
    [granted] = audit_events(deployed, "redeployment_granted")
    assert granted.details["von"] == "2026-12-09" and granted.details["aus"] == "LSB"


def test_umgesetzte_sachbearbeitung_erledigt_egs_aufgabe_und_danach_nicht(deployed: Engine) -> None:
    lars = add(deployed, "56.4", "Lars Lind", "LSB", "lsb")
    with clock.frozen(at(TUESDAY)):
        deployed.redeploy(deployed.actor("fdl"), "56.4", lars, TUESDAY, TUESDAY)
        header = deployed.start_case(deployed.actor("egs"), pb.PROCESS, site="56.4")
        clerk = deployed.actor("lsb")
        [task] = [t for t in deployed.inbox(clerk) if t.instance_id == header.instance_id]
        assert task.lane == "EGS", "the redeployed clerk sees the EGS task"
        deployed.complete_task(clerk, task.task_uuid, pb.anmeldung())
        [used] = audit_events(deployed, "redeployment_used")
        assert (used.actor, used.instance_id) == ("lsb", header.instance_id)
        [task] = [t for t in deployed.inbox(clerk) if t.instance_id == header.instance_id]
        deployed.complete_task(deployed.actor("egs"), task.task_uuid, pb.ANTRAGSANNAHME)
        assert [e.id for e in audit_events(deployed, "redeployment_used")] == [used.id], "EGS staff: no grant used"
    with clock.frozen(at(WEDNESDAY, 0, 1)):
        clerk = deployed.actor("lsb")
        assert [t for t in deployed.inbox(clerk) if t.instance_id == header.instance_id] == []
        [task] = [t for t in deployed.inbox(deployed.actor("egs")) if t.instance_id == header.instance_id]
        with pytest.raises(PermissionDeniedError):
            deployed.complete_task(clerk, task.task_uuid, pb.BEDARFSGEMEINSCHAFT)
    assert audit_events(deployed, "access_denied")[-1].actor == "lsb"


@pytest.mark.parametrize(
    ("who", "person", "first", "last", "error", "message"),
    [
        ("tl", "lsb", TUESDAY, TUESDAY, PermissionDeniedError, "Fachdienstleitung"),
        ("fdl", "egs", TUESDAY, TUESDAY, RuleViolationError, "LSB oder der IFK"),
        ("fdl", "nologin", TUESDAY, TUESDAY, RuleViolationError, "kein Benutzerkonto"),
        ("fdl", "lsb", TUESDAY - timedelta(days=1), TUESDAY, RuleViolationError, "rückwirkend"),
        ("fdl", "lsb", TUESDAY, TUESDAY + timedelta(days=91), RuleViolationError, "höchstens 90 Tage"),
        ("fdl", "lsb", WEDNESDAY, TUESDAY, RuleViolationError, "vor ihrem Beginn"),
    ],
)
def test_umsetzung_abgewiesen(
    deployed: Engine, who: str, person: str, first: date, last: date, error: type[Exception], message: str
) -> None:
    ids = {
        "lsb": add(deployed, "56.4", "Lars Lind", "LSB", "lsb"),
        "egs": add(deployed, "56.4", "Eva Eins", "EGS", "egs"),
        "nologin": add(deployed, "56.4", "Nora Ohne", "IFK"),
    }
    with clock.frozen(at(TUESDAY)), pytest.raises(error, match=message):
        deployed.redeploy(deployed.actor(who), "56.4", ids[person], first, last)
    assert audit_events(deployed, "redeployment_granted") == []


def test_keine_doppelte_umsetzung(deployed: Engine) -> None:
    lars = add(deployed, "56.4", "Lars Lind", "LSB", "lsb")
    with clock.frozen(at(TUESDAY)):
        deployed.redeploy(deployed.actor("fdl"), "56.4", lars, TUESDAY, THURSDAY)
        with pytest.raises(RuleViolationError, match="bereits umgesetzt"):
            deployed.redeploy(deployed.actor("fdl"), "56.4", lars, WEDNESDAY, WEDNESDAY)
        load = deployed.staff_overview(deployed.actor("fdl"), "56.4").workload
    assert load.today.redeployed == ("Lars Lind",) and load.today.present == ("Lars Lind",)
    assert load.today.capacity_total > 0
