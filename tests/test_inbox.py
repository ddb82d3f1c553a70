"""The inbox query: tabs with counts, filters, search, sorting, keyset paging, masking for leads."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from engine import clock
from engine.api import Engine
from engine.errors import BadRequestError
from engine.inbox import InboxQuery, mask_name
from engine.models import HumanTask
from tests.support import pb

PEOPLE = [("Anna", "Adler"), ("Bert", "Brandt"), ("Cem", "Celik"), ("Dora", "Dietz"), ("Emil", "Ernst")]


def registered_cases(engine: Engine, site: str = "56.4") -> list[int]:
    """Five cases, each waiting at 'Antrag annehmen …' with a different applicant."""
    egs = engine.actor("egs")
    ids = []
    for number, (first, last) in enumerate(PEOPLE, start=1):
        case = engine.start_case(egs, pb.PROCESS, site=site, business_key=f"07402//00900{number:02d}")
        pb.step(engine, egs, case.instance_id, "Besucher anmelden und Anliegen erfassen",
                pb.anmeldung(vorname=first, nachname=last))  # fmt: skip
        ids.append(case.instance_id)
    return ids


def names(page) -> list[str | None]:  # type: ignore[no-untyped-def]
    return [row.applicant_name for row in page.rows]


def test_tabs_and_counts_follow_claims(deployed: Engine) -> None:
    registered_cases(deployed)
    egs = deployed.actor("egs")
    first = deployed.inbox_page(egs).rows[0]
    deployed.claim(egs, first.task_uuid)
    group = deployed.inbox_page(egs, InboxQuery(tab="gruppe"))
    mine = deployed.inbox_page(egs, InboxQuery(tab="meine"))
    assert group.counts == {"meine": 1, "gruppe": 4, "ueberfaellig": 0}
    assert [r.task_uuid for r in mine.rows] == [first.task_uuid] and mine.rows[0].assignee == "egs"
    assert first.task_uuid not in [r.task_uuid for r in group.rows]
    assert "alle" not in group.tabs, "only TL and FDL have the lead tab"
    assert deployed.inbox_page(egs, InboxQuery(tab="alle")).query.tab == "gruppe"


def test_search_and_filters(deployed: Engine) -> None:
    registered_cases(deployed)
    egs = deployed.actor("egs")
    assert names(deployed.inbox_page(egs, InboxQuery(search="celik"))) == ["Celik, Cem"]
    assert names(deployed.inbox_page(egs, InboxQuery(search="0090004"))) == ["Dietz, Dora"]
    assert names(deployed.inbox_page(egs, InboxQuery(search="%"))) == [], "LIKE wildcards are not special"
    assert names(deployed.inbox_page(egs, InboxQuery(search='"elik'))) == [], "quotes are no search syntax"
    assert names(deployed.inbox_page(egs, InboxQuery(search="ELIK, c"))) == ["Celik, Cem"]
    assert names(deployed.inbox_page(egs, InboxQuery(search="ce"))) == ["Celik, Cem"], "short terms work too"
    assert len(deployed.inbox_page(egs, InboxQuery(process_id=pb.PROCESS)).rows) == 5
    assert deployed.inbox_page(egs, InboxQuery(process_id="gibt_es_nicht")).rows == []
    assert len(deployed.inbox_page(egs, InboxQuery(task="Antrag annehmen und Identität prüfen")).rows) == 5
    assert deployed.inbox_page(egs, InboxQuery(site="56.5")).rows == []
    assert deployed.inbox_page(egs, InboxQuery(due="heute")).rows == [], "no deadlines yet"
    # The search index follows claims and completions.
    first = deployed.inbox_page(egs, InboxQuery(search="adler")).rows[0]
    deployed.claim(egs, first.task_uuid)
    assert names(deployed.inbox_page(egs, InboxQuery(tab="meine", search="adler"))) == ["Adler, Anna"]
    deployed.complete_task(egs, first.task_uuid, pb.ANTRAGSANNAHME)
    assert names(deployed.inbox_page(egs, InboxQuery(tab="meine", search="adler"))) == []


def test_due_dates_sort_and_overdue_tab(deployed: Engine) -> None:
    # "heute" depends on the hour: at 10:00 (Berlin), +5 h is still today; at 20:00 it would be tomorrow.
    with clock.frozen(clock.parse_iso("2026-06-15T10:00:00+02:00")):
        due_dates_sort_and_overdue_tab(deployed)


def due_dates_sort_and_overdue_tab(deployed: Engine) -> None:
    ids = registered_cases(deployed)
    egs = deployed.actor("egs")
    with deployed.db.transaction() as session:
        for instance_id, (hours, priority) in zip(ids, [(30, 0), (-2, 0), (5, 2), (200, 1), (None, 3)], strict=True):
            task = session.scalar(sa.select(HumanTask).where(HumanTask.instance_id == instance_id))
            assert task is not None
            task.due_at = None if hours is None else clock.now() + timedelta(hours=hours)
            task.priority = priority
    by_due = deployed.inbox_page(egs, InboxQuery(sort="faellig"))
    assert names(by_due) == ["Brandt, Bert", "Celik, Cem", "Adler, Anna", "Dietz, Dora", "Ernst, Emil"]
    assert names(deployed.inbox_page(egs, InboxQuery(sort="prioritaet")))[:2] == ["Ernst, Emil", "Celik, Cem"]
    assert names(deployed.inbox_page(egs, InboxQuery(tab="ueberfaellig"))) == ["Brandt, Bert"]
    assert deployed.inbox_page(egs).counts["ueberfaellig"] == 1
    assert names(deployed.inbox_page(egs, InboxQuery(due="heute"))) == ["Brandt, Bert", "Celik, Cem"]
    assert len(deployed.inbox_page(egs, InboxQuery(due="woche")).rows) == 3


def test_keyset_paging_stays_correct_when_tasks_change(deployed: Engine) -> None:
    registered_cases(deployed)
    egs = deployed.actor("egs")
    first = deployed.inbox_page(egs, InboxQuery(sort="erstellt", limit=2))
    assert names(first) == ["Adler, Anna", "Brandt, Bert"] and first.next_cursor
    # A colleague completes a task from the first page meanwhile: the next page must not skip anyone.
    deployed.complete_task(egs, first.rows[0].task_uuid, pb.ANTRAGSANNAHME)
    second = deployed.inbox_page(egs, InboxQuery(sort="erstellt", limit=2, after=first.next_cursor))
    assert names(second) == ["Celik, Cem", "Dietz, Dora"]
    third = deployed.inbox_page(egs, InboxQuery(sort="erstellt", limit=2, after=second.next_cursor))
    assert "Ernst, Emil" in names(third)
    with pytest.raises(BadRequestError):  # a crafted cursor is refused (the web answers 400)
        deployed.inbox_page(egs, InboxQuery(sort="erstellt", limit=2, after="kaputt"))


def test_lead_tab_shows_all_tasks_of_the_site_with_masked_names(deployed: Engine) -> None:
    registered_cases(deployed)
    tl = deployed.actor("tl")
    lead = deployed.inbox_page(tl, InboxQuery(tab="alle"))
    assert "alle" in lead.tabs and lead.counts["alle"] == 5
    assert names(lead)[0] == "A., A." and all(row.masked for row in lead.rows)
    assert deployed.inbox_page(tl, InboxQuery(tab="gruppe")).rows == [], "TL works no EGS task itself"
    assert mask_name("Probstfeld, Jana") == "P., J."


def test_other_sites_and_groups_see_nothing(deployed: Engine, make_user) -> None:  # type: ignore[no-untyped-def]
    registered_cases(deployed)
    other = make_user("egs_goe", ("EGS", "56.5"))
    for actor in (other, deployed.actor("lsb"), deployed.actor("audit")):
        page = deployed.inbox_page(actor)
        assert page.rows == [] and page.counts["gruppe"] == 0
