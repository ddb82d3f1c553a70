"""Blueprints, one per area of the application."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    """Register every blueprint on ``app``."""
    from . import auth, cases, health, inbox, incidents, reports, tasks

    for module in (auth, inbox, cases, tasks, reports, incidents, health):
        app.register_blueprint(module.bp)
