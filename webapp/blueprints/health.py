"""Health check for load balancers and monitoring."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from ..extensions import get_engine

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    """200 if the database answers, else 503."""
    if get_engine().ping():
        return jsonify({"status": "ok", "database": "ok"}), 200
    return jsonify({"status": "error", "database": "unavailable"}), 503
