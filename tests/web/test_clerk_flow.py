"""A clerk moving through a case: the next task offered after a step, implicit claims, Back after completing."""

from __future__ import annotations

from engine.api import Engine
from tests.support.records import audit_events, open_task
from tests.support.web import ANMELDUNG, csrf_token, instance_of, lock_version, post_form, start_case

ANNAHME = "Antrag annehmen und Identität prüfen"


def test_completing_offers_the_next_task_of_the_case_claimed_on_click(client_for, deployed: Engine) -> None:
    egs = client_for("egs")
    url = start_case(egs)
    instance_id = instance_of(deployed, url)

    done = post_form(egs, url, ANMELDUNG)

    assert done.status_code == 302 and done.headers["Location"] == f"/aufgaben/weiter/{instance_id}"
    offer = egs.get(done.headers["Location"]).get_data(as_text=True)
    assert "Schritt abgeschlossen" in offer
    assert "mit dem Abschließen haben Sie sie übernommen" in offer, "the implicit claim is said"
    assert f"Weiter mit: {ANNAHME}" in offer
    next_task = next(t for t in deployed.open_tasks(deployed.actor("egs"), instance_id) if t.name == ANNAHME)
    assert f'action="/aufgaben/{next_task.task_uuid}/uebernehmen"' in offer

    claimed = egs.post(f"/aufgaben/{next_task.task_uuid}/uebernehmen", data={"csrf_token": csrf_token(offer)})

    assert claimed.status_code == 302 and claimed.headers["Location"] == f"/aufgaben/{next_task.task_uuid}"
    row = open_task(deployed, next_task.task_uuid)
    assert row is not None and row.assignee_id == deployed.actor("egs").user_id
    [complete] = audit_events(deployed, "complete")
    assert complete.details["claimed_on_completion"] is True
    history = egs.get(f"/vorgaenge/{instance_id}").get_data(as_text=True)
    assert "(beim Abschließen übernommen)" in history


def test_a_claimed_task_completes_without_the_implicit_claim_note(client_for, deployed: Engine) -> None:
    egs = client_for("egs")
    url = start_case(egs)
    assert post_form(egs, f"{url}/uebernehmen", {}, page_url=url).status_code == 302

    done = post_form(egs, url, ANMELDUNG)

    offer = egs.get(done.headers["Location"]).get_data(as_text=True)
    assert "Schritt abgeschlossen" in offer and "mit dem Abschließen" not in offer
    assert "claimed_on_completion" not in audit_events(deployed, "complete")[0].details


def test_the_next_step_page_offers_only_what_the_user_may_work(client_for, deployed: Engine) -> None:
    egs = client_for("egs")
    url = start_case(egs)
    instance_id = instance_of(deployed, url)
    post_form(egs, url, ANMELDUNG)

    for username in ("lsb", "fb50", "tl"):
        response = client_for(username).get(f"/aufgaben/weiter/{instance_id}")
        assert response.status_code == 302 and response.headers["Location"] == "/", username
    assert client_for("egs").get("/aufgaben/weiter/999999").headers["Location"] == "/"


def test_back_to_a_completed_task_leads_to_the_case_and_is_no_conflict(client_for, deployed: Engine) -> None:
    egs = client_for("egs")
    url = start_case(egs)
    instance_id = instance_of(deployed, url)
    html = egs.get(url).get_data(as_text=True)
    payload = {**ANMELDUNG, "csrf_token": csrf_token(html), "lock_version": str(lock_version(html))}
    assert egs.post(url, data=payload).status_code == 302

    for _ in range(4):  # the back button, again and again
        back = egs.get(url)
        assert back.status_code == 302 and back.headers["Location"] == f"/vorgaenge/{instance_id}"
    case_page = egs.get(f"/vorgaenge/{instance_id}").get_data(as_text=True)
    assert "Diese Aufgabe ist bereits erledigt" in case_page
    assert audit_events(deployed, "conflict") == [], "reading a finished task is not a conflict"
    assert "Konflikt" not in case_page

    resent = egs.post(url, data=payload)  # the form sent a second time: still refused, pointing at the case
    assert resent.status_code == 409
    assert f'href="/vorgaenge/{instance_id}">Aktuellen Stand neu laden' in resent.get_data(as_text=True)
    assert f'href="{url}"' not in resent.get_data(as_text=True), "no link back to the dead task"


def test_unknown_task_is_still_not_found(client_for) -> None:  # type: ignore[no-untyped-def]
    assert client_for("egs").get("/aufgaben/00000000-0000-0000-0000-000000000000").status_code == 404


def test_a_second_case_with_the_same_key_starts_after_a_warning(client_for, deployed: Engine) -> None:
    egs = client_for("egs")
    first = instance_of(deployed, start_case(egs, key="07402//0097733"))
    html = egs.get("/vorgaenge/neu").get_data(as_text=True)
    form = {"csrf_token": csrf_token(html), "prozess": "pb_antragsannahme", "standort": "56.4"}

    warned = egs.post("/vorgaenge/neu", data={**form, "geschaeftszeichen": "07402//0097733"})

    assert warned.status_code == 200
    page = warned.get_data(as_text=True)
    assert "Es gibt schon einen Vorgang mit dem Geschäftszeichen 07402//0097733" in page
    assert f'href="/vorgaenge/{first}">07402//0097733</a>' in page
    assert 'name="bestaetigt" value="07402//0097733"' in page and "Trotzdem starten" in page
    assert len(audit_events(deployed, "start")) == 1, "nothing started yet"

    other_key = egs.post(
        "/vorgaenge/neu", data={**form, "geschaeftszeichen": "07402//0097744", "bestaetigt": "07402//0097733"}
    )
    assert other_key.status_code == 302, "a new key needs no confirmation"
    confirmed = egs.post(
        "/vorgaenge/neu", data={**form, "geschaeftszeichen": "07402//0097733", "bestaetigt": "07402//0097733"}
    )
    assert confirmed.status_code == 302 and confirmed.headers["Location"].startswith("/aufgaben/")
    assert [e.details["business_key"] for e in audit_events(deployed, "start")].count("07402//0097733") == 2


def test_the_warning_names_only_cases_the_user_may_open(client_for, deployed: Engine) -> None:
    from tests.support.cases import CaseDriver

    CaseDriver(deployed, "fb50_eingangsservice", site="56.6", business_key="07402//0097755")
    egs = client_for("egs")
    html = egs.get("/vorgaenge/neu").get_data(as_text=True)
    data = {"csrf_token": csrf_token(html), "prozess": "pb_antragsannahme", "standort": "56.4",
            "geschaeftszeichen": "07402//0097755"}  # fmt: skip
    assert egs.post("/vorgaenge/neu", data=data).status_code == 302, "a case at another site stays unmentioned"


def test_per_document_tasks_show_their_document_in_inbox_case_and_task_page(client_for, deployed: Engine) -> None:
    from tests.support import pb
    from tests.support.cases import CaseDriver

    egs_actor = deployed.actor("egs")
    case = CaseDriver(deployed, pb.PROCESS)
    pb.walk_to_completeness_check(deployed, egs_actor, case.instance_id)
    case.complete(
        pb.VOLLSTAENDIGKEIT_PRUEFEN, {**pb.UNVOLLSTAENDIG, "fehlende_unterlagen": ["kontoauszuege", "mietvertrag"]}
    )
    case.complete(pb.ANFORDERN, pb.anforderung())
    egs = client_for("egs")

    inbox = egs.get("/").get_data(as_text=True)
    case_page = egs.get(f"/vorgaenge/{case.instance_id}").get_data(as_text=True)
    for page in (inbox, case_page):
        assert f'{pb.EINGANG_ERFASSEN}<span class="bezug"> – Mietvertrag</span></a>' in page
        assert f'{pb.EINGANG_ERFASSEN}<span class="bezug"> – Kontoauszüge der letzten drei Monate</span></a>' in page
    task = next(t for t in deployed.inbox(egs_actor) if t.label == "Mietvertrag")
    assert '<h1>Eingang der Unterlage erfassen<span class="bezug"> – Mietvertrag</span></h1>' in egs.get(
        f"/aufgaben/{task.task_uuid}"
    ).get_data(as_text=True)
