"""Sessions, the logged-in actor and security headers.

The session lives on the server (``engine.sessions``): the signed cookie carries only the session's random
token, never permissions or the user name, and every request looks the token up. Ending a session (logout,
password change, "Überall abmelden", an administrator) therefore takes effect on the next request, and a
session ends after ``EGS_SESSION_IDLE_MINUTES`` without activity. The inbox refreshes itself in the
background with the header ``X-EGS-Hintergrund`` – such requests do not count as activity, so an inbox left
open on an unattended desk still times out. The actor is loaded on every request (grants can expire or be
withdrawn at any time).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, flash, g, redirect, request, session, url_for
from sqlalchemy.exc import SQLAlchemyError

from engine import permissions
from engine.auth import Actor
from engine.errors import SessionEndedError

from .extensions import get_engine

F = TypeVar("F", bound=Callable[..., Any])

SESSION_TOKEN = "sid"
BACKGROUND_HEADER = "X-EGS-Hintergrund"  # set by requests no person triggered (the inbox's live refresh)
_ACTOR = "egs_actor"
# Production runs behind TLS only (the session cookie is Secure): browsers are told to use nothing else, for
# a year. Without includeSubDomains: other hosts under the same name are not this application's to decide.
HSTS = "max-age=31536000"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def is_background_request() -> bool:
    """True for requests no person triggered (they do not keep a session from going idle)."""
    return request.headers.get(BACKGROUND_HEADER) == "1"


def session_token() -> str | None:
    token = session.get(SESSION_TOKEN)
    return token if isinstance(token, str) and token else None


def start_session(token: str) -> None:
    """Put a new session's token into a fresh cookie (nothing of an earlier session survives: no fixation)."""
    session.clear()
    session[SESSION_TOKEN] = token
    session.permanent = True


def current_actor() -> Actor | None:
    """Return the logged-in actor (loaded once per request), or None.

    A cookie whose session is over (ended, idle, expired, account disabled) is cleared, and the login page
    will say why.
    """
    if _ACTOR in g:
        return cast(Actor | None, g.get(_ACTOR))
    actor: Actor | None = None
    token = session_token()
    if token is not None:
        try:
            actor = get_engine().session_actor(token, activity=not is_background_request())
        except SessionEndedError as exc:
            session.clear()
            flash(exc.message, "info")
    elif "username" in session:
        session.clear()  # a cookie from before server-side sessions: worth nothing now
    setattr(g, _ACTOR, actor)
    return actor


def loaded_actor() -> Actor | None:
    """Return the actor if this request already loaded it (never touches the database)."""
    return cast(Actor | None, g.get(_ACTOR))


def require_actor() -> Actor:
    """Return the actor inside a ``login_required`` view."""
    actor = current_actor()
    if actor is None:  # login_required ran before, so this is a programming error
        raise RuntimeError("view is not protected by login_required")
    return actor


def login_required(view: F) -> F:
    """Redirect to the login page unless someone is logged in (GET requests come back afterwards)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_actor() is None:
            target = None
            if request.method == "GET":
                query = request.query_string.decode("utf-8", "replace")
                target = request.path + (f"?{query}" if query else "")
            login_url = url_for("auth.login", next=target)
            if request.headers.get("HX-Request"):
                # htmx would follow a redirect inside the page; this makes the browser go to the login page.
                return Response(status=204, headers={"HX-Redirect": login_url})
            return redirect(login_url)
        return view(*args, **kwargs)

    return cast(F, wrapped)


def safe_next(target: str | None) -> str | None:
    """Return ``target`` if it is a path on this site, else None (no open redirects)."""
    if not target or "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _add_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config.get("EGS_HSTS"):
        response.headers["Strict-Transport-Security"] = HSTS
    if request.endpoint != "static":
        # Pages show case data and who is logged in: never keep them in a browser or proxy cache.
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def init_app(app: Flask) -> None:
    """Install the security headers and the template's view of the user."""
    app.after_request(_add_headers)

    @app.context_processor
    def _user() -> dict[str, Any]:
        # Error pages must render even when the database is down: only use an actor already loaded.
        actor = loaded_actor()
        may = None
        if actor is not None:
            try:
                may = get_engine().flags(actor)
            except SQLAlchemyError:  # an error page renders without the offers that need the database
                may = permissions.flags(actor, startable_processes=0)
        count = 0
        if actor is not None and may is not None and may.may_handle_incidents:
            try:
                count = get_engine().incident_count(actor)
            except SQLAlchemyError:  # the page (maybe an error page) still renders, without the count
                count = 0
        return {"current_user": actor, "may": may, "incident_count": count,
                "notification_count": functools.partial(_unread, actor)}  # fmt: skip


def _unread(actor: Actor | None) -> int:
    """The bell's count, asked only by templates that show the bell (not by every partial)."""
    if actor is None:
        return 0
    cached = g.get("egs_unread")
    if cached is None:
        try:
            cached = get_engine().notifications.unread(actor)
        except SQLAlchemyError:  # as above: the page renders without the bell's count
            cached = 0
        g.egs_unread = cached
    return int(cached)
