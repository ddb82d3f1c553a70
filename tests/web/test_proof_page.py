"""The page *Prüfung* (audit function only): verification per case, site and everything, and the legal holds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from engine import clock
from engine.api import Engine
from engine.auth import system_actor
from engine.models import AuditEvent
from tests.support.engines import ANCHOR_MINUTES
from tests.support.tampering import bypassing_guards, case_events
from tests.support.web import csrf_token
from tests.test_audit_proof import walked_case
from tests.test_retention import ended_case


def test_audit_sees_a_tampered_case_named(deployed: Engine, client_for: Callable[[str], FlaskClient]) -> None:
    instance_id = walked_case(deployed)
    clean = client_for("audit").get(f"/pruefung?umfang=vorgang&vorgang={instance_id}").get_data(as_text=True)
    assert "Keine Befunde" in clean
    complete = case_events(deployed, instance_id)[1]
    with bypassing_guards(deployed) as session:
        session.execute(sa.update(AuditEvent).where(AuditEvent.id == complete.id).values(actor="mallory"))
    auditor = client_for("audit")
    for query in (f"umfang=vorgang&vorgang={instance_id}", "umfang=standort&standort=56.4", "umfang=gesamt"):
        html = auditor.get(f"/pruefung?{query}").get_data(as_text=True)
        assert "nicht unversehrt" in html and f"Vorgang {instance_id}" in html and f"Nr. {complete.id}" in html
        assert "Inhalt wurde verändert" in html
    other_site = auditor.get("/pruefung?umfang=standort&standort=56.5").get_data(as_text=True)
    assert "Keine Befunde" in other_site
    with deployed.db.reading() as session:
        checks = session.scalars(sa.select(AuditEvent.details).where(AuditEvent.action == "audit_verified")).all()
    assert len(checks) == 5 and checks[-1]["scope"] == {"instance_id": None, "site": "56.5"}


def test_a_trail_never_anchored_is_named_on_the_page(
    deployed: Engine, client_for: Callable[[str], FlaskClient]
) -> None:
    walked_case(deployed)
    auditor = client_for("audit")
    with clock.frozen(clock.now() + timedelta(minutes=ANCHOR_MINUTES + 1)):
        html = auditor.get("/pruefung?umfang=gesamt").get_data(as_text=True)
    assert "nicht unversehrt" in html and "Verankerung (Anker außerhalb der Datenbank)" in html
    assert "Es gibt noch keinen Anker" in html


def test_the_page_says_when_no_anchor_was_written_and_names_the_newest(
    deployed: Engine, client_for: Callable[[str], FlaskClient]
) -> None:
    auditor = client_for("audit")
    assert "noch <strong>kein Anker</strong> geschrieben" in auditor.get("/pruefung").get_data(as_text=True)
    written = deployed.anchor_audit(system_actor("test"))
    html = auditor.get("/pruefung").get_data(as_text=True)
    assert "kein Anker" not in html
    assert "Letzter Anker: " in html and f"bis Ereignis {written.up_to}, Datei {written.path.name}" in html


@pytest.mark.parametrize("username", ["egs", "tl", "modeller"])
def test_only_audit_may_use_the_page(client_for: Callable[[str], FlaskClient], username: str) -> None:
    client = client_for(username)
    assert "/pruefung" not in client.get("/").get_data(as_text=True)
    assert client.get("/pruefung").status_code == 403
    assert client.get("/pruefung?umfang=gesamt").status_code == 403
    assert client.post("/pruefung/sperren", data={"grund": "x"}).status_code in (400, 403)


@pytest.mark.parametrize(
    "query", ["umfang=alles", "umfang=standort&standort=99", "umfang=vorgang&vorgang=1%3B", "umfang=vorgang&vorgang="]
)
def test_hostile_scopes_are_refused(client_for: Callable[[str], FlaskClient], query: str) -> None:
    assert client_for("audit").get(f"/pruefung?{query}").status_code == 400


def test_audit_sets_and_lifts_a_hold(deployed: Engine, client_for: Callable[[str], FlaskClient]) -> None:
    case = ended_case(deployed)
    auditor = client_for("audit")
    html = auditor.get("/pruefung").get_data(as_text=True)
    assert 'href="/pruefung" aria-current="page"' in html
    assert (
        auditor.post(
            "/pruefung/sperren", data={"ziel": "vorgang", "vorgang": case.instance_id, "grund": "x"}
        ).status_code
        == 400
    )  # fmt: skip  (no CSRF token)
    token = csrf_token(html)
    auditor.post("/pruefung/sperren", data={"csrf_token": token, "ziel": "vorgang", "vorgang": "12a", "grund": "x"})
    assert "besteht aus Ziffern" in auditor.get("/pruefung").get_data(as_text=True)
    auditor.post("/pruefung/sperren", data={"csrf_token": token, "ziel": "person", "person": "<b>Jana</b>",
                                            "grund": ""})  # fmt: skip
    assert "Bitte geben Sie einen Grund an." in auditor.get("/pruefung").get_data(as_text=True)
    form = {"csrf_token": token, "ziel": "vorgang", "vorgang": str(case.instance_id), "grund": "SG Göttingen S 1/26"}
    answer = auditor.post("/pruefung/sperren", data=form)
    assert answer.status_code == 302
    html = auditor.get("/pruefung").get_data(as_text=True)
    assert "Die Löschsperre ist gesetzt." in html and f"Vorgang {case.instance_id}" in html
    [hold] = deployed.legal_holds(deployed.actor("audit"))
    auditor.post(f"/pruefung/sperren/{hold.id}/aufheben", data={"csrf_token": token, "aufhebungsgrund": ""})
    assert deployed.legal_holds(deployed.actor("audit"))[0].lifted_at is None
    auditor.post(f"/pruefung/sperren/{hold.id}/aufheben", data={"csrf_token": token, "aufhebungsgrund": "erledigt"})
    assert deployed.legal_holds(deployed.actor("audit"))[0].lifted_by == "audit"
    auditor.post(f"/pruefung/sperren/{hold.id}/aufheben", data={"csrf_token": token, "aufhebungsgrund": "noch mal"})
    assert "schon aufgehoben" in auditor.get("/pruefung").get_data(as_text=True)
