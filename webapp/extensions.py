"""Flask extensions and the accessor for the engine stored on the app."""

from __future__ import annotations

from flask import current_app
from flask_wtf.csrf import CSRFProtect

from engine.api import Engine

ENGINE_KEY = "egs_engine"

csrf = CSRFProtect()


def get_engine() -> Engine:
    """Return the engine of the current app (set by ``create_app``)."""
    engine: Engine = current_app.extensions[ENGINE_KEY]
    return engine
