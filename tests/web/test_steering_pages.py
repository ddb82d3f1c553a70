"""Leads steer on the case page (reassign with a reason, due date with errors at the field and a confirmation
for the past), the holder's notice in the inbox, delegation findable, due dates as people mean them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from engine.api import Engine
from engine.inbox import tasks_of_case
from tests.support import pb
from tests.support.records import audit_events, open_task
from tests.support.web import csrf_token, instance_of, post_form, start_case
from webapp.formatting import faellig, faellig_tag

NOTICE = re.compile(
    r"Aufgabe „([^“]+)“ \(Vorgang .*?\)\s+wurde Ihnen am ([\d.: ]+) Uhr von ([^.]+) entzogen\. Grund: (\w+)", re.S
)


def held_by_egs(client_for, deployed: Engine) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A case whose first task ``egs`` claimed: (its task URL, its case URL)."""
    egs = client_for("egs")
    url = start_case(egs)
    post_form(egs, f"{url}/uebernehmen", {}, page_url=url)
    return url, f"/vorgaenge/{instance_of(deployed, url)}"


def test_lead_reassigns_on_the_case_page_and_the_holder_is_told_why(client_for, make_user, deployed: Engine) -> None:  # type: ignore[no-untyped-def]
    make_user("egs2", ("EGS", "56.4"))
    url, case_url = held_by_egs(client_for, deployed)
    task_uuid = url.rsplit("/", 1)[-1]
    tl = client_for("tl")
    page = tl.get(case_url).get_data(as_text=True)
    assert f'<label for="an-{task_uuid}">Zuweisen an</label>' in page and '<option value="egs2">Egs2</option>' in page
    done = post_form(tl, f"{url}/zuweisen", {"an": "egs2", "grund": "Krankheit", "zurueck": case_url}, case_url)
    assert done.status_code == 302 and done.headers["Location"] == case_url
    assert "bearbeitet von egs2" in tl.get(case_url).get_data(as_text=True)

    egs = client_for("egs")
    inbox = egs.get("/").get_data(as_text=True)
    notice = NOTICE.search(inbox)
    assert notice and notice.group(1) == pb.ANMELDEN and notice.group(4) == "Krankheit"
    assert notice.group(3) == deployed.actor("tl").display_name
    action = re.search(r'action="(/hinweise/\d+/gelesen)"', inbox)
    assert action
    assert egs.post(action.group(1), data={}).status_code == 400, "CSRF protected"
    other = client_for("egs2", "pw")
    other_token = csrf_token(other.get("/").get_data(as_text=True))
    assert other.post(action.group(1), data={"csrf_token": other_token}).status_code == 404, "not their notice"
    assert egs.post(action.group(1), data={"csrf_token": csrf_token(inbox)}).status_code == 302
    assert "entzogen" not in egs.get("/").get_data(as_text=True)


def test_lead_frees_a_task_and_clerks_may_not(client_for, deployed: Engine) -> None:  # type: ignore[no-untyped-def]
    url, case_url = held_by_egs(client_for, deployed)
    egs = client_for("egs")
    assert post_form(egs, f"{url}/zuweisen", {"an": "", "grund": "Urlaub"}, page_url=url).status_code == 403
    tl = client_for("tl")
    assert post_form(tl, f"{url}/zuweisen", {"an": "", "grund": "Urlaub"}, case_url).status_code == 302
    task = open_task(deployed, url.rsplit("/", 1)[-1])
    assert task is not None and task.assignee_id is None
    assert [e.details["reason"] for e in audit_events(deployed, "release")] == ["Urlaub"]


def test_refused_reassignment_is_shown_at_the_field_on_the_case_page(client_for, deployed: Engine) -> None:  # type: ignore[no-untyped-def]
    url, case_url = held_by_egs(client_for, deployed)
    task_uuid = url.rsplit("/", 1)[-1]
    tl = client_for("tl")
    refused = post_form(tl, f"{url}/zuweisen", {"an": "", "grund": "  "}, case_url)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "<h1>Vorgang" in html
    assert f'<a href="#grund-{task_uuid}">Grund: Bitte einen Grund für die Weitergabe angeben.</a>' in html
    assert f'aria-invalid="true" aria-describedby="grund-{task_uuid}-fehler"' in html
    wrong = post_form(tl, f"{url}/zuweisen", {"an": "lsb", "grund": "Urlaub"}, case_url)
    assert wrong.status_code == 422 and "Zuweisen an: " in wrong.get_data(as_text=True)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("31.02.2099", "Den 31.02.2099 gibt es nicht."),
        ("15.13.2099", "Den 15.13.2099 gibt es nicht."),
        ("morgen", "Bitte ein Datum im Format TT.MM.JJJJ eingeben"),
    ],
)
def test_bad_due_date_is_shown_on_the_case_page_with_the_field_named(  # type: ignore[no-untyped-def]
    client_for, deployed: Engine, typed: str, message: str
) -> None:
    url, case_url = held_by_egs(client_for, deployed)
    task_uuid = url.rsplit("/", 1)[-1]
    response = post_form(client_for("tl"), f"{url}/faelligkeit", {"faellig_am": typed}, case_url)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "<h1>Vorgang" in html
    assert f'<a href="#faellig_am-{task_uuid}">Fällig am: {message}' in html
    assert f'value="{typed}" inputmode="numeric"' in html, "what was typed stays in the field"
    assert f'aria-describedby="faellig_am-{task_uuid}-fehler"' in html
    assert open_task(deployed, task_uuid).due_at is None  # type: ignore[union-attr]


def test_due_date_in_the_past_asks_for_confirmation(client_for, deployed: Engine) -> None:  # type: ignore[no-untyped-def]
    url, case_url = held_by_egs(client_for, deployed)
    task_uuid = url.rsplit("/", 1)[-1]
    tl = client_for("tl")
    asked = post_form(tl, f"{url}/faelligkeit", {"faellig_am": "01.02.2020"}, case_url)
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Der 01.02.2020 liegt in der Vergangenheit" in html
    assert open_task(deployed, task_uuid).due_at is None, "nothing is set before the confirmation"  # type: ignore[union-attr]
    confirmed = post_form(tl, f"{url}/faelligkeit", {"faellig_am": "01.02.2020", "bestaetigt": "1"}, case_url)
    assert confirmed.status_code == 302
    assert open_task(deployed, task_uuid).due_at is not None  # type: ignore[union-attr]
    assert "fällig bis 01.02.2020" in tl.get(case_url).get_data(as_text=True)
    assert post_form(tl, f"{url}/faelligkeit", {"faellig_am": "31.12.2099"}, case_url).status_code == 302


def test_priority_set_on_the_case_page_carries_to_the_next_task(client_for, deployed: Engine) -> None:  # type: ignore[no-untyped-def]
    url, case_url = held_by_egs(client_for, deployed)
    tl = client_for("tl")
    assert post_form(tl, f"{url}/prioritaet", {"prioritaet": "2"}, case_url).status_code == 302
    assert post_form(tl, f"{url}/faelligkeit", {"faellig_am": "15.12.2099"}, case_url).status_code == 302
    egs = deployed.actor("egs")
    deployed.complete_task(egs, url.rsplit("/", 1)[-1], pb.anmeldung())
    with deployed.db.reading() as session:
        [task] = tasks_of_case(session, instance_of_case(case_url))
    assert task.name == pb.ANNEHMEN and task.priority == 2 and faellig(task.due_at) == "bis 15.12.2099"


def instance_of_case(case_url: str) -> int:
    return int(case_url.rsplit("/", 1)[-1])


def test_delegation_is_findable_on_the_task_page_and_in_the_inbox_row(client_for, deployed: Engine) -> None:  # type: ignore[no-untyped-def]
    egs = client_for("egs")
    url = start_case(egs)
    page = egs.get(url).get_data(as_text=True)
    assert (
        '<summary accesskey="w" aria-keyshortcuts="Alt+Shift+W">An Kollegin oder Kollegen weitergeben</summary>' in page
    )
    assert "Alt+Umschalt+W weitergeben" in page
    assert "Außer Ihnen arbeitet niemand in der Gruppe EGS am Standort 56.4" in page, "alone: say whom to ask"
    inbox = egs.get("/").get_data(as_text=True)
    link = f'href="{url}?weitergeben=1#weitergeben"'
    assert link in inbox and "Weitergeben…" in inbox
    assert 'id="weitergeben" open' in egs.get(f"{url}?weitergeben=1").get_data(as_text=True)
    lead_inbox = client_for("tl").get("/?tab=alle").get_data(as_text=True)
    assert f'href="/vorgaenge/{instance_of(deployed, url)}#aufgabe-{url.rsplit("/", 1)[-1]}">Zuweisen…' in lead_inbox
    assert "(gekürzt)" not in lead_inbox, "no '(gekürzt)' where there is no name"


@pytest.mark.parametrize(
    ("instant", "shown", "day"),
    [
        (datetime(2026, 12, 15, 23, 0, tzinfo=UTC), "bis 15.12.2026", "15.12.2026"),  # 16.12. 00:00 Berlin
        (datetime(2026, 12, 15, 22, 59, tzinfo=UTC), "bis 15.12.2026", "15.12.2026"),  # 15.12. 23:59 Berlin
        (datetime(2026, 7, 1, 12, 30, tzinfo=UTC), "bis 01.07.2026, 14:30 Uhr", "01.07.2026"),
        (None, "", ""),
    ],
)
def test_due_dates_show_the_day_people_mean(instant: datetime | None, shown: str, day: str) -> None:
    assert (faellig(instant), faellig_tag(instant)) == (shown, day)


def test_a_lead_without_group_tasks_lands_on_the_teams_work(client_for, deployed: Engine) -> None:  # type: ignore[no-untyped-def]
    """The first screen of a lead is useful: with nothing in their own groups, the inbox opens on "Alle (Leitung)";
    a tab asked for explicitly stays as asked, and a clerk still lands on the group tab."""
    start_case(client_for("egs"))
    current = re.compile(r'tab=(\w+)[^"]*" aria-current="page"')
    tl = client_for("tl")
    assert current.findall(tl.get("/").get_data(as_text=True)) == ["alle"]
    assert current.findall(tl.get("/?tab=gruppe").get_data(as_text=True)) == ["gruppe"]
    assert current.findall(client_for("egs").get("/").get_data(as_text=True)) == ["gruppe"]
