"""The REST API ``/api/v1`` for other systems and staff scripts (issue 14).

Its own blueprint: authenticated by bearer tokens only (``engine.api_tokens``; a session cookie counts for
nothing here) and therefore the one blueprint without CSRF tokens. Requests and responses are pydantic
models validated by SpecTree, which also writes the OpenAPI 3.1 document from them (``docs``). Every
operation calls ``engine.api.Engine`` like the web pages do; errors become Problem Details in
``webapp/errors.py``, the one place that maps engine errors to HTTP.
"""

from __future__ import annotations

from flask import Blueprint, Flask

from ..extensions import csrf

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")


def init_app(app: Flask) -> None:
    """Register the API (its routes import the blueprint above)."""
    from . import docs, routes  # noqa: F401  (routes on ``bp``)

    csrf.exempt(bp)
    app.register_blueprint(bp)
