"""The REST API /api/v1: every operation with allowed and refused scopes and sites, tokens, problems, audit."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask.testing import FlaskClient

from engine import clock
from engine.api import Engine
from engine.auth import system_actor
from engine.cli import cli
from engine.errors import FormValidationError
from engine.models import ApiToken
from tests.support import pb
from tests.support.api import SystemToken, bearer, problem
from tests.support.records import audit_events, faelle
from tests.support.web import login, post_form

MakeSystem = Callable[..., SystemToken]
MakePersonal = Callable[..., str]
START = {"process": "pb_antragsannahme", "site": "56.4"}
ALL_SYSTEM = ("cases:start", "messages:send", "cases:read")


def unterlagen(business_key: str, *documents: str) -> dict[str, object]:
    return {
        "message": "Unterlagen eingegangen",
        "business_key": business_key,
        "payload": {"vorgangsnummer": business_key, "dokumente": list(documents), "eingang_am": pb.heute()},
    }


# --- the document and its page ---------------------------------------------------------------------------------


def test_openapi_document_is_3_1_and_describes_problems(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {
        "/api/v1/cases", "/api/v1/cases/{instance_id}", "/api/v1/cases/{instance_id}/history", "/api/v1/messages",
        "/api/v1/tasks", "/api/v1/tasks/{task_uuid}", "/api/v1/tasks/{task_uuid}/complete", "/api/v1/exports",
        "/api/v1/exports/{name}",
    }  # fmt: skip
    start = document["paths"]["/api/v1/cases"]["post"]
    assert list(start["responses"]["409"]["content"]) == ["application/problem+json"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in start["parameters"])
    assert document["components"]["securitySchemes"]["token"] == {"type": "http", "scheme": "bearer"}


def test_documentation_page_renders_offline_under_the_csp(client: FlaskClient) -> None:
    response = client.get("/api/v1/dokumentation")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Vorgang starten" in html and "POST /api/v1/messages" in html and "problem-409" in html
    assert "<script" not in html.split("</head>")[1] and "cdn" not in html.lower() and "style=" not in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


# --- authentication: tokens only, no session cookie, CSRF stays on the browser routes -----------------------------


def test_a_session_cookie_alone_is_refused(client: FlaskClient) -> None:
    assert login(client, "egs").status_code == 302
    assert client.get("/vorgaenge/neu").status_code == 200, "the cookie is a live session"
    body = problem(client.get("/api/v1/tasks"), 401)
    assert "Token" in body["detail"]
    assert problem(client.post("/api/v1/cases", json=START), 401)


def test_browser_routes_keep_csrf_even_with_a_token(client: FlaskClient, personal_token: MakePersonal) -> None:
    token = personal_token("egs", "cases:start")
    assert login(client, "egs").status_code == 302
    refused = client.post("/vorgaenge/neu", data={"prozess": "pb_antragsannahme", "standort": "56.4"},
                          headers=bearer(token))  # fmt: skip
    assert refused.status_code == 400 and "Sicherheitsprüfung" in refused.get_data(as_text=True)
    assert client.post("/konto/token", data={"bezeichnung": "x", "umfang": "cases:read"}).status_code == 400


@pytest.mark.parametrize("header", ["", "Bearer", "Basic ZWdzOmRlbW8=", "Bearer egs_12345678_falsch", "Bearer x"])
def test_missing_or_unknown_tokens_get_401(client: FlaskClient, header: str) -> None:
    response = client.get("/api/v1/cases/1", headers={"Authorization": header} if header else {})
    problem(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="egs"'


def test_expired_and_revoked_tokens_are_refused_and_recorded(
    deployed: Engine, client: FlaskClient, make_system_token: MakeSystem
) -> None:
    expired, revoked = make_system_token("cases:read"), make_system_token("cases:read")
    assert client.get("/api/v1/cases/1", headers=expired.headers).status_code == 404, "valid until now"
    with clock.wall_frozen(clock.wall_now() + timedelta(days=31)):
        problem(client.get("/api/v1/cases/1", headers=expired.headers), 401)
    deployed.revoke_token(system_actor("betrieb"), revoked.prefix)
    problem(client.get("/api/v1/cases/1", headers=revoked.headers), 401)
    refused = [e.details for e in audit_events(deployed, "api_token_refused")]
    assert [(d["token"], d["grund"]) for d in refused] == [(expired.prefix, "ungueltig"), (revoked.prefix, "ungueltig")]
    assert [e.details["token"] for e in audit_events(deployed, "api_token_revoked")] == [revoked.prefix]


def test_every_use_is_recorded_without_the_secret(
    deployed: Engine, client: FlaskClient, make_system_token: MakeSystem
) -> None:
    token = make_system_token("cases:read")
    client.get("/api/v1/cases/1", headers=token.headers)
    client.get("/api/v1/cases/2", headers=token.headers)
    used = audit_events(deployed, "api_token_used")
    assert [(e.actor, e.details) for e in used] == [
        ("api:Poststelle Scan", {"token": token.prefix, "methode": "GET", "route": "/api/v1/cases/<int:instance_id>"})
    ] * 2
    secret = token.token.rsplit("_", 1)[1]
    with deployed.db.reading() as session:
        stored = session.scalars(sa.select(ApiToken.secret_hash)).all()
    assert secret not in str(stored) and all(len(h) == 64 for h in stored)


def test_system_tokens_carry_only_system_scopes(deployed: Engine) -> None:
    with pytest.raises(FormValidationError) as refused:
        deployed.create_system_token(system_actor("betrieb"), "Scan", ["tasks:work"], ["56.4"])
    assert list(refused.value.field_errors) == ["scopes"]
    with pytest.raises(FormValidationError):
        deployed.create_system_token(system_actor("betrieb"), "Scan", ["cases:read"], ["99.9"])


def test_a_person_gets_only_scopes_they_can_use(deployed: Engine) -> None:
    assert "audit:read" not in deployed.offered_scopes(deployed.actor("egs"))
    assert deployed.offered_scopes(deployed.actor("audit")) == ["audit:read", "exports:read"]
    with pytest.raises(FormValidationError):
        deployed.create_personal_token(deployed.actor("egs"), "Skript", ["audit:read"])


# --- starting a case ---------------------------------------------------------------------------------------------


def test_system_token_starts_a_case_at_its_site(
    deployed: Engine, client: FlaskClient, make_system_token: MakeSystem
) -> None:
    token = make_system_token("cases:start", "cases:read")
    response = client.post("/api/v1/cases", json={**START, "business_key": "AZ-1"}, headers=token.headers)
    assert response.status_code == 201, response.get_json()
    case = response.get_json()
    assert (case["business_key"], case["site"], case["status"]) == ("AZ-1", "56.4", "running")
    assert response.headers["Location"] == f"/api/v1/cases/{case['instance_id']}"
    status = client.get(response.headers["Location"], headers=token.headers).get_json()
    assert [t["name"] for t in status["open_tasks"]] == [pb.ANMELDEN]
    start = audit_events(deployed, "start")[-1]
    assert start.actor == "api:Poststelle Scan" and start.instance_id == case["instance_id"]


def test_system_token_may_not_start_at_another_site(
    deployed: Engine, client: FlaskClient, make_system_token: MakeSystem
) -> None:
    token = make_system_token("cases:start", sites=("56.5",))
    body = problem(client.post("/api/v1/cases", json=START, headers=token.headers), 403)
    assert body["detail"] == "Das Token handelt nicht für den Standort 56.4."
    assert faelle(deployed, "pb_antragsannahme") == []
    assert audit_events(deployed, "access_denied")[-1].details["operation"] == "api:start"


def test_starting_needs_the_scope(deployed: Engine, client: FlaskClient, make_system_token: MakeSystem) -> None:
    token = make_system_token("cases:read", "messages:send")
    body = problem(client.post("/api/v1/cases", json=START, headers=token.headers), 403)
    assert "cases:start" in body["detail"]
    assert audit_events(deployed, "api_token_refused")[-1].details["grund"] == "umfang"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**START, "process": "gibt_es_nicht"}, "process"),
        ({**START, "process": "fb50_eingangsservice"}, "site"),  # offered only at 56.6–56.8
        ({**START, "business_key": "A" * 65}, "business_key"),
        ({**START, "business_key": "AZ\u00001"}, "business_key"),
        ({**START, "farbe": "rot"}, "farbe"),
        ({"site": "56.4"}, "process"),
    ],
)
def test_start_data_is_checked_by_the_rules_of_the_start_form(
    deployed: Engine, client: FlaskClient, make_system_token: MakeSystem, body: dict[str, str], field: str
) -> None:
    token = make_system_token("cases:start", sites=("*",))
    refused = problem(client.post("/api/v1/cases", json=body, headers=token.headers), 422)
    assert list(refused["field_errors"]) == [field]
    assert faelle(deployed, "pb_antragsannahme") == []


def test_personal_token_starts_with_the_persons_rights(client: FlaskClient, personal_token: MakePersonal) -> None:
    egs, lsb = bearer(personal_token("egs", "cases:start")), bearer(personal_token("lsb", "cases:start"))
    assert client.post("/api/v1/cases", json=START, headers=egs).status_code == 201
    refused = problem(client.post("/api/v1/cases", json=START, headers=lsb), 422)
    assert refused["field_errors"] == {"process": ["Bitte einen Prozess wählen."]}, "LSB starts no PB case (form rule)"


# --- messages ----------------------------------------------------------------------------------------------------


def test_unterlagen_eingegangen_ends_the_deadline_of_the_named_document(
    deployed: Engine, client: FlaskClient, make_system_token: MakeSystem
) -> None:
    instance_id = pb.case_waiting_for_documents(deployed)
    key = next(c.business_key for c in faelle(deployed, "pb_antragsannahme") if c.id == instance_id)
    token = make_system_token(*ALL_SYSTEM)
    response = client.post("/api/v1/messages", json=unterlagen(key, "Kontoauszüge März"), headers=token.headers)
    assert response.status_code == 200 and response.get_json() == {"delivered": 1}
    status = client.get(f"/api/v1/cases/{instance_id}", headers=token.headers).get_json()
    assert pb.EINGANG_ERFASSEN not in [t["name"] for t in status["open_tasks"]], "the case moved on"
    assert audit_events(deployed, "message")[-1].details["payload"]["dokumente"] == ["Kontoauszüge März"]


def test_messages_only_to_cases_at_the_tokens_sites(
    deployed: Engine, client: FlaskClient, make_system_token: MakeSystem
) -> None:
    instance_id = pb.case_waiting_for_documents(deployed)
    key = next(c.business_key for c in faelle(deployed, "pb_antragsannahme") if c.id == instance_id)
    elsewhere = make_system_token("messages:send", sites=("56.5",))
    problem(client.post("/api/v1/messages", json=unterlagen(key, "Kontoauszüge"), headers=elsewhere.headers), 403)
    no_scope = make_system_token("cases:start")
    problem(client.post("/api/v1/messages", json=unterlagen(key, "Kontoauszüge"), headers=no_scope.headers), 403)
    assert audit_events(deployed, "message") == []
    nobody = make_system_token("messages:send")
    body = problem(client.post("/api/v1/messages", json=unterlagen("VG-0000-999999"), headers=nobody.headers), 404)
    assert "wartet auf die Nachricht „Unterlagen eingegangen“" in body["detail"]


# --- case status ---------------------------------------------------------------------------------------------------


def test_case_status_by_site_and_by_person(
    deployed: Engine, client: FlaskClient, make_system_token: MakeSystem, personal_token: MakePersonal
) -> None:
    case = deployed.start_case(deployed.actor("egs"), pb.PROCESS, site="56.4")
    url = f"/api/v1/cases/{case.instance_id}"
    assert client.get(url, headers=make_system_token("cases:read").headers).status_code == 200
    problem(client.get(url, headers=make_system_token("cases:read", sites=("56.6",)).headers), 403)
    problem(client.get(url, headers=make_system_token("cases:start").headers), 403)
    assert client.get(url, headers=bearer(personal_token("lsb", "cases:read"))).status_code == 200
    problem(client.get(url, headers=bearer(personal_token("egs566", "cases:read"))), 403)
    problem(client.get("/api/v1/cases/99999", headers=make_system_token("cases:read").headers), 404)
    problem(client.get("/api/v1/cases/99999999999999999999", headers=make_system_token("cases:read").headers), 404)
    views = [e for e in audit_events(deployed, "case_viewed") if e.details.get("ansicht") == "api"]
    assert len(views) == 2, "every read is recorded"


# --- tasks of a personal token -------------------------------------------------------------------------------------


def test_list_open_and_complete_tasks_with_optimistic_locking(
    deployed: Engine, client: FlaskClient, personal_token: MakePersonal
) -> None:
    case = deployed.start_case(deployed.actor("egs"), pb.PROCESS, site="56.4")
    headers = bearer(personal_token("egs", "tasks:work"))
    listed = client.get("/api/v1/tasks", headers=headers).get_json()["tasks"]
    task = next(t for t in listed if t["instance_id"] == case.instance_id)
    detail = client.get(f"/api/v1/tasks/{task['task_uuid']}", headers=headers).get_json()
    assert detail["name"] == pb.ANMELDEN and "vorname" in [f["name"] for f in detail["fields"]]
    url = f"/api/v1/tasks/{task['task_uuid']}/complete"
    invalid = problem(client.post(url, json={"lock_version": detail["lock_version"], "data": {}}, headers=headers), 422)
    assert "vorname" in invalid["field_errors"]
    stale = {"lock_version": detail["lock_version"] - 1, "data": pb.anmeldung()}
    problem(client.post(url, json=stale, headers=headers), 409)
    done = client.post(url, json={"lock_version": detail["lock_version"], "data": pb.anmeldung()}, headers=headers)
    assert done.status_code == 200, done.get_json()
    assert [t["name"] for t in done.get_json()["next_tasks"]] == [pb.ANNEHMEN]
    again = problem(client.post(url, json={"lock_version": detail["lock_version"], "data": pb.anmeldung()},
                                headers=headers), 409)  # fmt: skip
    assert again["title"] == "Der Stand des Vorgangs hat sich geändert"


def test_tasks_need_the_scope_and_a_person(
    client: FlaskClient, personal_token: MakePersonal, make_system_token: MakeSystem
) -> None:
    problem(client.get("/api/v1/tasks", headers=bearer(personal_token("egs", "cases:read"))), 403)
    problem(client.get("/api/v1/tasks", headers=make_system_token(*ALL_SYSTEM).headers), 403)
    lsb = bearer(personal_token("lsb", "tasks:work"))
    assert client.get("/api/v1/tasks", headers=lsb).get_json() == {"tasks": []}


def test_someone_elses_task_is_refused(deployed: Engine, client: FlaskClient, personal_token: MakePersonal) -> None:
    case = deployed.start_case(deployed.actor("egs"), pb.PROCESS, site="56.4")
    task = pb.open_task(deployed, deployed.actor("egs"), case.instance_id)
    lsb = bearer(personal_token("lsb", "tasks:work"))
    problem(client.get(f"/api/v1/tasks/{task.task_uuid}", headers=lsb), 403)
    body = {"lock_version": 1, "data": pb.anmeldung()}
    problem(client.post(f"/api/v1/tasks/{task.task_uuid}/complete", json=body, headers=lsb), 403)
    problem(client.get("/api/v1/tasks/kein-uuid", headers=lsb), 404)


# --- history (AUDIT) -------------------------------------------------------------------------------------------------


def test_history_for_the_audit_function_with_its_purpose(
    deployed: Engine, client: FlaskClient, personal_token: MakePersonal
) -> None:
    case = deployed.start_case(deployed.actor("egs"), pb.PROCESS, site="56.4")
    headers = bearer(personal_token("audit", "audit:read"))
    url = f"/api/v1/cases/{case.instance_id}/history"
    response = client.get(url, query_string={"zweck": "pruefung", "aktenzeichen": "IR-2026-17"}, headers=headers)
    assert response.status_code == 200, response.get_json()
    history = response.get_json()
    assert history["verified"] is True and [e["action"] for e in history["entries"]][:1] == ["start"]
    viewed = [e for e in audit_events(deployed, "case_viewed") if e.details.get("ansicht") == "revision"][-1]
    recorded = (viewed.actor, viewed.details["zweck"], viewed.details["aktenzeichen"])
    assert recorded == ("audit", "pruefung", "IR-2026-17")
    refused = problem(client.get(url, query_string={"zweck": "neugier", "aktenzeichen": "x"}, headers=headers), 422)
    assert set(refused["field_errors"]) == {"zweck", "aktenzeichen"}
    problem(client.get(url, headers=headers), 422)


def test_history_is_refused_without_the_audit_scope(
    deployed: Engine, client: FlaskClient, personal_token: MakePersonal, make_system_token: MakeSystem
) -> None:
    case = deployed.start_case(deployed.actor("egs"), pb.PROCESS, site="56.4")
    query = {"zweck": "pruefung", "aktenzeichen": "IR-1"}
    url = f"/api/v1/cases/{case.instance_id}/history"
    problem(client.get(url, query_string=query, headers=bearer(personal_token("audit", "exports:read"))), 403)
    problem(client.get(url, query_string=query, headers=make_system_token(*ALL_SYSTEM).headers), 403)


# --- exports ---------------------------------------------------------------------------------------------------


def test_export_registry_list_and_streamed_download(
    deployed: Engine, client: FlaskClient, personal_token: MakePersonal, make_system_token: MakeSystem
) -> None:
    headers = bearer(personal_token("egs", "exports:read"))
    names = [e["name"] for e in client.get("/api/v1/exports", headers=headers).get_json()["exports"]]
    assert {"raci", "sammelliste", "audit-csv"} <= set(names)
    response = client.get("/api/v1/exports/raci", headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed and response.get_data(as_text=True).startswith("\ufeff")
    assert audit_events(deployed, "export")[-1].details["export"] == "raci"
    refused = client.get("/api/v1/exports/audit-csv", headers=headers)
    problem(refused, 403)
    problem(client.get("/api/v1/exports/gibt-es-nicht", headers=headers), 404)
    problem(client.get("/api/v1/exports", headers=make_system_token(*ALL_SYSTEM).headers), 403)


# --- idempotency and rate limits -------------------------------------------------------------------------------


def test_a_retry_with_the_same_key_starts_no_second_case(
    deployed: Engine, client: FlaskClient, make_system_token: MakeSystem
) -> None:
    token = make_system_token("cases:start")
    headers = {**token.headers, "Idempotency-Key": "scan-4711"}
    first = client.post("/api/v1/cases", json=START, headers=headers)
    again = client.post("/api/v1/cases", json=START, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert len(faelle(deployed, "pb_antragsannahme")) == 1
    other = problem(client.post("/api/v1/cases", json={**START, "business_key": "AZ-2"}, headers=headers), 422)
    assert "Idempotency-Key" in other["detail"]
    other_token = make_system_token("cases:start")
    own = client.post("/api/v1/cases", json=START, headers={**other_token.headers, "Idempotency-Key": "scan-4711"})
    assert own.status_code == 201 and len(faelle(deployed, "pb_antragsannahme")) == 2, "keys are per token"


def test_a_retried_message_is_delivered_once(
    deployed: Engine, client: FlaskClient, make_system_token: MakeSystem
) -> None:
    instance_id = pb.case_waiting_for_documents(deployed)
    key = next(c.business_key for c in faelle(deployed, "pb_antragsannahme") if c.id == instance_id)
    headers = {**make_system_token("messages:send").headers, "Idempotency-Key": "post-1"}
    body = unterlagen(key, "Mietvertrag")
    assert client.post("/api/v1/messages", json=body, headers=headers).get_json() == {"delivered": 1}
    assert client.post("/api/v1/messages", json=body, headers=headers).get_json() == {"delivered": 1}
    assert len(audit_events(deployed, "message")) == 1


def test_a_failed_request_gives_its_key_free(
    deployed: Engine, client: FlaskClient, make_system_token: MakeSystem
) -> None:
    headers = {**make_system_token("cases:start", sites=("*",)).headers, "Idempotency-Key": "k1"}
    problem(client.post("/api/v1/cases", json={**START, "process": "fb50_eingangsservice", "site": "56.4"},
                        headers=headers), 422)  # fmt: skip
    deployed_before = len(faelle(deployed, "fb50_eingangsservice"))
    ok = client.post("/api/v1/cases", json={**START, "process": "fb50_eingangsservice", "site": "56.6"},
                     headers=headers)  # fmt: skip
    assert ok.status_code == 201, "a refused request keeps no reply: the key runs again"
    assert len(faelle(deployed, "fb50_eingangsservice")) == deployed_before + 1


def test_rate_limit_per_token(client: FlaskClient, make_system_token: MakeSystem) -> None:
    limited, other = make_system_token("cases:read", rate_limit=2), make_system_token("cases:read")
    with clock.wall_frozen(clock.wall_now().replace(second=30, microsecond=0)):
        assert [client.get("/api/v1/cases/1", headers=limited.headers).status_code for _ in range(2)] == [404, 404]
        refused = client.get("/api/v1/cases/1", headers=limited.headers)
        body = problem(refused, 429)
        assert refused.headers["Retry-After"] == "30" and "2 je Minute" in body["detail"]
        assert client.get("/api/v1/cases/1", headers=other.headers).status_code == 404, "per token"
    with clock.wall_frozen(clock.wall_now().replace(second=0, microsecond=0) + timedelta(minutes=1)):
        assert client.get("/api/v1/cases/1", headers=limited.headers).status_code == 404, "a new minute"


def test_concurrent_retries_start_one_case(deployed: Engine, live_server: str, make_system_token: MakeSystem) -> None:
    token = make_system_token("cases:start")
    headers = {**token.headers, "Idempotency-Key": "scan-parallel", "Content-Type": "application/json"}

    def send(_: int) -> tuple[int, dict[str, object]]:
        request = urllib.request.Request(f"{live_server}/api/v1/cases", json.dumps(START).encode(), headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as refused:
            assert refused.headers["Retry-After"] == "1"
            return refused.code, json.load(refused)

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(send, range(6)))
    assert {status for status, _ in answers} <= {201, 409}, answers
    started = [body for status, body in answers if status == 201]
    assert started and all(body == started[0] for body in started)
    assert all("gerade bearbeitet" in str(body["detail"]) for status, body in answers if status == 409)
    assert len(faelle(deployed, "pb_antragsannahme")) == 1, "one case, however many retries ran at once"


def test_egs_token_commands(deployed: Engine, db_url: str) -> None:
    environment = {"EGS_DATABASE_URL": db_url, "EGS_ENV": "test", "EGS_SECRET_KEY": "x"}
    created = CliRunner().invoke(cli, ["token", "create-system", "Scan", "--scope", "cases:start", "--site", "56.4",
                                       "--tage", "7"], env=environment, catch_exceptions=False)  # fmt: skip
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret.startswith("egs_") and "nicht wieder angezeigt" in created.stderr
    listed = CliRunner().invoke(cli, ["token", "list"], env=environment)
    assert secret[4:12] in listed.output and secret not in listed.output
    refused = CliRunner().invoke(cli, ["token", "create-system", "Scan", "--scope", "tasks:work", "--site", "56.4"],
                                 env=environment)  # fmt: skip
    assert refused.exit_code == 2 and "Umfänge" in refused.output
    revoked = CliRunner().invoke(cli, ["token", "revoke", secret[4:12]], env=environment)
    assert revoked.exit_code == 0 and "widerrufen" in revoked.output
    assert [e.actor for e in audit_events(deployed, "api_token_revoked")] == ["cli"]


def test_personal_token_on_mein_konto_is_shown_once(deployed: Engine, client: FlaskClient) -> None:
    assert login(client, "egs").status_code == 302
    page = client.get("/konto").get_data(as_text=True)
    assert 'value="tasks:work"' in page and 'value="audit:read"' not in page, "no scope that only gets refused"
    created = post_form(client, "/konto/token", {"bezeichnung": "Mein Skript", "umfang": ["tasks:work"], "tage": "30"},
                        page_url="/konto")  # fmt: skip
    html = created.get_data(as_text=True)
    token = re.search(r'<code id="neues-token">(egs_[^<]+)</code>', html)
    assert created.status_code == 200 and token, html
    assert created.headers["Cache-Control"] == "no-store"
    assert token.group(1) not in client.get("/konto").get_data(as_text=True), "shown once"
    assert client.get("/api/v1/tasks", headers=bearer(token.group(1))).status_code == 200
    prefix = token.group(1)[4:12]
    post_form(client, f"/konto/token/{prefix}/widerrufen", {}, page_url="/konto")
    problem(client.get("/api/v1/tasks", headers=bearer(token.group(1))), 401)
    invalid = post_form(client, "/konto/token", {"bezeichnung": "", "umfang": ["audit:read"]}, page_url="/konto")
    assert invalid.status_code == 422 and "Umfänge" in invalid.get_data(as_text=True)


@pytest.mark.parametrize(
    ("scope", "method", "path", "body"),
    [
        ("cases:start", "POST", "/api/v1/cases", START),
        ("cases:read", "GET", "/api/v1/cases/1", None),
        ("messages:send", "POST", "/api/v1/messages", {"message": "Unterlagen eingegangen", "business_key": "VG-1"}),
        ("tasks:work", "GET", "/api/v1/tasks", None),
        ("tasks:work", "GET", "/api/v1/tasks/{task}", None),
        ("tasks:work", "POST", "/api/v1/tasks/{task}/complete", {"lock_version": 1, "data": {}}),
        ("audit:read", "GET", "/api/v1/cases/1/history?zweck=pruefung&aktenzeichen=IR-1", None),
        ("exports:read", "GET", "/api/v1/exports", None),
        ("exports:read", "GET", "/api/v1/exports/raci", None),
    ],
)
def test_each_operation_needs_its_scope(
    deployed: Engine, client: FlaskClient, make_user: Callable[..., object], scope: str, method: str, path: str,
    body: dict[str, object] | None,
) -> None:  # fmt: skip
    make_user("alles", ("EGS", "56.4"), ("AUDIT", "*"))
    case = deployed.start_case(deployed.actor("alles"), pb.PROCESS, site="56.4")
    task = pb.open_task(deployed, deployed.actor("alles"), case.instance_id).task_uuid
    others = [s for s in deployed.offered_scopes(deployed.actor("alles")) if s != scope]
    without = bearer(deployed.create_personal_token(deployed.actor("alles"), "ohne", others).token)
    url = path.replace("{task}", task)
    refused = problem(client.open(url, method=method, json=body, headers=without), 403)
    assert scope in refused["detail"]
    with_it = bearer(deployed.create_personal_token(deployed.actor("alles"), "mit", [scope]).token)
    assert client.open(url, method=method, json=body, headers=with_it).status_code != 403
