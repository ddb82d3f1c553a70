"""The bell in the header, the list of notifications, marking read (CSRF) and the e-mail choice on Mein Konto."""

from __future__ import annotations

import re

from engine.api import Engine
from engine.auth import system_actor
from tests.support import pb
from tests.support.web import csrf_token, post_form

BELL = re.compile(r'id="glocke-zahl">(\d+)<span class="visually-hidden"> ungelesen</span>')

POST_ROOM = system_actor("posteingang")  # cases arrive from outside: news to every clerk of the group


def bell_count(html: str) -> int:
    match = BELL.search(html)
    return int(match.group(1)) if match else 0


def test_the_bell_counts_unread_notifications_and_names_itself(deployed: Engine, client_for) -> None:  # type: ignore[no-untyped-def]
    egs = client_for("egs")
    html = egs.get("/").get_data(as_text=True)
    assert bell_count(html) == 0
    assert '<span class="visually-hidden">Benachrichtigungen</span>' in html, "a name for screen readers"
    deployed.start_case(POST_ROOM, pb.PROCESS, system=True)
    deployed.start_case(POST_ROOM, pb.PROCESS, system=True)
    assert bell_count(egs.get("/").get_data(as_text=True)) == 2
    assert bell_count(client_for("lsb").get("/").get_data(as_text=True)) == 0


def test_the_list_links_to_the_task_and_marks_read(deployed: Engine, client_for) -> None:  # type: ignore[no-untyped-def]
    egs = client_for("egs")
    case = deployed.start_case(POST_ROOM, pb.PROCESS, system=True, business_key="07402//0044444")
    [task] = deployed.open_tasks(deployed.actor("egs"), case.instance_id)
    page = egs.get("/benachrichtigungen")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Neue Aufgabe für Ihre Gruppe" in html and f'href="/aufgaben/{task.task_uuid}"' in html
    assert egs.get(f"/aufgaben/{task.task_uuid}").status_code == 200, "the link is not refused"
    [key] = re.findall(r'action="/benachrichtigungen/([an]\d+)/gelesen"', html)
    refused = egs.post(f"/benachrichtigungen/{key}/gelesen", data={})
    assert refused.status_code == 400, "no CSRF token, no change"
    assert bell_count(egs.get("/").get_data(as_text=True)) == 1
    done = post_form(egs, f"/benachrichtigungen/{key}/gelesen", {}, page_url="/benachrichtigungen")
    assert done.status_code == 302
    assert bell_count(egs.get("/").get_data(as_text=True)) == 0
    assert "Keine ungelesenen Benachrichtigungen" in egs.get("/benachrichtigungen").get_data(as_text=True)


def test_mark_all_read_and_someone_elses_notification(deployed: Engine, client_for) -> None:  # type: ignore[no-untyped-def]
    egs, lsb = client_for("egs"), client_for("lsb")
    deployed.start_case(POST_ROOM, pb.PROCESS, system=True)
    html = egs.get("/benachrichtigungen").get_data(as_text=True)
    [key] = re.findall(r'action="/benachrichtigungen/([an]\d+)/gelesen"', html)
    foreign = post_form(lsb, f"/benachrichtigungen/{key}/gelesen", {}, page_url="/benachrichtigungen")
    assert foreign.status_code == 404
    assert post_form(egs, "/benachrichtigungen/alle-gelesen", {}, page_url="/benachrichtigungen").status_code == 302
    assert bell_count(egs.get("/").get_data(as_text=True)) == 0
    assert egs.get("/benachrichtigungen?nach=kaputt").status_code == 400


def test_the_mail_choice_on_the_account_page(deployed: Engine, client_for) -> None:  # type: ignore[no-untyped-def]
    egs = client_for("egs")
    page = egs.get("/konto").get_data(as_text=True)
    assert "Benachrichtigungen per E-Mail" in page and "nicht eingerichtet" in page
    bad = post_form(egs, "/benachrichtigungen/email", {"mail_modus": "sofort", "mail_adresse": "nein"}, "/konto")
    assert bad.status_code == 422 and "gültige E-Mail-Adresse" in bad.get_data(as_text=True)
    ok = post_form(egs, "/benachrichtigungen/email", {"mail_modus": "taeglich", "mail_adresse": "egs@example.org"},
                   "/konto")  # fmt: skip
    assert ok.status_code == 302
    page = egs.get("/konto").get_data(as_text=True)
    assert 'value="taeglich" checked' in page and 'value="egs@example.org"' in page
    assert egs.post("/benachrichtigungen/email", data={"mail_modus": "keine"}).status_code == 400, "CSRF"
    assert csrf_token(page)
