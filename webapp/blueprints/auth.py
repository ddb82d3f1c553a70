"""Log in and log out; the account page: own sessions, "Überall abmelden", password, ending a user's sessions."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from engine import permissions
from engine.api_tokens import DEFAULT_DAYS, SCOPES
from engine.auth import Actor
from engine.errors import AuthenticationError, FormValidationError, LoginThrottledError, NotFoundError
from engine.notice_mail import MODES as MAIL_MODES

from ..extensions import get_engine
from ..security import current_actor, login_required, require_actor, safe_next, session_token, start_session

bp = Blueprint("auth", __name__)

MISSING = "Bitte Benutzername und Passwort eingeben."


def start_page(actor: Actor) -> str:
    """Where a login lands: "Modelle" for a process owner without a work lane, the workbench for the audit
    function, else the inbox."""
    if permissions.starts_on_models(actor):
        return url_for("models.index")
    if permissions.starts_on_workbench(actor):
        return url_for("workbench.index")
    return url_for("inbox.index")


def _form(error: str | None, username: str, next_url: str | None, status: int = 200) -> Any:
    page = render_template("auth/login.html", error=error, username=username, next_url=next_url)
    return page, status


def client_address() -> str:
    """The client's address as the server saw it (behind the TLS proxy: set gunicorn's forwarded_allow_ips)."""
    return request.remote_addr or ""


@bp.route("/anmelden", methods=["GET", "POST"])
def login() -> Any:
    """Show the login form; check the credentials (behind the login throttle) and start a session."""
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        actor = current_actor()
        if actor is not None:
            return redirect(next_url or start_page(actor))
        return _form(None, "", next_url)
    username = request.form.get("username", "").strip()[:64]
    password = request.form.get("password", "")
    if not username or not password:
        return _form(MISSING, username, next_url)
    try:
        signed_in = get_engine().login(username, password, client_address())
    except LoginThrottledError as exc:
        page, status = _form(exc.message, username, next_url, 429)
        return page, status, {"Retry-After": str(exc.retry_after)}
    except AuthenticationError as exc:
        return _form(exc.message, username, next_url)
    start_session(signed_in.token)
    flash(f"Willkommen, {signed_in.actor.display_name}.", "info")
    return redirect(next_url or start_page(signed_in.actor))


@bp.post("/abmelden")
@login_required
def logout() -> Any:
    """End this session (audited): the cookie is worth nothing afterwards, copied or not."""
    get_engine().logout(require_actor(), session_token())
    session.clear()
    flash("Sie wurden abgemeldet.", "info")
    return redirect(url_for("auth.login"))


@bp.post("/konto/token")
@login_required
def create_token() -> Any:
    """A personal token of the REST API: shown once on the page that answers, stored only hashed."""
    actor = require_actor()
    scopes = request.form.getlist("umfang")
    days = request.form.get("tage", "")
    try:
        created = get_engine().create_personal_token(
            actor, request.form.get("bezeichnung", "")[:200], scopes, int(days) if days.isdigit() else 0
        )
    except FormValidationError as exc:
        fields = {"name": "bezeichnung", "scopes": "umfang", "tage": "tage"}
        return account_page({fields.get(k, k): v for k, v in exc.field_errors.items()}, 422)
    return account_page(new_token=created.token)


@bp.post("/konto/token/<prefix>/widerrufen")
@login_required
def revoke_token(prefix: str) -> Any:
    """Revoke one of one's own tokens at once."""
    get_engine().revoke_token(require_actor(), prefix[:16])
    flash("Das Token wurde widerrufen.", "success")
    return redirect(url_for("auth.account"))


def account_page(
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
    target: str = "",
    mail_values: dict[str, str] | None = None,
    new_token: str | None = None,
) -> Any:
    actor = require_actor()
    engine = get_engine()
    page = render_template(
        "auth/konto.html",
        idle_text=_duration(engine.settings.session_idle_minutes, "Minute", "Minuten"),
        max_text=_duration(engine.settings.session_max_hours, "Stunde", "Stunden"),
        actor=actor,
        sessions=engine.sessions_of(actor, session_token() or ""),
        may_end_others=permissions.may_manage_users(actor),
        errors=errors or {},
        target=target,
        tokens=engine.tokens(actor),
        offered_scopes=[(scope, SCOPES[scope]) for scope in engine.offered_scopes(actor)],
        new_token=new_token,
        token_days=DEFAULT_DAYS,
        mail=engine.notifications.mail_choice(actor),
        mail_modes=MAIL_MODES,
        mail_values=mail_values,
    )
    return page, status


def _duration(amount: float, one: str, many: str) -> str:
    text = f"{amount:g}".replace(".", ",")
    return f"{text} {one if amount == 1 else many}"


@bp.get("/konto")
@login_required
def account() -> Any:
    """The account page: live sessions, "Überall abmelden", change password (ADMIN: end a user's sessions)."""
    return account_page()


@bp.post("/konto/ueberall-abmelden")
@login_required
def end_own_sessions() -> Any:
    """End every session of the logged-in user, this one included."""
    actor = require_actor()
    ended = get_engine().end_sessions(actor, actor.username)
    session.clear()
    flash(f"Sie wurden überall abgemeldet ({ended} Sitzung{'en' if ended != 1 else ''} beendet).", "info")
    return redirect(url_for("auth.login"))


@bp.post("/konto/passwort")
@login_required
def change_password() -> Any:
    """Change one's own password; every other session of the user ends at once."""
    actor = require_actor()
    current = request.form.get("aktuelles_passwort", "")
    new = request.form.get("neues_passwort", "")
    if new != request.form.get("neues_passwort_wiederholung", ""):
        mismatch = "Die beiden neuen Passwörter stimmen nicht überein."
        return account_page({"neues_passwort_wiederholung": [mismatch]}, 422)
    try:
        ended = get_engine().change_password(actor, session_token() or "", current, new, client_address())
    except FormValidationError as exc:
        return account_page(exc.field_errors, 422)
    except LoginThrottledError as exc:
        return account_page({"aktuelles_passwort": [exc.message]}, 429)
    if ended:
        flash(f"Ihr Passwort wurde geändert; {ended} andere Sitzung(en) beendet.", "success")
    else:
        flash("Ihr Passwort wurde geändert.", "success")
    return redirect(url_for("auth.account"))


@bp.post("/konto/sitzungen-beenden")
@login_required
def end_user_sessions() -> Any:
    """User administration (ADMIN): end every session of a user, e.g. after a lost or shared device."""
    actor = require_actor()
    username = request.form.get("benutzer", "").strip()[:64]
    if not username:
        return account_page({"benutzer": ["Bitte einen Benutzernamen eingeben."]}, 422, username)
    try:
        ended = get_engine().end_sessions(actor, username)
    except NotFoundError as exc:
        return account_page({"benutzer": [exc.message]}, 422, username)
    if username == actor.username:
        session.clear()
        return redirect(url_for("auth.login"))
    flash(f"Sitzungen von {username} beendet: {ended}.", "success")
    return redirect(url_for("auth.account"))
