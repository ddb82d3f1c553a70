"""Sessions, the logged-in actor, security headers and the login throttle.

The actor is loaded from the engine on every request (grants can expire or be withdrawn at any
time), so a cookie never carries permissions, only the user name.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, redirect, request, session, url_for
from sqlalchemy.exc import SQLAlchemyError

from engine import permissions
from engine.auth import Actor
from engine.errors import AuthenticationError

from .extensions import get_engine

F = TypeVar("F", bound=Callable[..., Any])

THROTTLE_KEY = "egs_login_throttle"
_ACTOR = "egs_actor"

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


def current_actor() -> Actor | None:
    """Return the logged-in actor (loaded once per request), or None.

    A session whose account no longer exists or was disabled is cleared.
    """
    if _ACTOR in g:
        return cast(Actor | None, g.get(_ACTOR))
    actor: Actor | None = None
    username = session.get("username")
    if isinstance(username, str) and username:
        try:
            actor = get_engine().actor(username)
        except AuthenticationError:
            session.clear()
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
            return redirect(url_for("auth.login", next=target))
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
    if request.endpoint != "static":
        # Pages show case data and who is logged in: never keep them in a browser or proxy cache.
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


class LoginThrottle:
    """Count failed logins per user name in memory (per process) and refuse after too many.

    Several web workers each count on their own; the limit is a brake on guessing, not a lockout.
    """

    MAX_NAMES = 10_000

    def __init__(
        self, max_failures: int = 5, window_seconds: float = 300.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(username: str) -> str:
        return username.strip().casefold()[:64]

    def _recent(self, key: str, now: float) -> deque[float]:
        stamps = self._failures.get(key, deque())
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        return stamps

    def blocked(self, username: str) -> bool:
        """True if this user name had ``max_failures`` failed logins within the window."""
        with self._lock:
            key = self._key(username)
            stamps = self._recent(key, self._clock())
            if not stamps:
                self._failures.pop(key, None)
            return len(stamps) >= self.max_failures

    def failed(self, username: str) -> None:
        """Record a failed login."""
        with self._lock:
            now = self._clock()
            if len(self._failures) >= self.MAX_NAMES:
                self._prune(now)
            key = self._key(username)
            stamps = self._recent(key, now)
            stamps.append(now)
            self._failures[key] = stamps

    def succeeded(self, username: str) -> None:
        """Forget the failures of a user name after a successful login."""
        with self._lock:
            self._failures.pop(self._key(username), None)

    def _prune(self, now: float) -> None:
        for key in list(self._failures):
            if not self._recent(key, now):
                del self._failures[key]
        while len(self._failures) >= self.MAX_NAMES:  # still full: drop the oldest entries
            del self._failures[next(iter(self._failures))]


def login_throttle() -> LoginThrottle:
    """Return the app's login throttle."""
    throttle: LoginThrottle = current_app.extensions[THROTTLE_KEY]
    return throttle


def init_app(app: Flask) -> None:
    """Install the login throttle, security headers and the template's view of the user."""
    app.extensions[THROTTLE_KEY] = LoginThrottle(
        max_failures=int(app.config["EGS_LOGIN_MAX_FAILURES"]),
        window_seconds=float(app.config["EGS_LOGIN_WINDOW_SECONDS"]),
    )
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
        return {"current_user": actor, "may": may, "incident_count": count}
