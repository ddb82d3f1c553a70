"""Login, logout, protected pages and the login throttle."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from engine import clock
from engine.api import Engine
from engine.models import User
from tests.support.records import audit_events
from tests.support.web import csrf_token, login, start_case

WRONG = "Benutzername oder Passwort ist falsch."


@pytest.mark.parametrize(
    "path",
    ["/", "/vorgaenge/neu", "/vorgaenge/1", "/aufgaben/0b5c8a59-7d0e-4a53-9c5e-0e4f3d1b2a11"],
)
def test_pages_require_login(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/anmelden?next=")


def test_login_returns_to_the_requested_page(client, deployed: Engine) -> None:
    response = client.get("/vorgaenge/neu")
    target = response.headers["Location"]
    assert "Anmelden" in client.get(target).get_data(as_text=True)

    response = login(client, "egs", next_url="/vorgaenge/neu")

    assert response.status_code == 302 and response.headers["Location"] == "/vorgaenge/neu"
    assert [e.actor for e in audit_events(deployed, "login")] == ["egs"]


@pytest.mark.parametrize(
    "next_url", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "x"]
)
def test_login_never_redirects_off_site(client, next_url: str) -> None:
    response = login(client, "egs", next_url=next_url)
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_wrong_password_shows_german_error_and_is_audited(client, deployed: Engine) -> None:
    response = login(client, "egs", "falsch")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert WRONG in html
    assert 'value="egs"' in html, "the user name stays filled in"
    failed = audit_events(deployed, "login_failed")
    assert [e.actor for e in failed] == ["egs"]
    assert "falsch" not in str(failed[0].details), "passwords are never audited"
    assert client.get("/").status_code == 302, "still not logged in"


def test_unknown_user_gets_the_same_message(client, deployed: Engine) -> None:
    response = login(client, "niemand", "demo")
    assert WRONG in response.get_data(as_text=True)
    assert [e.actor for e in audit_events(deployed, "login_failed")] == ["niemand"]


def test_login_throttle_refuses_unchecked_after_five_failures_then_summarises(client, deployed: Engine) -> None:
    for _ in range(5):
        assert login(client, "egs", "falsch").status_code == 200

    refused = login(client, "egs", "demo")  # even the right password, from the address that failed

    assert refused.status_code == 429
    assert "Zu viele fehlgeschlagene Anmeldeversuche. Bitte warten Sie 2 Sekunden" in refused.get_data(as_text=True)
    assert refused.headers["Retry-After"] == "2"
    assert client.get("/").status_code == 302
    assert len(audit_events(deployed, "login_failed")) == 5, "refused tries are not checked"
    assert audit_events(deployed, "login_throttled") == [], "summarised when the block is over"
    assert login(client, "tl", "demo").status_code == 302, "other user names are not affected"

    with clock.wall_frozen(clock.wall_now() + timedelta(seconds=3)):
        assert login(app_client(client), "egs", "demo").status_code == 302, "after the delay the right one works"
    [summary] = audit_events(deployed, "login_throttled")
    assert summary.actor == "egs" and summary.details["abgewiesen"] == 1 and summary.details["bereich"] == "benutzer"


def test_login_without_csrf_token_is_refused(client, deployed: Engine) -> None:
    response = client.post("/anmelden", data={"username": "egs", "password": "demo"})
    assert response.status_code == 400
    assert "Sicherheitsprüfung fehlgeschlagen" in response.get_data(as_text=True)
    assert audit_events(deployed, "login") == []


def test_logout_ends_the_session(client_for, deployed: Engine) -> None:
    egs = client_for("egs")
    token = csrf_token(egs.get("/").get_data(as_text=True))

    response = egs.post("/abmelden", data={"csrf_token": token})

    assert response.status_code == 302 and response.headers["Location"] == "/anmelden"
    assert "Sie wurden abgemeldet." in egs.get("/anmelden").get_data(as_text=True)
    assert egs.get("/").status_code == 302
    assert [e.actor for e in audit_events(deployed, "logout")] == ["egs"]


def test_a_disabled_account_is_logged_out(client_for, deployed: Engine) -> None:
    egs = client_for("egs")
    url = start_case(egs)
    with deployed.db.transaction() as session:
        session.execute(sa.update(User).where(User.username == "egs").values(active=False))

    assert egs.get(url).headers["Location"].startswith("/anmelden")
    with deployed.db.transaction() as session:
        session.execute(sa.update(User).where(User.username == "egs").values(active=True))
    assert egs.get("/").status_code == 302, "the session was cleared, not just paused"


def app_client(client):  # type: ignore[no-untyped-def]
    """A fresh client of the same app (another browser at the same address)."""
    return client.application.test_client()


def test_header_shows_user_groups_and_sites(client_for) -> None:
    html = client_for("egs").get("/").get_data(as_text=True)
    assert "Erika Empfang (EGS)" in html
    assert "(Eingangsservice, Fachdienst 56.4)" in html
    assert "Zum Inhalt springen" in html
