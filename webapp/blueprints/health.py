"""Health check for load balancers and monitoring."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, jsonify

from ..extensions import get_engine

bp = Blueprint("health", __name__)
log = logging.getLogger("egs.web.health")


@bp.get("/healthz")
def healthz() -> Any:
    """200 if the database answers, else 503."""
    try:
        ok = get_engine().ping()
    except Exception as exc:  # any driver error means "unhealthy"; its text stays out of the response
        log.warning("Datenbank nicht erreichbar (%s)", type(exc).__name__)
        ok = False
    if ok:
        return jsonify({"status": "ok", "database": "ok"}), 200
    return jsonify({"status": "error", "database": "unavailable"}), 503
