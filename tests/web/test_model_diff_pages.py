"""The diff page (a draft or a version against the live one), its JSON for the modeller's deploy confirmation,
the lint context of the modeller, and the diff summary in the deploy audit event. MODELLER only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from engine.api import Engine
from tests.support import pb
from tests.support.records import audit_events
from tests.web.test_models_pages import NEW_NAME, OLD_NAME, meta_token, open_draft, post_json

PB = pb.PROCESS
ROLE = '<spiffworkflow:property name="egsRole" value="Durchführender" />'


def changed_draft(owner: FlaskClient) -> tuple[str, str]:
    """A draft of PB with the task renamed; return its URL and CSRF token."""
    url, html = open_draft(owner)
    token = meta_token(html)
    xml = owner.get(f"{url}/datei").get_data(as_text=True)
    assert post_json(owner, url, {"xml": xml.replace(OLD_NAME, NEW_NAME), "lock_version": 1}, token).status_code == 200
    return url, token


def test_the_diff_page_lists_and_marks_what_changed(deployed: Engine, client_for: Callable[[str], FlaskClient]) -> None:
    owner = client_for("modeller")
    url, _ = changed_draft(owner)
    assert f'href="{url}/vergleich"' in owner.get("/modelle").get_data(as_text=True), "reachable from Modelle"
    assert f'href="{url}/vergleich"' in owner.get(url).get_data(as_text=True), "and from the modeller"
    page = owner.get(f"{url}/vergleich")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Vergleich: Entwurf" in html and "mit der Live-Version 1" in html
    assert "Änderungen:</strong> 1 geändert" in html
    assert 'data-element="Task_Antragsannahme" data-art="changed"' in html
    assert "Name: „Antrag annehmen und Identität prüfen“ → „Antrag annehmen und Identität sorgfältig prüfen“" in html
    assert '"vergleich-geaendert": ["Task_Antragsannahme"]' in html  # the diagram's markers
    assert "dist/diagram.js" in html and "dist/modeller.js" not in html
    summary = owner.get(f"{url}/vergleich", headers={"Accept": "application/json"})
    assert summary.get_json()["zusammenfassung"] == "1 geändert"
    assert summary.get_json()["aenderungen"][0]["id"] == "Task_Antragsannahme"


def test_an_older_version_against_the_live_one(deployed: Engine, client_for: Callable[[str], FlaskClient]) -> None:
    owner = client_for("modeller")
    url, token = changed_draft(owner)
    assert post_json(owner, f"{url}/bereitstellen", {"comment": "Name", "lock_version": 2}, token).status_code == 200
    html = owner.get("/modelle").get_data(as_text=True)
    assert f'href="/modelle/{PB}/versionen/1/vergleich"' in html
    page = owner.get(f"/modelle/{PB}/versionen/1/vergleich").get_data(as_text=True)
    assert "Vergleich: Version 1 mit der Live-Version 2" in page
    assert "„Antrag annehmen und Identität sorgfältig prüfen“ → „Antrag annehmen und Identität prüfen“" in page
    same = owner.get(f"/modelle/{PB}/versionen/2/vergleich").get_data(as_text=True)
    assert "Das Modell ist gleich." in same and "keine Änderungen" in same
    assert owner.get(f"/modelle/{PB}/versionen/99/vergleich").status_code == 404
    assert owner.get("/modelle/gibt_es_nicht/versionen/1/vergleich").status_code == 404
    assert owner.get("/modelle/entwuerfe/9999/vergleich").status_code == 404


def test_the_deploy_audit_event_records_the_diff_summary(
    deployed: Engine, client_for: Callable[[str], FlaskClient]
) -> None:
    owner = client_for("modeller")
    url, html = open_draft(owner)
    token = meta_token(html)
    xml = owner.get(f"{url}/datei").get_data(as_text=True)
    changed = xml.replace(OLD_NAME, NEW_NAME).replace(
        ROLE, '<spiffworkflow:property name="egsRole" value="Mitwirkender" />', 1
    )
    assert post_json(owner, url, {"xml": changed, "lock_version": 1}, token).status_code == 200
    assert (
        post_json(owner, f"{url}/bereitstellen", {"comment": "Zwei Dinge", "lock_version": 2}, token).status_code == 200
    )
    (event,) = audit_events(deployed, "model_draft_deployed")
    diff = event.details["diff"]
    assert (diff["changed"], diff["added"], diff["removed"], diff["layout"]) == (2, 0, 0, 0)
    assert diff["text"] == "2 geändert"
    assert {"id": "Task_Antragsannahme", "art": "changed", "felder": ["Name"]} in diff["elemente"]
    assert any(e["felder"] == ["EGS-Rolle"] for e in diff["elemente"])


def test_the_lint_context_names_forms_and_decision_outputs(
    deployed: Engine, client_for: Callable[[str], FlaskClient]
) -> None:
    owner = client_for("modeller")
    url, _ = open_draft(owner)
    context = owner.get(f"{url}/pruefkontext").get_json()
    assert context["forms"]["pb_anmeldung.json"]["valid"] is True
    assert "tag_der_antragstellung" in context["forms"]["pb_anmeldung.json"]["fields"]
    assert "aktenfuehrung" in context["extraNames"]  # output of the decision table umstellung_akte


@pytest.mark.parametrize("username", ["egs", "tl", "audit", "lsb"])
def test_only_process_owners_see_a_diff(
    deployed: Engine, client_for: Callable[[str], FlaskClient], username: str
) -> None:
    owner = client_for("modeller")
    url, _ = changed_draft(owner)
    other = client_for(username)
    for path in (f"{url}/vergleich", f"/modelle/{PB}/versionen/1/vergleich", f"{url}/pruefkontext"):
        assert other.get(path).status_code == 403, path
    assert other.get(f"{url}/vergleich", headers={"Accept": "application/json"}).status_code == 403
