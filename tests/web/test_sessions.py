"""Server-side sessions (issue 10, "Logout does not end the session"): logout, "Überall abmelden", a password
change and user administration end sessions at once – also for a copied cookie; idle timeout and lifetime."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa
from flask.testing import FlaskClient

from engine import clock
from engine.api import Engine
from engine.models import HumanTask, UserSession
from tests.support import pb
from tests.support.records import audit_events
from tests.support.users import PASSWORD
from tests.support.web import csrf_token, login, post_form

COOKIE = "egs_session"
NEW_PASSWORD = "ein-neues-langes-passwort"


def copy_of(client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of ``client``'s session cookie."""
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    thief = client.application.test_client()
    thief.set_cookie(COOKIE, cookie.value)
    return thief


def logged_out(client: FlaskClient) -> bool:
    response = client.get("/")
    return response.status_code == 302 and response.headers["Location"].startswith("/anmelden")


def change_password(client: FlaskClient, current: str, new: str):  # type: ignore[no-untyped-def]
    data = {"aktuelles_passwort": current, "neues_passwort": new, "neues_passwort_wiederholung": new}
    return post_form(client, "/konto/passwort", data, page_url="/konto")


@contextmanager
def later(minutes: float) -> Iterator[None]:
    with clock.wall_frozen(clock.wall_now() + timedelta(minutes=minutes)):
        yield


def test_a_copied_cookie_is_worthless_after_logout(client_for, deployed: Engine) -> None:
    egs = deployed.actor("egs")
    case = deployed.start_case(egs, pb.PROCESS)
    [task] = deployed.open_tasks(egs, case.instance_id)
    browser = client_for("egs")
    thief, second_thief = copy_of(browser), copy_of(browser)
    assert thief.get("/").status_code == 200, "a copy works while the session lives (it is the same session)"
    page = thief.get(f"/aufgaben/{task.task_uuid}").get_data(as_text=True)

    post_form(browser, "/abmelden", {}, page_url="/")

    claim = thief.post(f"/aufgaben/{task.task_uuid}/uebernehmen", data={"csrf_token": csrf_token(page)})
    assert claim.status_code == 302 and claim.headers["Location"].startswith("/anmelden")
    assert logged_out(second_thief), "inbox after logout"
    with deployed.db.reading() as session:
        assert session.scalar(sa.select(HumanTask.assignee_id).where(HumanTask.task_uuid == task.task_uuid)) is None
    assert audit_events(deployed, "claim") == []


def test_ueberall_abmelden_ends_every_session_of_the_user(client_for, deployed: Engine) -> None:
    desk, laptop, colleague = client_for("egs"), client_for("egs"), client_for("tl")
    page = desk.get("/konto").get_data(as_text=True)
    assert "2 aktive Sitzungen" in page and "diese Sitzung" in page

    response = post_form(desk, "/konto/ueberall-abmelden", {}, page_url="/konto")

    assert response.headers["Location"] == "/anmelden"
    assert "Sie wurden überall abgemeldet (2 Sitzungen beendet)." in desk.get("/anmelden").get_data(as_text=True)
    assert logged_out(desk) and logged_out(laptop)
    assert not logged_out(colleague), "other users keep their sessions"
    [event] = audit_events(deployed, "sessions_ended")
    assert event.actor == "egs" and event.details == {"user": "egs", "sessions": 2}


def test_a_password_change_ends_the_other_sessions_at_once(client_for, make_user, deployed: Engine) -> None:
    make_user("hkoch", ("EGS", "56.4"))
    here, there = client_for("hkoch", PASSWORD), client_for("hkoch", PASSWORD)
    thief = copy_of(there)

    short = change_password(here, PASSWORD, "kurz")
    assert short.status_code == 422 and "mindestens 12 Zeichen" in short.get_data(as_text=True)
    wrong = change_password(here, "falsch", NEW_PASSWORD)
    assert wrong.status_code == 422 and "Das bisherige Passwort ist nicht richtig." in wrong.get_data(as_text=True)
    assert not logged_out(there)

    changed = change_password(here, PASSWORD, NEW_PASSWORD)

    assert changed.status_code == 302
    assert "1 andere Sitzung(en) beendet" in here.get("/konto").get_data(as_text=True)
    assert not logged_out(here), "the person who changed it stays logged in"
    assert logged_out(there) and logged_out(thief)
    fresh = here.application.test_client()
    assert login(fresh, "hkoch", PASSWORD).status_code == 200, "the old password no longer works"
    assert login(fresh, "hkoch", NEW_PASSWORD).status_code == 302
    assert not logged_out(fresh)
    [event] = audit_events(deployed, "password_changed")
    assert event.details == {"user": "hkoch", "sessions_ended": 1}


def test_user_administration_ends_a_users_sessions(client_for, make_user, deployed: Engine) -> None:
    make_user("admin1", ("ADMIN", "*"))
    admin, clerk, lead = client_for("admin1", PASSWORD), client_for("egs"), client_for("tl")
    assert "Sitzungen eines Benutzers beenden" in admin.get("/konto").get_data(as_text=True)
    assert "Sitzungen eines Benutzers beenden" not in lead.get("/konto").get_data(as_text=True)

    refused = post_form(lead, "/konto/sitzungen-beenden", {"benutzer": "egs"}, page_url="/konto")
    assert refused.status_code == 403 and not logged_out(clerk)
    unknown = post_form(admin, "/konto/sitzungen-beenden", {"benutzer": "niemand"}, page_url="/konto")
    assert unknown.status_code == 422 and "Diesen Benutzer gibt es nicht." in unknown.get_data(as_text=True)

    ended = post_form(admin, "/konto/sitzungen-beenden", {"benutzer": "egs"}, page_url="/konto")

    assert ended.status_code == 302 and logged_out(clerk)
    assert "Ihre Sitzung wurde beendet." in clerk.get("/anmelden").get_data(as_text=True)
    assert [e.details for e in audit_events(deployed, "sessions_ended")] == [{"user": "egs", "sessions": 1}]


def test_a_session_ends_after_the_idle_time_and_background_refreshes_do_not_count(client_for) -> None:
    egs = client_for("egs")
    with later(20):
        assert egs.get("/", headers={"HX-Request": "true", "X-EGS-Hintergrund": "1"}).status_code == 200
    with later(31):  # 31 minutes after the last thing a person did
        refresh = egs.get("/", headers={"HX-Request": "true", "X-EGS-Hintergrund": "1"})
    assert refresh.status_code == 204, "htmx is sent to the login page instead of swapping it into the list"
    assert refresh.headers["HX-Redirect"].startswith("/anmelden?next=")
    assert logged_out(egs)
    assert "nach längerer Untätigkeit beendet" in egs.get("/anmelden").get_data(as_text=True)


def test_activity_keeps_a_session_alive_until_its_lifetime_ends(client_for, deployed: Engine) -> None:
    egs = client_for("egs")
    for minutes in range(20, 9 * 60, 20):  # a person working all day, every 20 minutes
        with later(minutes):
            assert egs.get("/").status_code == 200, f"after {minutes} minutes"
    with later(9 * 60 + 1):
        assert logged_out(egs)
    with deployed.db.reading() as session:
        assert session.scalar(sa.select(UserSession.end_reason)) == "abgelaufen"


def test_moving_the_business_time_does_not_end_a_session(client_for) -> None:
    """Tests (and the timer worker) move the engine's business time; sessions run on the real time."""
    egs = client_for("egs")
    with clock.frozen(clock.now() + timedelta(days=16)):
        assert egs.get("/").status_code == 200


def test_the_idle_time_is_a_setting(deployed: Engine) -> None:
    from tests.support.engines import make_engine
    from webapp import create_app

    short = make_engine(deployed.settings.database_url, session_idle_minutes=5)
    try:
        client = create_app({"TESTING": True}, engine=short).test_client()
        assert login(client, "egs").status_code == 302
        with later(6):
            assert logged_out(client)
    finally:
        short.close()


def test_a_cookie_of_the_old_kind_logs_nobody_in(app, client) -> None:
    """Before server-side sessions the signed cookie carried the user name; such a cookie is cleared."""
    with client.session_transaction() as session:
        session["username"] = "egs"
    assert logged_out(client)


def test_every_setting_is_in_the_readmes_configuration_table() -> None:
    from engine.config import SETTINGS
    from tests.support.engines import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Configuration") : readme.index("## Processes")]
    missing = [s.env for s in SETTINGS if f"`{s.env}`" not in table]
    assert not missing, missing
    assert "| `EGS_SESSION_IDLE_MINUTES` | `30` |" in table and "| `EGS_SESSION_MAX_HOURS` | `9` |" in table
