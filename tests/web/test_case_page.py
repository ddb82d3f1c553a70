"""The case page shows open deadlines and the cases linked to this one."""

from __future__ import annotations

from engine import clock
from engine.service import Engine
from tests import pb


def test_open_deadlines_are_listed(client_for, deployed: Engine) -> None:
    egs = deployed.actor("egs")
    case = deployed.start_case(egs, pb.PROCESS)
    pb.walk_to_documents_requested(deployed, egs, case.instance_id, frist_tage=14)
    html = client_for("egs").get(f"/vorgaenge/{case.instance_id}").get_data(as_text=True)
    assert '<h2 id="fristen-titel">Offene Fristen</h2>' in html
    [deadline] = deployed.case_view(egs, case.instance_id).deadlines
    assert deadline.due_at.astimezone(clock.BERLIN).strftime("%d.%m.%Y %H:%M") in html


def test_linked_cases_are_shown_only_to_those_who_may_see_them(client_for, deployed: Engine) -> None:
    egs = deployed.actor("egs")
    visit = deployed.start_case(egs, "besuchersteuerung")
    claim = deployed.start_case(egs, pb.PROCESS, data={"bezugsvorgang": visit.business_key})
    html = client_for("egs").get(f"/vorgaenge/{claim.instance_id}").get_data(as_text=True)
    assert "Verbundene Vorgänge" in html and f'href="/vorgaenge/{visit.instance_id}"' in html
    other_site = client_for("fb50").get(f"/vorgaenge/{visit.instance_id}")
    assert other_site.status_code == 403
