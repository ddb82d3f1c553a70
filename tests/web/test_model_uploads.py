"""Uploading BPMN files on "Modelle": documentation models with their German reasons, drafts of our own
runnable models, hostile files refused with one German message (never a 500), CSRF and permissions."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from engine.api import Engine
from tests.support import pb
from tests.support.foreign import CAMUNDA, HOSTILE, SIGNAVIO, live_text
from tests.support.web import csrf_token


def upload(client: FlaskClient, name: str, content: bytes, token: str | None = "page"):  # type: ignore[no-untyped-def]
    data: dict[str, object] = {"datei": FileStorage(io.BytesIO(content), name)}
    if token == "page":
        data["csrf_token"] = csrf_token(client.get("/modelle").get_data(as_text=True))
    elif token is not None:
        data["csrf_token"] = token
    # Encoded in memory: the test client would spool a large body to a temporary file that a 413 leaves open.
    boundary, body = encode_multipart(data)
    return client.post("/modelle/hochladen", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def test_a_camunda_export_is_shown_as_documentation_with_german_reasons(
    client_for: Callable[[str], FlaskClient],
) -> None:
    owner = client_for("modeller")
    assert 'enctype="multipart/form-data"' in owner.get("/modelle").get_data(as_text=True)
    response = upload(owner, CAMUNDA.name, CAMUNDA.read_bytes())
    assert response.status_code == 302
    url = response.headers["Location"]
    assert re.fullmatch(r"/modelle/dokumentation/\d+", url)
    html = owner.get(url).get_data(as_text=True)
    assert "Dokumentation: Urlaubsantrag" in html and "Nur zum Ansehen" in html
    assert "Warum es hier so nicht laufen kann" in html
    assert "Camunda 7: camunda:assignee, camunda:dueDate, camunda:formKey" in html
    assert "Antrag prüfen (Task_Pruefen)" in html
    assert "Skript in der Sprache &#39;groovy&#39;" in html
    assert "Die Service-Aufgabe ruft keine Service-Operation der Plattform auf" in html
    assert "dist/diagram.js" in html and "doku-befund" in html
    data = re.search(r'<script type="application/json" id="diagramm-daten">(.*?)</script>', html, re.S)
    assert data and "Task_Pruefen" in data.group(1) and "BPMNShape" in data.group(1)
    assert "camunda:" not in data.group(1), "the viewer gets the diagram without extensions"
    index = owner.get("/modelle").get_data(as_text=True)
    assert "Dokumentationsmodelle (nur zum Ansehen)" in index and f'href="{url}"' in index
    assert owner.post(f"{url}/loeschen", data={}).status_code == 400, "CSRF refused"
    deleted = owner.post(f"{url}/loeschen", data={"csrf_token": csrf_token(html)})
    assert deleted.status_code == 302 and owner.get(url).status_code == 404
    assert "Dokumentationsmodelle" not in owner.get("/modelle").get_data(as_text=True)


def test_a_runnable_file_of_ours_opens_as_a_draft_in_the_modeller(
    deployed: Engine, client_for: Callable[[str], FlaskClient]
) -> None:
    owner = client_for("modeller")
    response = upload(owner, "pb.bpmn", live_text(deployed, pb.PROCESS).encode())
    assert response.status_code == 302 and re.fullmatch(r"/modelle/entwuerfe/\d+", response.headers["Location"])
    page = owner.get(response.headers["Location"]).get_data(as_text=True)
    assert "Hochgeladen: pb.bpmn" in page and "ist jetzt ein Entwurf" in page


@pytest.mark.parametrize("label", sorted(HOSTILE))
def test_a_hostile_file_gives_one_german_error_and_no_500(client_for: Callable[[str], FlaskClient], label: str) -> None:
    owner = client_for("modeller")
    content, expected = HOSTILE[label]
    response = upload(owner, "boese.bpmn", content)
    html = response.get_data(as_text=True)
    if len(content) > 1024 * 1024:
        assert response.status_code == 413 and "Die gesendeten Daten sind zu groß" in html
    else:
        assert response.status_code == 422, html
        message = re.search(r'<div class="fehlerbox" id="hochladen-fehler" role="alert"><p>(.*?)</p>', html, re.S)
        assert message and "Die Datei wurde nicht übernommen." in message.group(1)
        assert expected.replace("'", "&#39;") in message.group(1)
        assert "Traceback" not in html
    assert "Dokumentationsmodelle" not in owner.get("/modelle").get_data(as_text=True)


def test_an_upload_without_a_file_or_without_csrf_is_refused(client_for: Callable[[str], FlaskClient]) -> None:
    owner = client_for("modeller")
    assert upload(owner, SIGNAVIO.name, SIGNAVIO.read_bytes(), token=None).status_code == 400
    token = csrf_token(owner.get("/modelle").get_data(as_text=True))
    empty = owner.post("/modelle/hochladen", data={"csrf_token": token}, content_type="multipart/form-data")
    assert empty.status_code == 422 and "Bitte wählen Sie eine .bpmn-Datei aus." in empty.get_data(as_text=True)


@pytest.mark.parametrize("username", ["egs", "tl", "audit"])
def test_others_can_neither_upload_nor_view_documentation(
    client_for: Callable[[str], FlaskClient], username: str
) -> None:
    owner = client_for("modeller")
    url = upload(owner, SIGNAVIO.name, SIGNAVIO.read_bytes()).headers["Location"]
    other = client_for(username)
    token = csrf_token(other.get("/").get_data(as_text=True))
    assert upload(other, CAMUNDA.name, CAMUNDA.read_bytes(), token=token).status_code == 403
    assert other.get(url).status_code == 403
    assert other.post(f"{url}/loeschen", data={"csrf_token": token}).status_code == 403
    assert owner.get(url).status_code == 200
