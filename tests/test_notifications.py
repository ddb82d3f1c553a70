"""Notifications (the bell): every kind, who gets it and who does not, reading them, and the worker's jobs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import clock, notice_jobs, notices
from engine.api import Engine
from engine.auth import system_actor
from engine.errors import BadRequestError, NotFoundError
from engine.models import HumanTask
from engine.notifications import Notification
from tests.support import pb
from tests.test_step_statements import STEP_BUDGET, count_statements

POST_ROOM = system_actor("posteingang")  # cases arrive from outside: news to every clerk of the group


def bell(engine: Engine, username: str) -> list[Notification]:
    return engine.notifications.page(engine.actor(username)).rows


def kinds(engine: Engine, username: str) -> list[str]:
    return [row.kind for row in bell(engine, username)]


def test_a_task_arriving_for_a_group_is_told_to_its_members_at_that_site_only(deployed: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("egs_565", ("EGS", "56.5"))
    make_user("lsb2", ("LSB", "56.4"))
    case = deployed.start_case(POST_ROOM, pb.PROCESS, system=True, business_key="07402//0011111")
    [row] = bell(deployed, "egs")
    assert (row.kind, row.read, row.link, row.instance_id) == (notices.ARRIVED, False, "task", case.instance_id)
    assert row.task_name == pb.ANMELDEN and row.business_key == "07402//0011111"
    assert deployed.notifications.unread(deployed.actor("egs")) == 1
    assert bell(deployed, "egs_565") == [], "another site"
    assert bell(deployed, "lsb2") == [], "another group"
    assert bell(deployed, "audit") == [], "no work group: no arrivals"


def test_a_task_taken_by_a_colleague_is_no_longer_news(deployed: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("egs2", ("EGS", "56.4"))
    case = deployed.start_case(POST_ROOM, pb.PROCESS, system=True)
    [task] = deployed.open_tasks(deployed.actor("egs"), case.instance_id)
    assert deployed.notifications.unread(deployed.actor("egs2")) == 1
    deployed.claim(deployed.actor("egs"), task.task_uuid)
    assert deployed.notifications.unread(deployed.actor("egs2")) == 0
    assert bell(deployed, "egs2") == []


def test_marking_one_and_all_read(deployed: Engine) -> None:
    egs = deployed.actor("egs")
    first = deployed.start_case(POST_ROOM, pb.PROCESS, system=True)
    deployed.start_case(POST_ROOM, pb.PROCESS, system=True)
    rows = bell(deployed, "egs")
    assert len(rows) == 2 and deployed.notifications.unread(egs) == 2
    older = next(row for row in rows if row.instance_id == first.instance_id)
    deployed.notifications.mark_read(egs, older.key)
    assert deployed.notifications.unread(egs) == 1
    assert [row.read for row in bell(deployed, "egs")] == [False, True], "newest first; the read one stays listed"
    deployed.notifications.mark_all_read(egs)
    assert deployed.notifications.unread(egs) == 0
    later = deployed.start_case(POST_ROOM, pb.PROCESS, system=True)
    [new] = [row for row in bell(deployed, "egs") if not row.read]
    assert new.instance_id == later.instance_id, "a task arriving after 'all read' is unread again"
    with pytest.raises(NotFoundError):
        deployed.notifications.mark_read(deployed.actor("lsb"), new.key)  # not theirs: not their group
    with pytest.raises(NotFoundError):
        deployed.notifications.mark_read(egs, "n999999")


def test_delegated_and_reassigned_tasks_are_told_to_the_new_holder(deployed: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("egs2", ("EGS", "56.4"))
    make_user("egs3", ("EGS", "56.4"))
    egs = deployed.actor("egs")
    case = deployed.start_case(POST_ROOM, pb.PROCESS, system=True)
    [task] = deployed.open_tasks(egs, case.instance_id)
    deployed.claim(egs, task.task_uuid)
    deployed.delegate(egs, task.task_uuid, "egs2", "Bitte übernehmen")
    [given] = [row for row in bell(deployed, "egs2") if row.kind == notices.GIVEN]
    assert (given.by_name, given.reason, given.link, given.task_uuid) == (
        egs.display_name, "Bitte übernehmen", "task", task.task_uuid,
    )  # fmt: skip
    deployed.reassign(deployed.actor("tl"), task.task_uuid, "egs3", "Vertretung")
    assert notices.GIVEN in kinds(deployed, "egs3")
    assert notices.TAKEN in kinds(deployed, "egs2"), "the former holder is told as before (the inbox notice)"
    assert [n.reason for n in deployed.open_notices(deployed.actor("egs2"))] == ["Vertretung"]
    assert notices.GIVEN not in kinds(deployed, "egs"), "who hands a task on is told nothing"


def test_a_notice_whose_case_the_person_may_no_longer_open_has_no_link(deployed: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("egs2", ("EGS", "56.4"))
    egs = deployed.actor("egs")
    case = deployed.start_case(POST_ROOM, pb.PROCESS, system=True, business_key="07402//0022222")
    [task] = deployed.open_tasks(egs, case.instance_id)
    deployed.claim(egs, task.task_uuid)
    deployed.delegate(egs, task.task_uuid, "egs2", "Bitte übernehmen")
    with deployed.db.transaction() as session:  # egs2 moves to another site
        from engine.models import Grant

        session.query(Grant).filter(Grant.user_id == deployed.actor("egs2").user_id).update({"site": "56.5"})
    [given] = [row for row in bell(deployed, "egs2") if row.kind == notices.GIVEN]
    assert given.link is None and given.business_key is None and given.reason is None and given.by_name is None


def test_due_tomorrow_and_overdue_are_computed_once_a_day_for_the_holder(deployed: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    egs = deployed.actor("egs")
    tomorrow_case = deployed.start_case(POST_ROOM, pb.PROCESS, system=True)
    late_case = deployed.start_case(POST_ROOM, pb.PROCESS, system=True)
    loose_case = deployed.start_case(POST_ROOM, pb.PROCESS, system=True)
    now = clock.now()
    berlin_noon = now.astimezone(clock.BERLIN).replace(hour=12, minute=0, second=0, microsecond=0)
    due = {
        tomorrow_case.instance_id: berlin_noon + timedelta(days=1),
        late_case.instance_id: now - timedelta(hours=1),
        loose_case.instance_id: now - timedelta(hours=1),
    }
    with deployed.db.transaction() as session:
        for row in session.query(HumanTask).all():
            row.due_at = due[row.instance_id]
            if row.instance_id != loose_case.instance_id:
                row.assignee_id = egs.user_id  # nobody holds the third: no "your task" notice
    with deployed.db.transaction() as session:
        assert notice_jobs.remind_due(session) == 2
    with deployed.db.transaction() as session:
        assert notice_jobs.remind_due(session) == 0, "once per day"
    stored = {row.instance_id: row.kind for row in bell(deployed, "egs") if row.kind not in notices.DERIVED}
    assert stored == {tomorrow_case.instance_id: notices.DUE_TOMORROW, late_case.instance_id: notices.OVERDUE}
    with deployed.db.transaction() as session:  # the next day: tomorrow's task is overdue by then
        told = notice_jobs.remind_due(session, now + timedelta(days=2))
    assert told == 1


def test_incidents_are_told_to_process_owners_and_the_fdl_of_the_site(deployed: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    from engine import incidents

    make_user("fdl565", ("FDL", "56.5"))
    case = deployed.start_case(POST_ROOM, pb.PROCESS, system=True)
    with deployed.db.transaction() as session:
        notice_jobs.tell_incidents(session, deployed.specs)  # first run: sets the mark
    with deployed.db.transaction() as session:
        incidents.record(session, case.instance_id, "timer", RuntimeError("kaputt"))
    with deployed.db.transaction() as session:
        notice_jobs.tell_incidents(session, deployed.specs)
    with deployed.db.transaction() as session:
        assert notice_jobs.tell_incidents(session, deployed.specs) == 0, "each incident is told once"
    for username in ("fdl", "modeller"):
        [row] = [r for r in bell(deployed, username) if r.kind == notices.INCIDENT]
        assert row.link == "incidents" and row.instance_id == case.instance_id
    assert notices.INCIDENT not in kinds(deployed, "fdl565"), "another site's FDL"
    assert notices.INCIDENT not in kinds(deployed, "egs"), "clerks are not told of incidents"


def test_a_staffing_escalation_is_told_to_the_fdl_of_that_site(deployed: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    from tests.test_escalation import TUESDAY, add, at, safeguard_cases

    make_user("fdl565", ("FDL", "56.5"))
    make_user("tl565", ("TL", "56.5"))
    add(deployed, "56.5", "Eva Eins")
    with clock.frozen(at(TUESDAY)):
        assert deployed.check_escalations() == {"56.5": "started"}
        deployed.check_escalations()
    [case] = safeguard_cases(deployed, "56.5")
    [told] = [row for row in bell(deployed, "fdl565") if row.kind == notices.ESCALATION]
    assert (told.instance_id, told.link) == (case.id, "case")
    assert notices.ESCALATION not in kinds(deployed, "fdl"), "another site's FDL"
    assert notices.ESCALATION not in kinds(deployed, "tl565"), "the FDL decides (§ 7)"
    with deployed.db.transaction() as session:
        assert notice_jobs.tell_escalation(session, "56.5", case.id) == 0, "told once per episode"


def test_paging_walks_both_sources_newest_first_without_gaps(deployed: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    egs = deployed.actor("egs")
    for _ in range(5):
        deployed.start_case(POST_ROOM, pb.PROCESS, system=True)
    with deployed.db.transaction() as session:
        for number in range(4):
            notices.tell(session, egs.user_id or 0, notices.OVERDUE, 1, dedupe_key=f"x{number}")
    seen, cursor = [], None
    while True:
        page = deployed.notifications.page(egs, cursor, limit=3)
        seen += page.rows
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == 9 and len({row.key for row in seen}) == 9
    assert [row.created_at for row in seen] == sorted((row.created_at for row in seen), reverse=True)
    with pytest.raises(BadRequestError):
        deployed.notifications.page(egs, "bm9wZQ==")


def test_producing_notifications_costs_a_step_nothing(deployed: Engine) -> None:
    egs = deployed.actor("egs")
    case = deployed.start_case(POST_ROOM, pb.PROCESS, system=True)
    task = pb.open_task(deployed, egs, case.instance_id)
    deployed.claim(egs, task.task_uuid)
    statements = count_statements(deployed, lambda: deployed.complete_task(egs, task.task_uuid, pb.anmeldung()))
    assert len(statements) <= STEP_BUDGET


def test_a_four_eyes_approval_waits_for_the_others_not_for_who_asked(deployed: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    from tests.support.cases import CaseDriver

    make_user("kira.tl", ("EGS", "56.4"), ("TL", "56.4"))
    case = CaseDriver(deployed, "bueromaterial", starter="kira.tl")
    case.complete(
        "Büromaterial anfordern",
        {"bedarfstraeger": "LSB", "positionen": "Papier", "geschaetzter_betrag": 60.0, "begruendung_bedarf": "Vorrat"},
        as_user="kira.tl",
    )
    [waiting] = [row for row in bell(deployed, "tl") if row.instance_id == case.instance_id]
    assert (waiting.kind, waiting.link) == (notices.FOUR_EYES, "task")
    assert [row for row in bell(deployed, "kira.tl") if row.instance_id == case.instance_id] == []
    assert deployed.notifications.unread(deployed.actor("kira.tl")) == len(
        [row for row in bell(deployed, "kira.tl") if not row.read]
    ), "the count leaves out what the list leaves out"


def test_the_count_stops_at_the_cap(deployed: Engine) -> None:
    """The bell's count is bounded work on every page: it counts up to COUNT_CAP ("99+")."""
    import uuid

    import sqlalchemy as sa

    from engine.notifications import COUNT_CAP

    egs = deployed.actor("egs")
    deployed.start_case(POST_ROOM, pb.PROCESS, system=True)
    with deployed.db.transaction() as session:
        model = session.scalars(sa.select(HumanTask)).one()
        columns = {c.key: getattr(model, c.key) for c in HumanTask.__table__.columns if c.key != "id"}
        session.execute(
            sa.insert(HumanTask), [{**columns, "task_uuid": str(uuid.uuid4())} for _ in range(COUNT_CAP + 20)]
        )
    assert deployed.notifications.unread(egs) == COUNT_CAP
    first = deployed.notifications.page(egs).rows[0]
    deployed.notifications.mark_read(egs, first.key)
    assert deployed.notifications.unread(egs) == COUNT_CAP, "still more than the cap"
    deployed.notifications.mark_all_read(egs)
    assert deployed.notifications.unread(egs) == 0


def test_old_notices_are_deleted_once_a_day(deployed: Engine) -> None:
    egs = deployed.actor("egs")
    now = clock.now()
    with deployed.db.transaction() as session:
        with clock.frozen(now - timedelta(days=notice_jobs.KEPT_DAYS + 1)):
            notices.tell(session, egs.user_id or 0, notices.OVERDUE, 1, dedupe_key="alt")
        notices.tell(session, egs.user_id or 0, notices.OVERDUE, 1, dedupe_key="neu")
    with deployed.db.transaction() as session:
        notice_jobs.purge(session, now)
    with deployed.db.reading() as session:
        from engine.models import TaskNotice

        assert [n.dedupe_key for n in session.query(TaskNotice).all()] == ["neu"]


def test_a_task_ones_own_step_produced_is_news_to_the_colleagues_only(deployed: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("egs2", ("EGS", "56.4"))
    egs = deployed.actor("egs")
    case = deployed.start_case(egs, pb.PROCESS)
    assert bell(deployed, "egs") == [], "egs started it and sees its task on the screen already"
    [arrived] = bell(deployed, "egs2")
    assert arrived.instance_id == case.instance_id
    task = pb.open_task(deployed, egs, case.instance_id)
    deployed.claim(egs, task.task_uuid)
    deployed.complete_task(egs, task.task_uuid, pb.anmeldung())
    assert [row.instance_id for row in bell(deployed, "egs")] == [], "nor the next one egs's step produced"
    assert [row.task_name for row in bell(deployed, "egs2")] == [pb.ANNEHMEN]
