"""The case page shows open deadlines and the cases linked to this one."""

from __future__ import annotations

from datetime import timedelta

from engine import clock
from engine.api import Engine
from tests.support import pb


def test_open_deadlines_are_listed(client_for, deployed: Engine) -> None:
    egs = deployed.actor("egs")
    case = deployed.start_case(egs, pb.PROCESS)
    pb.walk_to_documents_requested(deployed, egs, case.instance_id, frist_tage=14)
    html = client_for("egs").get(f"/vorgaenge/{case.instance_id}").get_data(as_text=True)
    assert '<h2 id="fristen-titel">Offene Fristen</h2>' in html
    [deadline] = deployed.case_view(egs, case.instance_id).deadlines
    meant = (clock.today_berlin() + timedelta(days=14)).strftime("%d.%m.%Y")  # stored as the next day, 00:00
    assert deadline.due_at.astimezone(clock.BERLIN).strftime("%H:%M") == "00:00"
    assert f"Frist läuft bis {meant} – danach: „Frist abgelaufen“" in html, "a future deadline is not 'abgelaufen'"
    assert "00:00" not in html.split('id="fristen-titel"')[1].split("</section>")[0]


def test_linked_cases_are_shown_only_to_those_who_may_see_them(client_for, deployed: Engine) -> None:
    egs = deployed.actor("egs")
    visit = deployed.start_case(egs, "besuchersteuerung")
    claim = deployed.start_case(egs, pb.PROCESS, data={"bezugsvorgang": visit.business_key})
    html = client_for("egs").get(f"/vorgaenge/{claim.instance_id}").get_data(as_text=True)
    assert "Verbundene Vorgänge" in html and f'href="/vorgaenge/{visit.instance_id}"' in html
    other_site = client_for("fb50").get(f"/vorgaenge/{visit.instance_id}")
    assert other_site.status_code == 403


def test_inbox_filters_by_task_and_assignee_from_the_url(client_for, deployed: Engine) -> None:
    egs = deployed.actor("egs")
    first = deployed.start_case(egs, pb.PROCESS, business_key="07402//0097001")
    deployed.start_case(egs, pb.PROCESS, business_key="07402//0097002")
    [task] = deployed.open_tasks(egs, first.instance_id)
    deployed.claim(egs, task.task_uuid)
    client = client_for("egs")
    page = client.get("/").get_data(as_text=True)
    assert f'<option value="{pb.ANMELDEN}">' in page and '<option value="egs">' in page
    mine = client.get("/?tab=meine&bearbeiter=egs").get_data(as_text=True)
    assert "07402//0097001" in mine and "07402//0097002" not in mine
    by_task = client.get(f"/?aufgabe={pb.ANMELDEN}").get_data(as_text=True)
    assert "07402//0097002" in by_task
    assert "07402//0097002" not in client.get(f"/?aufgabe={pb.ANNEHMEN}").get_data(as_text=True)


def test_documents_of_the_case_are_listed_on_task_and_case_page(client_for, deployed: Engine) -> None:
    egs = deployed.actor("egs")
    case = deployed.start_case(egs, pb.PROCESS)
    pb.walk_to_completeness_check(deployed, egs, case.instance_id)
    [task] = deployed.open_tasks(egs, case.instance_id)
    client = client_for("egs")
    for url in (f"/aufgaben/{task.task_uuid}", f"/vorgaenge/{case.instance_id}"):
        html = client.get(url).get_data(as_text=True)
        assert '<h2 id="unterlagen-titel">Unterlagen</h2>' in html
        assert "<dt>Angenommene Anlagen</dt>" in html


def test_the_site_head_opens_every_case_of_her_site_from_the_leads_tab(client_for, deployed: Engine) -> None:
    """Regression: the FDL got 403 on every case without an FDL lane (e.g. PB Antragsannahme)."""
    case = deployed.start_case(deployed.actor("egs"), pb.PROCESS)
    fdl = client_for("fdl")
    leads_tab = fdl.get("/?tab=alle").get_data(as_text=True)
    assert f'href="/vorgaenge/{case.instance_id}"' in leads_tab
    page = fdl.get(f"/vorgaenge/{case.instance_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Priorität" in html and "Fällig am" in html, "the site's lead steers its tasks from the case page"
    assert 'href="/aufgaben/' not in html, "but does not work EGS tasks herself"
    other_site = deployed.start_case(deployed.actor("egs"), pb.PROCESS, site="56.4")
    assert client_for("tl").get(f"/vorgaenge/{other_site.instance_id}").status_code == 200


def test_steering_changes_read_in_words_in_the_history(client_for, deployed: Engine) -> None:
    case = deployed.start_case(deployed.actor("egs"), pb.PROCESS)
    task = deployed.open_tasks(deployed.actor("egs"), case.instance_id)[0].task_uuid
    deployed.set_priority(deployed.actor("tl"), task, 2)
    deployed.set_due(deployed.actor("tl"), task, clock.parse_iso("2025-05-06T23:59:00+02:00"))
    html = client_for("tl").get(f"/vorgaenge/{case.instance_id}").get_data(as_text=True)
    assert "Priorität geändert" in html and "Fälligkeit geändert" in html
    assert '<span class="feldname">Priorität:</span> normal → hoch' in html
    assert '<span class="feldname">Fällig am:</span> – → 06.05.2025 23:59' in html
