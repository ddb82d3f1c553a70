"""Log in and log out."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from engine import permissions
from engine.auth import Actor
from engine.errors import AuthenticationError

from ..extensions import get_engine
from ..security import current_actor, login_required, login_throttle, require_actor, safe_next

bp = Blueprint("auth", __name__)
log = logging.getLogger("egs.web.auth")

THROTTLED = (
    "Zu viele fehlgeschlagene Anmeldeversuche für diesen Benutzernamen. "
    "Bitte warten Sie einige Minuten und versuchen Sie es dann erneut."
)
MISSING = "Bitte Benutzername und Passwort eingeben."


def start_page(actor: Actor) -> str:
    """Where a login lands: "Modelle" for a process owner without a work lane, the case search for the audit
    function, else the inbox."""
    if permissions.starts_on_models(actor):
        return url_for("models.index")
    if permissions.starts_on_case_search(actor):
        return url_for("search.index")
    return url_for("inbox.index")


def _form(error: str | None, username: str, next_url: str | None, status: int = 200) -> Any:
    page = render_template("auth/login.html", error=error, username=username, next_url=next_url)
    return page, status


@bp.route("/anmelden", methods=["GET", "POST"])
def login() -> Any:
    """Show the login form; check the credentials and start a session."""
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
    throttle = login_throttle()
    if throttle.blocked(username):
        log.warning("Anmeldung abgewiesen: zu viele Fehlversuche für einen Benutzernamen")
        get_engine().record_login_refused(username)
        return _form(THROTTLED, username, next_url, 429)
    try:
        actor = get_engine().login(username, password)
    except AuthenticationError as exc:
        throttle.failed(username)
        return _form(exc.message, username, next_url)
    throttle.succeeded(username)
    session.clear()
    session["username"] = actor.username
    session.permanent = True
    flash(f"Willkommen, {actor.display_name}.", "info")
    return redirect(next_url or start_page(actor))


@bp.post("/abmelden")
@login_required
def logout() -> Any:
    """End the session (audited)."""
    get_engine().logout(require_actor())
    session.clear()
    flash("Sie wurden abgemeldet.", "info")
    return redirect(url_for("auth.login"))
