"""Task forms through the web: validation (422), unknown fields, optimistic locking (409), CSRF, claims."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.api import Engine
from engine.auth import system_actor
from tests.support.records import audit_events, case_row, open_task
from tests.support.web import ANMELDUNG, csrf_token, field_error, instance_of, lock_version, post_form, start_case

DATA = Path(__file__).resolve().parent / "data"


def _assert_nothing_stored(engine: Engine, task_url: str, lock: int) -> None:
    task_uuid = task_url.rsplit("/", 1)[-1]
    assert open_task(engine, task_uuid) is not None, "the task is still open"
    assert case_row(engine, instance_of(engine, task_url)).lock_version == lock
    assert audit_events(engine, "complete") == []


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("vorname", "", "Pflichtfeld – bitte ausfüllen."),
        ("geburtsdatum", "31.02.1990", "Den 31.02.1990 gibt es nicht – bitte ein gültiges Datum eingeben."),
        ("geburtsdatum", "1990-2-3", "Bitte ein Datum im Format TT.MM.JJJJ eingeben."),
        ("tag_der_antragstellung", "01.01.2099", "Das Datum darf nicht in der Zukunft liegen."),
    ],
)
def test_invalid_input_shows_the_form_again_with_the_error_at_the_field(
    client_for, deployed: Engine, field: str, typed: str, message: str
) -> None:
    egs = client_for("egs")
    url = start_case(egs)

    response = post_form(egs, url, {**ANMELDUNG, "nachname": "Muster", field: typed})

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, field) == f"Fehler: {message}"
    assert re.search(rf'id="feld-{field}"[^>]*aria-invalid="true"', html)
    assert f'<a href="#feld-{field}">' in html, "the error summary links to the field"
    assert "<title>Fehler: Besucher anmelden" in html
    # What the clerk typed is still there, including the invalid value.
    assert 'name="nachname" value="Muster"' in html
    assert f'name="{field}" value="{typed}"' in html or field == "vorname"
    assert re.search(r'value="erstantrag" checked', html)
    _assert_nothing_stored(deployed, url, 1)


def test_unknown_field_is_refused_and_nothing_stored(client_for, deployed: Engine) -> None:
    egs = client_for("egs")
    url = start_case(egs)

    response = post_form(egs, url, {**ANMELDUNG, "sachbearbeiter_rolle": "admin"})

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "sachbearbeiter_rolle: Unbekanntes Feld." in html
    _assert_nothing_stored(deployed, url, 1)


@pytest.mark.parametrize("username", ["lsb", "fb50"])
def test_other_groups_can_neither_open_nor_complete_an_egs_task(client_for, deployed: Engine, username: str) -> None:
    url = start_case(client_for("egs"))
    task_uuid = url.rsplit("/", 1)[-1]
    intruder = client_for(username)

    page = intruder.get(url)
    assert page.status_code == 403
    assert "Berechtigung" in page.get_data(as_text=True)
    assert "Besucher anmelden und Anliegen erfassen</h1>" not in page.get_data(as_text=True)

    token = csrf_token(intruder.get("/").get_data(as_text=True))
    posted = intruder.post(url, data={**ANMELDUNG, "csrf_token": token, "lock_version": "1"})
    assert posted.status_code == 403

    denied = [e for e in audit_events(deployed, "access_denied", actor=username) if e.task_uuid == task_uuid]
    assert [e.details["operation"] for e in denied] == ["view_task", "complete"]
    _assert_nothing_stored(deployed, url, 1)


def test_case_of_another_site_is_forbidden_and_audited(client_for, deployed: Engine) -> None:
    instance_id = instance_of(deployed, start_case(client_for("egs")))

    response = client_for("fb50").get(f"/vorgaenge/{instance_id}")

    assert response.status_code == 403
    assert "Probstfeld" not in response.get_data(as_text=True)
    assert [e.instance_id for e in audit_events(deployed, "access_denied", actor="fb50")] == [instance_id]


def test_stale_lock_version_is_a_conflict_and_nothing_is_stored(client_for, deployed: Engine) -> None:
    egs = client_for("egs")
    url = start_case(egs)

    response = post_form(egs, url, {**ANMELDUNG, "lock_version": "0"})

    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "zwischenzeitlich" in html
    assert f'href="{url}">Aktuellen Stand neu laden' in html
    _assert_nothing_stored(deployed, url, 1)
    assert [e.actor for e in audit_events(deployed, "conflict")] == ["egs"]


def test_double_submit_first_wins_second_gets_conflict(client_for, deployed: Engine) -> None:
    egs = client_for("egs")
    url = start_case(egs)
    html = egs.get(url).get_data(as_text=True)
    payload = {**ANMELDUNG, "csrf_token": csrf_token(html), "lock_version": str(lock_version(html))}

    first = egs.post(url, data=payload)
    second = egs.post(url, data={**payload, "vorname": "Janina"})

    assert first.status_code == 302
    assert second.status_code == 409
    assert "nicht mehr offen" in second.get_data(as_text=True)
    completes = audit_events(deployed, "complete")
    assert len(completes) == 1 and completes[0].details["data"]["vorname"] == "Jana"


def test_post_without_csrf_token_is_refused(client_for, deployed: Engine) -> None:
    egs = client_for("egs")
    url = start_case(egs)

    response = post_form(egs, url, {**ANMELDUNG, "csrf_token": None})

    assert response.status_code == 400
    assert "Sicherheitsprüfung fehlgeschlagen – bitte Seite neu laden" in response.get_data(as_text=True)
    _assert_nothing_stored(deployed, url, 1)


def test_post_without_lock_version_is_refused(client_for, deployed: Engine) -> None:
    egs = client_for("egs")
    url = start_case(egs)

    response = post_form(egs, url, {**ANMELDUNG, "lock_version": None})

    assert response.status_code == 400
    _assert_nothing_stored(deployed, url, 1)


def test_form_prefills_defaults_and_today(client_for, deployed: Engine) -> None:
    from engine import clock

    egs = client_for("egs")
    html = egs.get(start_case(egs)).get_data(as_text=True)

    today = clock.today_berlin().strftime("%d.%m.%Y")
    assert f'name="tag_der_antragstellung" value="{today}"' in html
    assert 'placeholder="TT.MM.JJJJ"' in html
    assert '<label for="feld-vorname">Vorname <span class="pflicht">(Pflichtfeld)</span></label>' in html
    assert 'aria-describedby="feld-tag_der_antragstellung-hilfe"' in html
    assert 'name="lock_version" value="1"' in html


def test_claim_and_release_show_who_works_on_a_task(client_for, make_user, deployed: Engine) -> None:
    make_user("egs2", ("EGS", "56.4"))
    egs = client_for("egs")
    colleague = client_for("egs2", "pw")
    url = start_case(egs)

    claimed = post_form(egs, f"{url}/uebernehmen", {}, page_url=url)
    assert claimed.status_code == 302 and claimed.headers["Location"] == url
    own_page = egs.get(url).get_data(as_text=True)
    assert "Sie bearbeiten diese Aufgabe." in own_page and ">Freigeben</button>" in own_page
    assert "<td>egs</td>" in egs.get("/?tab=meine").get_data(as_text=True), "'Meine Aufgaben' shows it"
    assert url not in colleague.get("/").get_data(as_text=True), "it left the group list"

    other_page = colleague.get(url).get_data(as_text=True)
    assert "Diese Aufgabe bearbeitet: <strong>egs</strong>" in other_page
    assert '<fieldset class="formular-felder" disabled>' in other_page
    assert ">Übernehmen</button>" not in other_page
    assert post_form(colleague, f"{url}/uebernehmen", {}, page_url=url).status_code == 409
    assert post_form(colleague, url, ANMELDUNG).status_code == 409

    assert post_form(egs, f"{url}/freigeben", {}, page_url=url).status_code == 302
    assert post_form(colleague, f"{url}/uebernehmen", {}, page_url=url).status_code == 302
    assert [e.actor for e in audit_events(deployed, "claim")] == ["egs", "egs2"]
    assert [e.actor for e in audit_events(deployed, "unclaim")] == ["egs"]
    _assert_nothing_stored(deployed, url, 1)


def test_immutable_claim_day_is_read_only_and_cannot_be_changed(client_for, deployed: Engine) -> None:
    deployed.deploy_paths([DATA / "unveraenderlich.bpmn"], system_actor("test"), forms_dir=DATA)
    egs = client_for("egs")
    first = start_case(egs, "web_unveraenderlich", key="TEST-1")
    first_page = egs.get(first).get_data(as_text=True)
    assert 'name="anzahl_personen" value="1"' in first_page, "schema default"
    assert '<p class="mehrzeilig">Erste Zeile.\nZweite Zeile mit &lt;b&gt;Markup&lt;/b&gt;.</p>' in first_page
    filled = {"tag_der_antragstellung": "03.02.2025", "anliegen": "erstantrag", "anzahl_personen": "3"}
    assert post_form(egs, first, filled).status_code == 302

    second = [t for t in deployed.inbox(deployed.actor("egs")) if t.name == "Angaben nachtragen"][0]
    url = f"/aufgaben/{second.task_uuid}"
    html = egs.get(url).get_data(as_text=True)
    assert re.search(r'name="tag_der_antragstellung" value="03\.02\.2025"[^>]*readonly', html)
    assert re.search(r'id="feld-anliegen" value="Erstantrag" readonly', html)
    assert '<input type="hidden" name="anliegen" value="erstantrag">' in html
    assert "Bereits festgehalten – kann nicht mehr geändert werden." in html
    assert 'name="anzahl_personen" value="3"' in html, "the case's value is prefilled"
    lock = case_row(deployed, second.instance_id).lock_version

    tampered = post_form(egs, url, {"tag_der_antragstellung": "04.02.2025", "anliegen": "sonstiger_antrag"})

    assert tampered.status_code == 422
    page = tampered.get_data(as_text=True)
    message = "Fehler: Dieser Wert ist bereits festgehalten und darf nicht geändert werden."
    assert field_error(page, "tag_der_antragstellung") == message
    assert field_error(page, "anliegen") == message
    assert 'name="tag_der_antragstellung" value="03.02.2025"' in page, "the form shows the recorded day again"
    assert case_row(deployed, second.instance_id).lock_version == lock

    assert post_form(egs, url, {"tag_der_antragstellung": "03.02.2025", "anliegen": "erstantrag"}).status_code == 302
    row = case_row(deployed, second.instance_id)
    assert (row.status, str(row.claim_date)) == ("completed", "2025-02-03")
