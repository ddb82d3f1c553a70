"""The "Störungen" page: process owners and site leads see failed cases and act on them; nobody else does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask.testing import FlaskClient

from engine import clock
from engine.api import Engine
from tests.support import hostile
from tests.support.web import csrf_token

START = clock.parse_iso("2025-05-05T08:00:00+02:00")


def stopped_case(engine: Engine, script: str = "kaputt = range(3)") -> int:
    """A case whose timer script fails (by default: it stores what a case cannot hold); the worker stopped it."""
    hostile.deploy(engine, "test_gift", hostile.timer_script_process("test_gift", script))
    with clock.frozen(START):
        case = engine.start_case(engine.actor("egs"), "test_gift")
    engine.fire_due_timers(START + timedelta(days=2))
    return case.instance_id


def test_owner_sees_the_count_and_retries(deployed: Engine, client_for: Callable[[str], FlaskClient]) -> None:
    stopped_case(deployed)
    owner = client_for("modeller")
    inbox = owner.get("/").get_data(as_text=True)
    assert "Störungen" in inbox and 'class="zaehler">1' in inbox
    page = owner.get("/stoerungen")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "range-Objekt" in html and "Rechnen" in html
    [incident] = deployed.incidents(deployed.actor("modeller"))
    missing_token = owner.post(f"/stoerungen/{incident.id}/erneut")
    assert missing_token.status_code == 400
    answer = owner.post(f"/stoerungen/{incident.id}/erneut", data={"csrf_token": csrf_token(html)})
    assert answer.status_code == 302
    assert "Der Vorgang läuft wieder" in owner.get("/stoerungen").get_data(as_text=True)
    assert deployed.incidents(deployed.actor("modeller")) == []


def test_error_text_from_a_model_is_shown_escaped(deployed: Engine, client_for: Callable[[str], FlaskClient]) -> None:
    stopped_case(deployed, "raise ValueError('<script>alert(1)</script>')")
    html = client_for("tl").get("/stoerungen").get_data(as_text=True)
    assert "ValueError" in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html


def test_cancel_without_reason_is_explained(deployed: Engine, client_for: Callable[[str], FlaskClient]) -> None:
    stopped_case(deployed)
    lead = client_for("fdl")
    html = lead.get("/stoerungen").get_data(as_text=True)
    [incident] = deployed.incidents(deployed.actor("fdl"))
    answer = lead.post(f"/stoerungen/{incident.id}/abbrechen", data={"csrf_token": csrf_token(html), "grund": ""})
    assert answer.status_code == 302
    assert "Bitte einen Grund" in lead.get("/stoerungen").get_data(as_text=True)
    assert len(deployed.incidents(deployed.actor("fdl"))) == 1


def test_clerks_and_auditors_neither_see_nor_reach_the_page(
    deployed: Engine, client_for: Callable[[str], FlaskClient]
) -> None:
    stopped_case(deployed)
    [incident] = deployed.incidents(deployed.actor("fdl"))
    for username in ("egs", "audit"):
        client = client_for(username)
        inbox = client.get("/").get_data(as_text=True)
        assert "/stoerungen" not in inbox
        assert client.get("/stoerungen").status_code == 403
        token = csrf_token(inbox)
        assert client.post(f"/stoerungen/{incident.id}/erneut", data={"csrf_token": token}).status_code == 403
    assert len(deployed.incidents(deployed.actor("fdl"))) == 1
