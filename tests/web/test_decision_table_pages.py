"""Decision tables on the process owners' pages: listed on "Modelle", opened in the DMN editor (its own bundle),
saved, downloaded, deployed and deleted through JSON and form posts – only by process owners, only with CSRF."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from engine.api import Engine
from tests.support.web import csrf_token
from tests.web.test_models_pages import meta_token, post_json

AKTE = "umstellung_akte.dmn"
DOXIS_SET = 'konfig("umstellung.doxis_start") not in ("", None)'


def open_table(client: FlaskClient, filename: str = AKTE) -> tuple[str, str]:
    """Open a decision table in the DMN editor from "Modelle"; return the editor URL and its page."""
    html = client.get("/modelle").get_data(as_text=True)
    response = client.post(
        f"/modelle/entscheidungstabellen/{filename}/entwuerfe", data={"csrf_token": csrf_token(html)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    url = str(response.headers["Location"])
    page = client.get(url)
    assert page.status_code == 200
    return url, page.get_data(as_text=True)


def test_modelle_lists_the_tables_and_the_editor_loads_only_its_own_bundle(
    client_for: Callable[[str], FlaskClient],
) -> None:
    owner = client_for("modeller")
    html = owner.get("/modelle").get_data(as_text=True)
    assert "Entscheidungstabellen (DMN)" in html and "(umstellung_akte.dmn)" in html
    assert "verwendet von PB – Antragsannahme" in html and "von keinem bereitgestellten Prozess verwendet" in html
    assert "Im DMN-Editor öffnen" in html and "dist/dmn-editor.js" not in html
    url, page = open_table(owner)
    assert url.startswith("/modelle/dmn-entwuerfe/")
    assert "dist/dmn-editor.js" in page and "dist/dmn-editor.css" in page and "dist/modeller.js" not in page
    assert 'id="dmn-daten"' in page and "Zuarbeit bei der Führung der Leistungs- und IFK-Akten (live Version 1)" in page
    assert "Entwurf auf Basis von Version 1" in owner.get("/modelle").get_data(as_text=True)
    download = owner.get(f"{url}/datei")
    assert download.headers["Content-Disposition"] == f'attachment; filename="{AKTE}"'
    assert DOXIS_SET.replace('"', "&quot;") not in download.get_data(as_text=True)
    assert DOXIS_SET in download.get_data(as_text=True)
    draft_id = url.rsplit("/", 1)[1]
    assert owner.get(f"/modelle/entwuerfe/{draft_id}").status_code == 404, "no BPMN modeller for a table draft"
    assert owner.get("/modelle/dmn-entwuerfe/9999").status_code == 404


def test_save_conflict_refusal_and_deploy_through_json(
    deployed: Engine, client_for: Callable[[str], FlaskClient]
) -> None:
    owner = client_for("modeller")
    url, page = open_table(owner)
    token = meta_token(page)
    xml = owner.get(f"{url}/datei").get_data(as_text=True)
    changed = xml.replace(DOXIS_SET, 'stichtag &gt;= "2025-06-02"')
    saved = post_json(owner, url, {"xml": changed, "lock_version": 1}, token)
    assert (saved.status_code, saved.get_json()["lock_version"]) == (200, 2)
    stale = post_json(owner, url, {"xml": xml, "lock_version": 1}, token)
    assert stale.status_code == 409 and "zwischenzeitlich" in stale.get_json()["message"]
    hostile = (
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/hostname">]><definitions>&e;</definitions>'
    )
    refused = post_json(owner, url, {"xml": hostile, "lock_version": 2}, token)
    assert refused.status_code == 422
    assert "DOCTYPE- und ENTITY-Deklarationen sind nicht erlaubt." in refused.get_json()["problems"][0]["message"]
    broken = post_json(owner, url, {"xml": changed.replace('<text>"eakte"</text>', '<text>"eakte</text>'),
                                    "lock_version": 2}, token)  # fmt: skip
    assert broken.status_code == 422 and "kein gültiger Ausdruck" in broken.get_json()["problems"][0]["message"]
    assert post_json(owner, url, {"xml": 5, "lock_version": 2}, token).status_code == 400
    empty = post_json(owner, f"{url}/bereitstellen", {"comment": " ", "lock_version": 2}, token)
    assert empty.status_code == 422 and empty.get_json()["field_errors"]["kommentar"]
    deployed_now = post_json(
        owner, f"{url}/bereitstellen", {"comment": "Doxis ab 02.06.2025", "lock_version": 2}, token
    )
    assert deployed_now.status_code == 200, deployed_now.get_data(as_text=True)
    body = deployed_now.get_json()
    assert (body["created"], body["version"], body["url"]) == (True, 2, "/modelle")
    assert "umstellung_akte.dmn: Version 2 ist jetzt live." in body["message"]
    html = owner.get("/modelle").get_data(as_text=True)
    assert "umstellung_akte.dmn: Version 2 ist jetzt live." in html and "„Doxis ab 02.06.2025“" in html
    assert "Ältere Versionen (1)" in html


def test_deleting_a_table_draft_needs_its_lock_version(client_for: Callable[[str], FlaskClient]) -> None:
    owner = client_for("modeller")
    url, page = open_table(owner, "umstellung_phase.dmn")
    token = csrf_token(page)
    assert owner.post(f"{url}/loeschen", data={"csrf_token": token, "lock_version": "x"}).status_code == 400
    assert owner.post(f"{url}/loeschen", data={"csrf_token": token, "lock_version": "7"}).status_code == 409
    gone = owner.post(f"{url}/loeschen", data={"csrf_token": token, "lock_version": "1"})
    assert (gone.status_code, gone.headers["Location"]) == (302, "/modelle")
    assert owner.get(url).status_code == 404


def test_without_csrf_nothing_changes(deployed: Engine, client_for: Callable[[str], FlaskClient]) -> None:
    owner = client_for("modeller")
    url, page = open_table(owner)
    xml = owner.get(f"{url}/datei").get_data(as_text=True)
    assert owner.post(f"/modelle/entscheidungstabellen/{AKTE}/entwuerfe").status_code == 400
    assert post_json(owner, url, {"xml": xml.replace("Papierakte", "Akte"), "lock_version": 1}, None).status_code == 400
    assert post_json(owner, f"{url}/bereitstellen", {"comment": "x", "lock_version": 1}, None).status_code == 400
    assert owner.post(f"{url}/loeschen", data={"lock_version": "1"}).status_code == 400
    draft_id = int(url.rsplit("/", 1)[1])
    assert deployed.decision_draft(deployed.actor("modeller"), draft_id).lock_version == 1


@pytest.mark.parametrize("username", ["egs", "tl", "audit"])
def test_other_users_neither_see_nor_open_the_tables(client_for: Callable[[str], FlaskClient], username: str) -> None:
    url, _ = open_table(client_for("modeller"))
    other = client_for(username)
    inbox = other.get("/").get_data(as_text=True)
    assert "Entscheidungstabellen" not in inbox and "DMN" not in inbox
    token = csrf_token(inbox)
    assert other.get(url).status_code == 403
    assert other.get(f"{url}/datei").status_code == 403
    assert other.post(f"/modelle/entscheidungstabellen/{AKTE}/entwuerfe", data={"csrf_token": token}).status_code == 403
    assert post_json(other, url, {"xml": "<x/>", "lock_version": 1}, token).status_code == 403
    assert post_json(other, f"{url}/bereitstellen", {"comment": "x", "lock_version": 1}, token).status_code == 403
    assert other.post(f"{url}/loeschen", data={"csrf_token": token, "lock_version": "1"}).status_code == 403
