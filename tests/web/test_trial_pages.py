"""Probelauf pages: a process owner starts a trial from the modeller, works its tasks on the task page's form
and throws it away; nobody else reaches them, and no page of any demo user shows a trial."""

from __future__ import annotations

import re
from collections.abc import Callable

import lxml.html
import pytest
from flask.testing import FlaskClient

from engine.api import Engine
from engine.demo import DEMO_USERS
from tests.support import pb
from tests.support.web import csrf_token
from tests.web.test_models_pages import open_draft
from tests.web.test_offers import nav_links

WITNESS = "Probelaufzeugin"
ANMELDUNG = {
    "vorname": "Jana",
    "nachname": WITNESS,
    "geburtsdatum": "12.04.1988",
    "anliegen": "erstantrag",
    "tag_der_antragstellung": "01.12.2026",
}


def start_trial(client: FlaskClient) -> tuple[str, str]:
    """Open a draft of PB and start a trial from the modeller page; return the trial's URL and its page."""
    url, html = open_draft(client)
    assert "Probelauf starten" in html
    draft_id = url.rsplit("/", 1)[1]
    started = client.post(f"/modelle/entwuerfe/{draft_id}/probelauf", data={"csrf_token": csrf_token(html),
                                                                          "standort": "56.4"})  # fmt: skip
    assert started.status_code == 302, started.get_data(as_text=True)
    trial_url = str(started.headers["Location"])
    page = client.get(trial_url)
    assert page.status_code == 200
    return trial_url, page.get_data(as_text=True)


def task_url(html: str, name: str) -> str:
    match = re.search(r'<a href="(/modelle/probelaeufe/\d+/aufgaben/[^"]+)">' + re.escape(name) + "</a>", html)
    assert match, html
    return match.group(1)


def shown_text(html: str) -> str:
    """The text a page shows (without the search terms it echoes in links and inputs)."""
    if not html.lstrip().startswith("<"):
        return html  # an export or the metrics
    return str(lxml.html.fromstring(html).text_content())


def form_data(html: str, values: dict[str, str]) -> dict[str, str]:
    version = re.search(r'name="lock_version" value="(\d+)"', html)
    assert version
    return {"csrf_token": csrf_token(html), "lock_version": version.group(1), **values}


def test_a_process_owner_works_a_trial_through_the_task_form_and_throws_it_away(
    client_for: Callable[[str], FlaskClient],
) -> None:
    client = client_for("modeller")
    url, html = open_draft(client)
    draft_id = url.rsplit("/", 1)[1]
    refused = client.post(f"/modelle/entwuerfe/{draft_id}/probelauf", data={"standort": "56.4"})
    assert refused.status_code == 400, "no CSRF token, no trial"
    bad_site = client.post(f"/modelle/entwuerfe/{draft_id}/probelauf",
                           data={"csrf_token": csrf_token(html), "standort": "../x"})  # fmt: skip
    assert bad_site.status_code == 400

    trial_url, page = start_trial(client)
    assert "Testvorgang – kein echter Vorgang" in page and "Gruppe EGS" in page
    task = task_url(page, pb.ANMELDEN)
    form = client.get(task).get_data(as_text=True)
    assert 'id="feld-nachname"' in form and "(TT.MM.JJJJ)" in form, "the task page's own field macros"

    invalid = client.post(task, data=form_data(form, {"nachname": WITNESS}))
    assert invalid.status_code == 422
    assert "Fehler:" in invalid.get_data(as_text=True) and WITNESS in invalid.get_data(as_text=True)
    done = client.post(task, data=form_data(form, ANMELDUNG))
    assert done.status_code == 302 and done.headers["Location"] == trial_url
    after = client.get(trial_url).get_data(as_text=True)
    assert pb.ANNEHMEN in after and WITNESS in after and "erledigt (als EGS)" in after
    stale = client.post(task_url(after, pb.ANNEHMEN), data=form_data(form, {}))
    assert stale.status_code == 409, "the form of an older state of the trial"

    discard = client.post(f"{trial_url}/verwerfen", data={"csrf_token": csrf_token(after)})
    assert discard.status_code == 302 and re.fullmatch(r"/modelle/entwuerfe/\d+", discard.headers["Location"])
    assert client.get(trial_url).status_code == 404


def test_a_draft_that_cannot_run_goes_back_to_the_modeller_with_its_problems(
    client_for: Callable[[str], FlaskClient], deployed: Engine
) -> None:
    client = client_for("modeller")
    url, html = open_draft(client)
    draft_id = int(url.rsplit("/", 1)[1])
    modeller = deployed.actor("modeller")
    draft = deployed.model_draft(modeller, draft_id)
    deployed.save_model_draft(modeller, draft_id, draft.lock_version,
                              xml=draft.xml.replace('value="Durchführender"', 'value="Chef"', 1))  # fmt: skip
    started = client.post(f"/modelle/entwuerfe/{draft_id}/probelauf", data={"csrf_token": csrf_token(html),
                                                                          "standort": "56.4"})  # fmt: skip
    assert started.status_code == 302 and started.headers["Location"] == url
    page = client.get(url).get_data(as_text=True)
    assert "Der Probelauf wurde nicht gestartet" in page and "Chef" in page
    assert "Probeläufe dieses Entwurfs" not in page


@pytest.mark.parametrize("username", [name for name, _, _ in DEMO_USERS if name != "modeller"])
def test_no_page_of_any_demo_user_shows_a_trial(client_for: Callable[[str], FlaskClient], username: str) -> None:
    owner = client_for("modeller")
    trial_url, page = start_trial(owner)
    form = owner.get(task_url(page, pb.ANMELDEN)).get_data(as_text=True)
    assert owner.post(task_url(page, pb.ANMELDEN), data=form_data(form, ANMELDUNG)).status_code == 302
    key = f"PROBE-{trial_url.rsplit('/', 1)[1]}"

    client = client_for(username)
    pages = nav_links(client.get("/").get_data(as_text=True))
    pages += [f"/?tab={tab}" for tab in ("meine", "gruppe", "ueberfaellig", "alle")]
    pages += [f"/?tab=alle&suche={WITNESS}", f"/vorgaenge/suche?q={WITNESS}", f"/vorgaenge/suche?q={key}"]
    pages += [
        "/sammellisten?standort=56.4&art=EGZ&monat=2026-12",
        "/export/sammelliste?standort=56.4&art=EGZ&monat=2026-12",
    ]
    pages += ["/personalbemessung", "/stoerungen", "/metrics"]
    for href in pages:
        response = client.get(href)
        assert response.status_code < 500, (username, href)
        text = shown_text(response.get_data(as_text=True))
        assert WITNESS not in text and key not in text, (username, href)
    assert client.get(trial_url).status_code == 403, "only process owners open trials"
    assert client.post(f"{trial_url}/verwerfen", data={"csrf_token": csrf_token(page)}).status_code in (400, 403)
