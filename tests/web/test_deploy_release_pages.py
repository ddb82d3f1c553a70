"""Releasing deploys on "Modelle" as a second process owner: the modeller asks for the release, the author waits,
another process owner releases or rejects (CSRF, permissions, stale requests answered 409)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.api import Engine
from tests.support import pb
from tests.support.engines import engine_with_config
from tests.support.users import PASSWORD, user_factory
from tests.support.web import csrf_token, login
from webapp import create_app

PB = pb.PROCESS
OLD_NAME = 'name="Antrag annehmen und Identität prüfen"'
NEW_NAME = 'name="Antrag annehmen und Identität sorgfältig prüfen"'


@pytest.fixture
def four_eyes_app(deployed: Engine, db_url: str, tmp_path: Path) -> Iterator[Flask]:
    with engine_with_config(db_url, tmp_path, freigabe_durch_zweite_person="true") as engine:
        user_factory(engine)("modeller2", ("MODELLER", "56.4"))
        yield create_app({"TESTING": True}, engine=engine)


@pytest.fixture
def client_of(four_eyes_app: Flask) -> Callable[[str], FlaskClient]:
    def factory(username: str) -> FlaskClient:
        client = four_eyes_app.test_client()
        assert login(client, username, PASSWORD if username == "modeller2" else "demo").status_code == 302
        return client

    return factory


def ask_for_release(author: FlaskClient) -> tuple[str, int]:
    """Open PB in the modeller, change a name, save and ask for the release; return the modeller URL and lock."""
    html = author.get("/modelle").get_data(as_text=True)
    url = author.post(f"/modelle/{PB}/entwuerfe", data={"csrf_token": csrf_token(html)}).headers["Location"]
    page = author.get(url).get_data(as_text=True)
    assert "Freigabe beantragen" in page and "Jetzt bereitstellen" not in page
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert token
    headers = {"Accept": "application/json", "X-CSRFToken": token.group(1)}
    xml = author.get(f"{url}/datei").get_data(as_text=True).replace(OLD_NAME, NEW_NAME)
    saved = author.post(url, json={"xml": xml, "lock_version": 1}, headers=headers)
    assert saved.status_code == 200
    lock = saved.get_json()["lock_version"]
    body = {"comment": "Name geschärft", "lock_version": lock}
    asked = author.post(f"{url}/bereitstellen", json=body, headers=headers)
    assert asked.status_code == 200, asked.get_data(as_text=True)
    assert asked.get_json()["pending"] is True and asked.get_json()["url"] == "/modelle"
    return url, lock


def release_form(html: str, action: str) -> tuple[str, str]:
    match = re.search(rf'action="(/modelle/freigaben/\d+/{action})"', html)
    assert match, f"no {action} form"
    return match.group(1), csrf_token(html)


def test_another_process_owner_releases_what_the_author_asked_for(client_of: Callable[[str], FlaskClient]) -> None:
    author, second = client_of("modeller"), client_of("modeller2")
    _, lock = ask_for_release(author)
    own = author.get("/modelle").get_data(as_text=True)
    assert "Anträge auf Freigabe (1)" in own and "Wartet auf die Freigabe" in own
    assert "/freigeben" not in own, "the author gets no release button"
    other = second.get("/modelle").get_data(as_text=True)
    assert "Beantragt am" in other and "„Name geschärft“" in other and "Änderungen im Diagramm ansehen" in other
    action, token = release_form(other, "freigeben")
    assert author.post(action, data={"csrf_token": csrf_token(own), "lock_version": str(lock)}).status_code == 403
    assert second.post(action, data={"lock_version": str(lock)}).status_code == 400, "CSRF refused"
    released = second.post(action, data={"csrf_token": token, "lock_version": str(lock)})
    assert released.status_code == 302
    page = second.get("/modelle").get_data(as_text=True)
    assert "Version 2 ist freigegeben und jetzt live" in page and "Anträge auf Freigabe" not in page
    assert "von modeller2 – „Name geschärft“" in page


def test_a_stale_request_is_answered_409_and_a_rejection_shows_its_reason(
    client_of: Callable[[str], FlaskClient],
) -> None:
    author, second = client_of("modeller"), client_of("modeller2")
    url, lock = ask_for_release(author)
    other = second.get("/modelle").get_data(as_text=True)
    action, token = release_form(other, "freigeben")
    page = author.get(url).get_data(as_text=True)
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert meta
    xml = author.get(f"{url}/datei").get_data(as_text=True).replace(NEW_NAME, 'name="Noch einmal anders"')
    headers = {"Accept": "application/json", "X-CSRFToken": meta.group(1)}
    assert author.post(url, json={"xml": xml, "lock_version": lock}, headers=headers).status_code == 200
    stale = second.post(action, data={"csrf_token": token, "lock_version": str(lock)})
    assert stale.status_code == 409 and "nach dem Antrag auf Freigabe noch geändert" in stale.get_data(as_text=True)
    assert "Freigeben lässt sich erst ein neuer Antrag" in second.get("/modelle").get_data(as_text=True)
    reject = action.replace("freigeben", "ablehnen")
    assert second.post(reject, data={"csrf_token": token, "lock_version": str(lock), "grund": ""}).status_code == 422
    rejected = second.post(reject, data={"csrf_token": token, "lock_version": str(lock), "grund": "Bitte abstimmen."})
    assert rejected.status_code == 302
    assert "von modeller2: Bitte abstimmen." in author.get("/modelle").get_data(as_text=True)


def test_without_the_setting_the_modeller_deploys_at_once(client_for: Callable[[str], FlaskClient]) -> None:
    owner = client_for("modeller")
    html = owner.get("/modelle").get_data(as_text=True)
    url = owner.post(f"/modelle/{PB}/entwuerfe", data={"csrf_token": csrf_token(html)}).headers["Location"]
    page = owner.get(url).get_data(as_text=True)
    assert "Jetzt bereitstellen" in page and "Freigabe beantragen" not in page
    assert "Anträge auf Freigabe" not in owner.get("/modelle").get_data(as_text=True)
