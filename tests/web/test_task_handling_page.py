"""Drafts ("Speichern"), delegation with a reason, and priority/due date set by leads in the web app."""

from __future__ import annotations

from engine.api import Engine
from tests.support.records import audit_events, open_task
from tests.support.web import instance_of, post_form, start_case


def test_saved_draft_is_shown_again_after_logging_in_anew(client_for, deployed: Engine) -> None:
    egs = client_for("egs")
    url = start_case(egs)
    saved = post_form(egs, url, {"aktion": "speichern", "vorname": "Jana", "nachname": "", "bemerkung": "kommt wieder"})
    assert saved.status_code == 302 and saved.headers["Location"] == url
    assert open_task(deployed, url.rsplit("/", 1)[-1]) is not None, "saving does not complete the task"

    again = client_for("egs").get(url).get_data(as_text=True)  # a new session
    assert "Ihr Entwurf vom" in again
    assert 'name="vorname" value="Jana"' in again
    assert "kommt wieder</textarea>" in again
    assert [e.details["fields"] for e in audit_events(deployed, "draft_saved")] == [
        ["bemerkung", "nachname", "vorname"]
    ]


def test_delegate_to_a_colleague_from_the_task_page(client_for, make_user, deployed: Engine) -> None:
    make_user("egs2", ("EGS", "56.4"))
    egs = client_for("egs")
    url = start_case(egs)
    page = egs.get(url).get_data(as_text=True)
    assert '<option value="egs2">Egs2</option>' in page and '<option value="lsb"' not in page
    refused = post_form(egs, f"{url}/weitergeben", {"an": "egs2", "grund": " "}, page_url=url)
    assert refused.status_code == 422
    done = post_form(egs, f"{url}/weitergeben", {"an": "egs2", "grund": "Urlaub"}, page_url=url)
    assert done.status_code == 302
    task = open_task(deployed, url.rsplit("/", 1)[-1])
    assert task is not None and task.assignee_id is not None
    assert "Urlaub" in client_for("egs2", "pw").get(f"/vorgaenge/{instance_of(deployed, url)}").get_data(as_text=True)


def test_leads_set_priority_and_due_date_on_the_case_page(client_for, deployed: Engine) -> None:
    egs = client_for("egs")
    url = start_case(egs)
    instance_id = instance_of(deployed, url)
    task_uuid = url.rsplit("/", 1)[-1]
    case_url = f"/vorgaenge/{instance_id}"
    assert 'name="prioritaet"' not in egs.get(case_url).get_data(as_text=True), "clerks get no lead controls"
    assert post_form(egs, f"{url}/prioritaet", {"prioritaet": "3"}, page_url=url).status_code == 403

    tl = client_for("tl")
    assert (
        post_form(tl, f"{url}/prioritaet", {"prioritaet": "3", "zurueck": case_url}, page_url=case_url).status_code
        == 302
    )
    assert post_form(tl, f"{url}/faelligkeit", {"faellig_am": "31.12.2099"}, page_url=case_url).status_code == 302
    bad = post_form(tl, f"{url}/faelligkeit", {"faellig_am": "31.13.2099"}, page_url=case_url)
    assert bad.status_code == 422
    task = open_task(deployed, task_uuid)
    assert task is not None and task.priority == 3 and task.due_at is not None
    html = tl.get(case_url).get_data(as_text=True)
    assert "Priorität sehr hoch" in html and "fällig bis 31.12.2099" in html
