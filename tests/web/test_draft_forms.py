"""The form editor of a draft: read a form, preview a changed one with the task page's macros (checked by the
rules of every form), store it in the draft (409 when stale); a deploy takes it into the new version only."""

from __future__ import annotations

import copy
from collections.abc import Callable

from flask.testing import FlaskClient

from engine.api import Engine
from tests.support import pb
from tests.support.cases import CaseDriver
from tests.support.web import csrf_token
from tests.web.test_models_pages import meta_token, open_draft, post_json

FORM = "pb_anmeldung.json"


def test_a_changed_form_is_previewed_stored_in_the_draft_and_deployed(
    client_for: Callable[[str], FlaskClient], deployed: Engine
) -> None:
    client = client_for("modeller")
    older = CaseDriver(deployed, pb.PROCESS)
    url, html = open_draft(client)
    token = meta_token(html)
    schema = client.get(f"{url}/formulare/{FORM}").get_json()["schema"]
    assert "nachname" in schema["properties"]

    changed = copy.deepcopy(schema)
    changed["properties"]["nachname"]["title"] = "Familienname"
    preview = post_json(client, "/modelle/formularvorschau", {"schema": changed}, token)
    assert preview.status_code == 200
    text = preview.get_data(as_text=True)
    assert 'id="feld-nachname"' in text and "Familienname" in text and "(TT.MM.JJJJ)" in text

    broken = copy.deepcopy(schema)
    broken["properties"]["nachname"]["type"] = "zahl"
    refused = post_json(client, "/modelle/formularvorschau", {"schema": broken}, token)
    assert refused.status_code == 422 and "Kein gültiges JSON Schema" in refused.get_json()["message"]
    assert post_json(client, "/modelle/formularvorschau", {"schema": []}, token).status_code == 422
    assert post_json(client, "/modelle/formularvorschau", {"nichts": 1}, token).status_code == 400
    assert post_json(client, "/modelle/formularvorschau", {"schema": changed}, None).status_code == 400, "CSRF"

    stored = post_json(client, f"{url}/formulare/{FORM}", {"schema": changed, "lock_version": 1}, token)
    assert stored.status_code == 200 and stored.get_json()["formulare"] == [FORM]
    stale = post_json(client, f"{url}/formulare/{FORM}", {"schema": schema, "lock_version": 1}, token)
    assert stale.status_code == 409
    assert post_json(client, f"{url}/formulare/{FORM}", {"schema": broken, "lock_version": 2}, token).status_code == 422
    assert (
        post_json(client, f"{url}/formulare/..%2Fx.json", {"schema": changed, "lock_version": 2}, token).status_code
        == 404
    )
    assert (
        client.get(f"{url}/formulare/{FORM}").get_json()["schema"]["properties"]["nachname"]["title"] == "Familienname"
    )

    # The form alone changed: deploying the draft makes a new version with it; the older case keeps its form.
    deployed_now = post_json(client, f"{url}/bereitstellen", {"comment": "Familienname", "lock_version": 2}, token)
    assert deployed_now.status_code == 200 and deployed_now.get_json()["version"] == 2
    newer = CaseDriver(deployed, pb.PROCESS)
    titles = {}
    for name, driver in (("alt", older), ("neu", newer)):
        task = driver.task(pb.ANMELDEN)
        view = deployed.task_view(deployed.actor("egs"), task.task_uuid)
        titles[name] = next(f.title for f in view.fields if f.name == "nachname")
    assert titles == {"alt": schema["properties"]["nachname"]["title"], "neu": "Familienname"}


def test_only_process_owners_use_the_form_editor(client_for: Callable[[str], FlaskClient], deployed: Engine) -> None:
    draft = deployed.create_model_draft(deployed.actor("modeller"), pb.PROCESS)
    client = client_for("egs")
    token = csrf_token(client.get("/").get_data(as_text=True))
    assert client.get(f"/modelle/entwuerfe/{draft.id}/formulare/{FORM}").status_code == 403
    schema = {"type": "object", "properties": {}}
    assert post_json(client, "/modelle/formularvorschau", {"schema": schema}, token).status_code == 403
    url = f"/modelle/entwuerfe/{draft.id}/formulare/{FORM}"
    assert post_json(client, url, {"schema": schema, "lock_version": 1}, token).status_code == 403
