"""The EGS web application: a thin Flask layer over ``engine.api.Engine``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from flask import Flask

from engine.api import Engine
from engine.config import load_settings

from . import errors, formatting, security
from .extensions import ENGINE_KEY, csrf


class EgsFlask(Flask):
    """Flask, logging unexpected errors without their text or stack (they may hold personal data)."""

    def log_exception(self, exc_info: tuple[type, BaseException, TracebackType] | tuple[None, None, None]) -> None:
        errors.log_unexpected(self.logger, exc_info)


def create_app(config: Mapping[str, Any] | None = None, engine: Engine | None = None) -> Flask:
    """Create the web app on ``engine`` (default: one built from the EGS_* settings).

    :raises SchemaOutdatedError: if the database schema is not current (run ``egs init-db``).
    """
    own_engine = engine is None
    engine = engine or Engine(load_settings())
    try:
        engine.ensure_schema()
    except Exception:
        if own_engine:
            engine.close()
        raise

    app = EgsFlask(__name__)
    settings = engine.settings
    app.config.from_mapping(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="egs_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        # The cookie lives as long as a session may (EGS_SESSION_MAX_HOURS); the session itself lives on the
        # server and ends earlier when it is ended or idle (webapp/security.py).
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_max_hours),
        WTF_CSRF_TIME_LIMIT=int(settings.session_max_hours * 3600),  # a token lives as long as its session
        MAX_CONTENT_LENGTH=1024 * 1024,
        EGS_HSTS=settings.is_production,  # production runs behind TLS only (README, "Production")
    )
    if config:
        app.config.update(config)
    app.extensions[ENGINE_KEY] = engine

    csrf.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    formatting.init_app(app)

    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    has_app_js = (Path(app.static_folder or "") / "dist" / "app.js").is_file()
    app.jinja_env.globals["has_app_js"] = has_app_js
    app.jinja_env.globals["has_diagram_js"] = (Path(app.static_folder or "") / "dist" / "diagram.js").is_file()

    from .blueprints import register_blueprints

    register_blueprints(app)
    return app
