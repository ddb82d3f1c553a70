"""Blueprints, one per area of the application."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    """Register every blueprint on ``app`` (and the request timing behind ``/metrics``)."""
    from . import (
        auth,
        cases,
        draft_forms,
        health,
        inbox,
        incidents,
        metrics,
        migration,
        model_releases,
        model_uploads,
        models,
        proof,
        reports,
        search,
        simulation,
        staffing,
        steering,
        tasks,
        trials,
        workbench,
    )

    for module in (
        auth,
        inbox,
        cases,
        search,
        tasks,
        steering,
        reports,
        staffing,
        simulation,
        incidents,
        models,
        model_uploads,
        model_releases,
        migration,
        proof,
        draft_forms,
        trials,
        workbench,
        health,
        metrics,
    ):
        app.register_blueprint(module.bp)
    from . import audit_process  # the audit function's process view (heat map) and event-log exports

    app.register_blueprint(audit_process.bp)
    from . import notifications  # the bell: notifications and the e-mail choice

    app.register_blueprint(notifications.bp)
    metrics.init_app(app)
    from .. import api_v1  # the REST API: tokens instead of sessions, hence its own package without CSRF

    api_v1.init_app(app)
