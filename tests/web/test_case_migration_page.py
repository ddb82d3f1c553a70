"""The page "Vorgänge umziehen": versions, dry run with mapping selects, the move and its report."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from engine.api import Engine
from tests.support import migration_models as mm
from tests.support.records import case_events, case_row
from tests.support.web import csrf_token

PID = "mig_seite"
A = ("Task_A", "Antrag erfassen")
B = ("Task_B", "Antrag prüfen")
B2 = ("Task_B2", "Antrag gründlich prüfen")
BASE = f"/modelle/{PID}/umzug"


@pytest.fixture
def cases(deployed: Engine) -> tuple[int, int]:
    """Two cases on version 1 waiting at "Antrag prüfen" and "Antrag erfassen"; version 2 renames B to B2."""
    mm.deploy(deployed, PID, mm.model(PID, [A, B]))
    egs = deployed.actor("egs")
    at_b, at_a = mm.start(deployed, egs, PID), mm.start(deployed, egs, PID)
    mm.complete(deployed, egs, at_b)
    mm.deploy(deployed, PID, mm.model(PID, [A, B2]))
    return at_b, at_a


def test_modeller_prueft_ordnet_zu_und_zieht_um(
    deployed: Engine, client_for: Callable[[str], FlaskClient], cases: tuple[int, int]
) -> None:
    at_b, at_a = cases
    owner = client_for("modeller")
    models = owner.get("/modelle").get_data(as_text=True)
    assert f'href="{BASE}"' in models
    choose = owner.get(BASE).get_data(as_text=True)
    assert "Version 1 (2 offene Vorgänge)" in choose and "Version 2 (live)" in choose

    page = owner.get(f"{BASE}/probelauf?von=1&nach=2")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "braucht eine Zuordnung" in html and "kann umziehen" in html, html[html.find("<main") :]
    assert f'name="zuordnung-{at_b}-Task_B"' in html and "Antrag gründlich prüfen (Vorschlag)" in html
    assert '<option value="">– bitte wählen –</option>' in html
    token, lock_b, lock_a = (
        csrf_token(html),
        case_row(deployed, at_b).lock_version,
        case_row(deployed, at_a).lock_version,
    )
    form = {"csrf_token": token, "von": "1", "nach": "2", "fall": [str(at_b), str(at_a)],
            f"stand-{at_b}": str(lock_b), f"stand-{at_a}": str(lock_a)}  # fmt: skip

    first = owner.post(f"{BASE}/umziehen", data=form).get_data(as_text=True)
    assert "1 von 2 Vorgängen umgezogen" in first
    assert "nicht umgezogen:</strong> Es fehlt die Zuordnung für: Antrag prüfen." in first
    assert case_row(deployed, at_b).lock_version == lock_b  # untouched

    checked = owner.post(f"{BASE}/probelauf", data={**form, f"zuordnung-{at_b}-Task_B": "Task_B2"})
    checked_html = checked.get_data(as_text=True)
    assert checked.status_code == 200 and '<option value="Task_B2" selected>' in checked_html
    done = owner.post(f"{BASE}/umziehen", data={**form, "fall": [str(at_b)], f"zuordnung-{at_b}-Task_B": "Task_B2"})
    assert "1 von 1 Vorgängen umgezogen" in done.get_data(as_text=True)
    assert mm.open_task(deployed, at_b).name == "Antrag gründlich prüfen"
    assert case_events(deployed, at_b, "case_migrated")[0]["mapping"] == {"Task_B": "Task_B2"}

    stale = owner.post(f"{BASE}/umziehen", data={**form, "fall": [str(at_b)]}).get_data(as_text=True)
    assert "zwischenzeitlich geändert" in stale, "the lock_version seen in the dry run is stale now"


def test_umzug_ist_nur_fuer_die_prozessverantwortung(
    deployed: Engine, client_for: Callable[[str], FlaskClient], cases: tuple[int, int]
) -> None:
    at_b, _ = cases
    clerk = client_for("egs")
    token = csrf_token(clerk.get("/").get_data(as_text=True))
    assert clerk.get(BASE).status_code == 403
    assert clerk.get(f"{BASE}/probelauf?von=1&nach=2").status_code == 403
    lock = case_row(deployed, at_b).lock_version
    refused = clerk.post(f"{BASE}/umziehen", data={"csrf_token": token, "von": "1", "nach": "2", "fall": str(at_b),
                                                   f"stand-{at_b}": str(lock)})  # fmt: skip
    assert refused.status_code == 403
    assert case_row(deployed, at_b).lock_version == lock


def test_umzug_weist_fehlerhafte_eingaben_ab(
    deployed: Engine, client_for: Callable[[str], FlaskClient], cases: tuple[int, int]
) -> None:
    at_b, _ = cases
    owner = client_for("modeller")
    token = csrf_token(owner.get(BASE).get_data(as_text=True))
    form = {"csrf_token": token, "von": "1", "nach": "2", "fall": str(at_b), f"stand-{at_b}": "1"}
    assert owner.post(f"{BASE}/umziehen", data={**form, "csrf_token": ""}).status_code == 400, "CSRF"
    assert owner.get(f"{BASE}/probelauf?von=eins&nach=2").status_code == 400
    assert owner.get(f"{BASE}/probelauf?von=1&nach=1").status_code == 422
    assert owner.get(f"{BASE}/probelauf?von=1&nach=9").status_code == 404
    assert owner.get("/modelle/gibt_es_nicht/umzug").status_code == 404
    assert owner.post(f"{BASE}/umziehen", data={**form, "fall": "1 OR 1=1"}).status_code == 400
    assert owner.post(f"{BASE}/umziehen", data={**form, "zuordnung-x-Task_B": "Task_B2"}).status_code == 400
    unknown = owner.post(f"{BASE}/umziehen", data={**form, f"zuordnung-{at_b}-Task_B": "<script>x</script>"})
    body = unknown.get_data(as_text=True)
    assert unknown.status_code == 200 and "nicht umgezogen" in body and "<script>x" not in body
