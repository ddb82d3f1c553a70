"""Blueprints, one per area of the application."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    """Register every blueprint on ``app`` (and the request timing behind ``/metrics``)."""
    from . import auth, cases, health, inbox, incidents, metrics, migration, models, reports, search, steering, tasks

    for module in (auth, inbox, cases, search, tasks, steering, reports, incidents, models, migration, health, metrics):
        app.register_blueprint(module.bp)
    metrics.init_app(app)
