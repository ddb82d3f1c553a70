"""The process owners' pages: "Modelle", a version's diagram, the modeller of a draft and its JSON endpoints."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.api import Engine
from tests.support import pb
from tests.support.web import csrf_token, login

PB = pb.PROCESS
OLD_NAME = 'name="Antrag annehmen und Identität prüfen"'
NEW_NAME = 'name="Antrag annehmen und Identität sorgfältig prüfen"'


def open_draft(client: FlaskClient) -> tuple[str, str]:
    """Open PB Antragsannahme in the modeller from "Modelle"; return the modeller URL and its page."""
    html = client.get("/modelle").get_data(as_text=True)
    response = client.post(f"/modelle/{PB}/entwuerfe", data={"csrf_token": csrf_token(html)})
    assert response.status_code == 302, response.get_data(as_text=True)
    url = str(response.headers["Location"])
    page = client.get(url)
    assert page.status_code == 200
    return url, page.get_data(as_text=True)


def meta_token(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match
    return match.group(1)


def post_json(client: FlaskClient, url: str, body: dict[str, object], token: str | None):  # type: ignore[no-untyped-def]
    headers = {"Accept": "application/json", **({"X-CSRFToken": token} if token else {})}
    return client.post(url, json=body, headers=headers)


def test_a_process_owner_lands_on_modelle_and_sees_every_process(app: Flask, client: FlaskClient) -> None:
    response = login(client, "modeller")
    assert response.headers["Location"] == "/modelle"
    html = client.get("/modelle").get_data(as_text=True)
    assert '<a href="/modelle" aria-current="page">Modelle</a>' in html
    assert "PB – Antragsannahme" in html and "Version 1" in html and "Im Modeller öffnen" in html
    assert f'href="/modelle/{PB}/versionen/1"' in html
    diagram = client.get(f"/modelle/{PB}/versionen/1")
    assert diagram.status_code == 200 and "dist/diagram.js" in diagram.get_data(as_text=True)
    assert "dist/modeller.js" not in html and "dist/modeller.js" not in diagram.get_data(as_text=True)
    assert client.get(f"/modelle/{PB}/versionen/99").status_code == 404
    assert login(app.test_client(), "egs").headers["Location"] == "/", "clerks still land on their inbox"
    assert login(app.test_client(), "tl").headers["Location"] == "/", "leads land on their inbox"
    audit = app.test_client()
    assert login(audit, "audit").headers["Location"] == "/revision/", "the audit function starts on its workbench"
    assert "Vorgang suchen" in audit.get("/vorgaenge/suche").get_data(as_text=True)


@pytest.mark.parametrize("username", ["egs", "tl", "audit"])
def test_other_users_neither_see_nor_open_the_model_pages(
    deployed: Engine, client_for: Callable[[str], FlaskClient], username: str
) -> None:
    owner = client_for("modeller")
    url, html = open_draft(owner)
    draft_id = int(url.rsplit("/", 1)[1])
    other = client_for(username)
    inbox = other.get("/").get_data(as_text=True)
    assert 'href="/modelle"' not in inbox
    token = csrf_token(inbox)
    assert other.get("/modelle").status_code == 403
    assert other.get(f"/modelle/{PB}/versionen/1").status_code == 403
    assert other.get(url).status_code == 403
    assert other.get(f"{url}/datei").status_code == 403
    assert other.get("/modelle/formulare").status_code == 403
    assert other.post(f"/modelle/{PB}/entwuerfe", data={"csrf_token": token}).status_code == 403
    assert post_json(other, url, {"xml": "<x/>", "lock_version": 1}, token).status_code == 403
    assert post_json(other, f"{url}/bereitstellen", {"comment": "x", "lock_version": 1}, token).status_code == 403
    assert other.post(f"{url}/loeschen", data={"csrf_token": token, "lock_version": "1"}).status_code == 403
    assert deployed.model_draft(deployed.actor("modeller"), draft_id).lock_version == 1


def test_the_modeller_page_saves_with_csrf_and_lock_version(
    deployed: Engine, client_for: Callable[[str], FlaskClient]
) -> None:
    owner = client_for("modeller")
    url, html = open_draft(owner)
    assert "dist/modeller.js" in html and "dist/modeller.css" in html and 'id="modeller-daten"' in html
    draft = deployed.model_draft(deployed.actor("modeller"), int(url.rsplit("/", 1)[1]))
    token = meta_token(html)
    changed = draft.xml.replace(OLD_NAME, NEW_NAME)
    assert post_json(owner, url, {"xml": changed, "lock_version": 1}, None).status_code == 400, "CSRF refused"
    assert post_json(owner, url, {"xml": changed}, token).status_code == 400
    saved = post_json(owner, url, {"xml": changed, "lock_version": 1}, token)
    assert saved.status_code == 200 and saved.get_json()["lock_version"] == 2
    stale = post_json(owner, url, {"xml": draft.xml, "lock_version": 1}, token)
    assert stale.status_code == 409
    assert "zwischenzeitlich" in stale.get_json()["message"]
    hostile = post_json(owner, url, {"xml": '<!DOCTYPE d [<!ENTITY e "x">]><d/>', "lock_version": 2}, token)
    assert hostile.status_code == 422 and "DOCTYPE" in hostile.get_json()["problems"][0]["message"]
    unnamed = post_json(owner, url, {"xml": changed, "name": " ", "lock_version": 2}, token)
    assert unnamed.status_code == 422 and unnamed.get_json()["field_errors"] == {"name": ["Bitte einen Namen angeben."]}
    named = post_json(owner, url, {"xml": changed, "name": "Prüfschritt schärfen", "lock_version": 2}, token)
    assert named.status_code == 200 and named.get_json()["lock_version"] == 3
    assert "Prüfschritt schärfen" in owner.get("/modelle").get_data(as_text=True)
    download = owner.get(f"{url}/datei")
    assert download.status_code == 200 and NEW_NAME in download.get_data(as_text=True)
    assert download.headers["Content-Disposition"] == f'attachment; filename="{PB}.bpmn"'
    assert "pb_anmeldung.json" in owner.get("/modelle/formulare").get_json()["formulare"]
    assert owner.post(f"{url}/loeschen", data={"lock_version": "3"}).status_code == 400, "CSRF refused"
    assert owner.post(f"{url}/loeschen", data={"csrf_token": token, "lock_version": "2"}).status_code == 409
    assert owner.post(f"{url}/loeschen", data={"csrf_token": token, "lock_version": "3"}).status_code == 302
    assert owner.get(url).status_code == 404


def test_deploying_from_the_modeller_names_the_broken_element_or_makes_a_version(
    deployed: Engine, client_for: Callable[[str], FlaskClient]
) -> None:
    owner = client_for("modeller")
    url, html = open_draft(owner)
    token = meta_token(html)
    draft = deployed.model_draft(deployed.actor("modeller"), int(url.rsplit("/", 1)[1]))
    no_role = draft.xml.replace(
        '<spiffworkflow:property name="formJsonSchemaFilename" value="pb_antragsannahme.json" />'
        '<spiffworkflow:property name="egsRole" value="Durchführender" />',
        '<spiffworkflow:property name="formJsonSchemaFilename" value="pb_antragsannahme.json" />',
    )
    assert post_json(owner, url, {"xml": no_role, "lock_version": 1}, token).status_code == 200
    assert post_json(owner, f"{url}/bereitstellen", {"comment": "x", "lock_version": 2}, None).status_code == 400
    missing = post_json(owner, f"{url}/bereitstellen", {"comment": " ", "lock_version": 2}, token)
    assert missing.status_code == 422 and "kommentar" in missing.get_json()["field_errors"]
    broken = post_json(owner, f"{url}/bereitstellen", {"comment": "Rolle entfernt", "lock_version": 2}, token)
    assert broken.status_code == 422
    assert [p["element_id"] for p in broken.get_json()["problems"]] == ["Task_Antragsannahme"]
    fixed = draft.xml.replace(OLD_NAME, NEW_NAME)
    assert post_json(owner, url, {"xml": fixed, "lock_version": 2}, token).status_code == 200
    done = post_json(owner, f"{url}/bereitstellen", {"comment": "Name geschärft", "lock_version": 3}, token)
    assert done.status_code == 200 and done.get_json()["version"] == 2 and done.get_json()["url"] == "/modelle"
    page = owner.get("/modelle").get_data(as_text=True)
    assert "Version 2 ist jetzt live" in page and "„Name geschärft“" in page and "Ältere Versionen (1)" in page
