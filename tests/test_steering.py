"""Leads steer: reassign or free a task with a reason (the previous holder is told why), priority and due
date that stick to the case, the team's overdue work, and no FB 50 case or masked name for SGB II leads."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import clock
from engine.api import Engine
from engine.errors import FormValidationError, NotFoundError, PermissionDeniedError, RuleViolationError
from engine.inbox import InboxQuery, tasks_of_case
from tests.support import pb
from tests.support.cases import CaseDriver
from tests.support.records import audit_events
from tests.test_step_statements import STEP_BUDGET, count_statements


def held_task(engine: Engine) -> tuple[int, str]:
    """A new case whose first task the clerk ``egs`` has claimed."""
    egs = engine.actor("egs")
    case = engine.start_case(egs, pb.PROCESS, business_key="07402//0099001")
    [task] = engine.open_tasks(egs, case.instance_id)
    engine.claim(egs, task.task_uuid)
    return case.instance_id, task.task_uuid


def assignee(engine: Engine, instance_id: int) -> str | None:
    with engine.db.reading() as session:
        [task] = tasks_of_case(session, instance_id)
    return task.assignee


def test_lead_reassigns_a_held_task_and_the_previous_holder_sees_why(deployed: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("egs2", ("EGS", "56.4"))
    instance_id, task_uuid = held_task(deployed)
    egs, tl = deployed.actor("egs"), deployed.actor("tl")
    deployed.reassign(tl, task_uuid, "egs2", "  Krankheit,\n voraussichtlich zwei Wochen ")
    assert assignee(deployed, instance_id) == "egs2"
    [event] = audit_events(deployed, "reassign")
    assert (event.actor, event.details["to"], event.details["reason"]) == (
        "tl", "egs2", "Krankheit, voraussichtlich zwei Wochen",
    )  # fmt: skip
    assert event.details["from_user_id"] == egs.user_id
    [notice] = deployed.open_notices(egs)
    assert (notice.task_name, notice.business_key, notice.reason) == (
        pb.ANMELDEN, "07402//0099001", "Krankheit, voraussichtlich zwei Wochen",
    )  # fmt: skip
    assert notice.by_name == tl.display_name and notice.instance_id == instance_id
    assert deployed.open_notices(deployed.actor("egs2")) == [], "the new holder is not told that anything was taken"
    with pytest.raises(NotFoundError):
        deployed.acknowledge_notice(deployed.actor("egs2"), notice.notice_id)  # not theirs
    deployed.acknowledge_notice(egs, notice.notice_id)
    assert deployed.open_notices(egs) == []
    with pytest.raises(RuleViolationError, match="bearbeitet die Aufgabe bereits"):
        deployed.reassign(tl, task_uuid, "egs2", "noch einmal")


def test_lead_frees_a_task_back_to_the_group(deployed: Engine) -> None:
    instance_id, task_uuid = held_task(deployed)
    egs, fdl = deployed.actor("egs"), deployed.actor("fdl")
    with pytest.raises(FormValidationError):
        deployed.reassign(fdl, task_uuid, None, "   ")
    deployed.reassign(fdl, task_uuid, None, "Urlaub")
    assert assignee(deployed, instance_id) is None
    [event] = audit_events(deployed, "release")
    assert (event.actor, event.details["reason"]) == ("fdl", "Urlaub")
    assert [n.reason for n in deployed.open_notices(egs)] == ["Urlaub"]
    with pytest.raises(RuleViolationError, match="liegt bereits bei der Gruppe"):
        deployed.reassign(fdl, task_uuid, None, "noch einmal")


def test_only_the_sites_leads_reassign_and_only_to_who_may_work_it(deployed: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    _, task_uuid = held_task(deployed)
    other_lead = make_user("tl_goe", ("TL", "56.5"))
    for actor in (deployed.actor("egs"), deployed.actor("lsb"), other_lead):
        with pytest.raises(PermissionDeniedError):
            deployed.reassign(actor, task_uuid, None, "Urlaub")
    with pytest.raises(RuleViolationError, match="gehört nicht zur Gruppe EGS"):
        deployed.reassign(deployed.actor("tl"), task_uuid, "lsb", "Urlaub")
    with pytest.raises(NotFoundError):
        deployed.reassign(deployed.actor("tl"), task_uuid, "niemand", "Urlaub")
    assert audit_events(deployed, "reassign") == [] and audit_events(deployed, "release") == []


def test_a_lead_delegating_a_held_task_leaves_the_holder_a_notice(deployed: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("egs2", ("EGS", "56.4"))
    _, task_uuid = held_task(deployed)
    deployed.delegate(deployed.actor("tl"), task_uuid, "egs2", "Vertretung")
    assert [n.reason for n in deployed.open_notices(deployed.actor("egs"))] == ["Vertretung"]


def test_priority_and_due_date_stick_to_the_case(deployed: Engine) -> None:
    egs, tl = deployed.actor("egs"), deployed.actor("tl")
    case = deployed.start_case(egs, pb.PROCESS)
    [first] = deployed.open_tasks(egs, case.instance_id)
    due = clock.parse_iso((clock.today_berlin() + timedelta(days=3)).isoformat() + "T23:59:00")
    deployed.set_priority(tl, first.task_uuid, 2)
    deployed.set_due(tl, first.task_uuid, due)
    deployed.claim(egs, first.task_uuid)
    statements = count_statements(deployed, lambda: deployed.complete_task(egs, first.task_uuid, pb.anmeldung()))
    assert len(statements) <= STEP_BUDGET, "the case's priority and due date cost the step no statement"
    pb.step(deployed, egs, case.instance_id, pb.ANNEHMEN, pb.ANTRAGSANNAHME)
    [third] = deployed.open_tasks(egs, case.instance_id)
    assert third.name == pb.BG_ERFASSEN
    assert (third.priority, third.due_at) == (2, due), "every following task carries the case's values"
    deployed.set_priority(tl, third.task_uuid, 0)
    deployed.set_due(tl, third.task_uuid, None)
    pb.step(deployed, egs, case.instance_id, pb.BG_ERFASSEN, pb.BEDARFSGEMEINSCHAFT)
    [fourth] = deployed.open_tasks(egs, case.instance_id)
    assert (fourth.priority, fourth.due_at) == (0, None), "until a lead changes them"


@pytest.mark.parametrize(("case_days", "earlier"), [(3, "case"), (60, "model")])
def test_the_earlier_of_model_deadline_and_case_due_date_counts(deployed: Engine, case_days: int, earlier: str) -> None:
    egs, tl = deployed.actor("egs"), deployed.actor("tl")
    case = deployed.start_case(egs, pb.PROCESS)
    [first] = deployed.open_tasks(egs, case.instance_id)
    case_due = clock.parse_iso((clock.today_berlin() + timedelta(days=case_days)).isoformat() + "T23:59:00")
    deployed.set_due(tl, first.task_uuid, case_due)
    pb.walk_to_documents_requested(deployed, egs, case.instance_id, frist_tage=14)
    [waiting] = [t for t in deployed.open_tasks(egs, case.instance_id) if t.name == "Eingang der Unterlage erfassen"]
    model_due = clock.parse_iso((clock.today_berlin() + timedelta(days=15)).isoformat() + "T00:00:00+01:00")
    assert waiting.due_at == (case_due if earlier == "case" else model_due)


def test_overdue_tab_of_a_lead_shows_the_teams_overdue_work_at_their_site(deployed: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    _, task_uuid = held_task(deployed)
    tl = deployed.actor("tl")
    deployed.set_due(tl, task_uuid, clock.now() - timedelta(days=1))
    page = deployed.inbox_page(tl, InboxQuery(tab="ueberfaellig"))
    assert [row.task_uuid for row in page.rows] == [task_uuid] and page.counts["ueberfaellig"] == 1
    assert page.rows[0].assignee == "egs" and page.rows[0].may_lead and not page.rows[0].may_work
    other_lead = make_user("tl_goe", ("TL", "56.5"))
    assert deployed.inbox_page(other_lead, InboxQuery(tab="ueberfaellig")).rows == []
    assert deployed.inbox_page(deployed.actor("lsb"), InboxQuery(tab="ueberfaellig")).rows == []


def fb50_case(engine: Engine) -> CaseDriver:
    payload = {"vorname": "Kurt", "nachname": "Hagedorn", "anliegen_text": "Grundsicherung im Alter",
               "kenntnis_am": clock.now().astimezone(clock.BERLIN).replace(microsecond=0).isoformat()}  # fmt: skip
    return CaseDriver.by_message(engine, "fb50_eingangsservice", "Anliegen FB 50", payload, site="56.6")


def test_sgb2_leads_neither_see_nor_match_nor_steer_fb50_cases(deployed: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    case = fb50_case(deployed)
    [task] = case.open_tasks()
    key = case.header.business_key or ""
    fb50_lead = make_user("fb50_lead", ("TL", "56.6"), ("FB50", "56.6"))
    deployed.set_due(fb50_lead, task.task_uuid, clock.now() - timedelta(hours=1))
    sgb2_lead = make_user("tl_56.6", ("TL", "56.6"))
    for tab in ("alle", "ueberfaellig"):
        page = deployed.inbox_page(sgb2_lead, InboxQuery(tab=tab))
        assert page.rows == [] and page.counts[tab] == 0, tab
    assert deployed.inbox_page(sgb2_lead, InboxQuery(tab="alle", search=key.lower())).rows == []
    with pytest.raises(PermissionDeniedError):
        deployed.set_priority(sgb2_lead, task.task_uuid, 3)
    with pytest.raises(PermissionDeniedError):
        deployed.reassign(sgb2_lead, task.task_uuid, None, "Urlaub")
    [row] = deployed.inbox_page(fb50_lead, InboxQuery(tab="alle", search=key.lower())).rows
    assert row.may_lead and deployed.inbox_page(fb50_lead, InboxQuery(tab="ueberfaellig")).counts["ueberfaellig"] == 1


def test_search_matches_names_only_where_the_viewer_sees_them(deployed: Engine) -> None:
    egs, tl = deployed.actor("egs"), deployed.actor("tl")
    case = deployed.start_case(egs, pb.PROCESS, business_key="07402//0099002")
    pb.step(deployed, egs, case.instance_id, pb.ANMELDEN, pb.anmeldung(vorname="Kurt", nachname="Hagedorn"))
    [row] = deployed.inbox_page(tl, InboxQuery(tab="alle")).rows
    assert row.masked and row.applicant_name == "H., K."
    for term in ("hagedorn", "hagedorm", "kurt", "dorn"):
        page = deployed.inbox_page(tl, InboxQuery(tab="alle", search=term))
        assert page.rows == [] and page.counts["alle"] == 0, f"{term!r} must not confirm a masked name"
    assert len(deployed.inbox_page(tl, InboxQuery(tab="alle", search="0099002")).rows) == 1
    assert len(deployed.inbox_page(egs, InboxQuery(tab="gruppe", search="hagedorn")).rows) == 1, "who works it may"
    assert deployed.inbox_page(egs, InboxQuery(tab="gruppe", search="hagedorm")).rows == []


def test_a_leads_filters_offer_the_team_and_its_tasks(deployed: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("egs_goe", ("EGS", "56.5"))
    names, people = deployed.inbox_choices(deployed.actor("tl"))
    usernames = [username for username, _ in people]
    assert {"egs", "lsb", "ifk"} <= set(usernames) and "egs_goe" not in usernames
    assert pb.ANMELDEN in names
    assert "lsb" not in [u for u, _ in deployed.inbox_choices(deployed.actor("egs"))[1]], "clerks: their group"


def test_a_lead_who_works_in_an_fb50_case_is_not_offered_to_steer_it(deployed: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    case = fb50_case(deployed)
    lead_and_clerk = make_user("tl_egs_56.6", ("TL", "56.6"), ("EGS", "56.6"))
    [task] = deployed.case_view(lead_and_clerk, case.instance_id).open_tasks  # may open it: works its EGS lane
    assert task.may_work and not task.may_lead
    with pytest.raises(PermissionDeniedError):
        deployed.set_due(lead_and_clerk, task.task_uuid, None)
