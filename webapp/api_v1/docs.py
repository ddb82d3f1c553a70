"""The OpenAPI 3.1 document of the API (written by SpecTree from the routes' models) and a readable page of it,
rendered on the server: no Swagger UI from a CDN, nothing our CSP would have to allow, works offline."""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from flask import jsonify, render_template

from engine.api_tokens import SCOPES

from ..errors import MESSAGES, PROBLEM_MEDIA_TYPE, TITLES
from . import bp
from .routes import EXPORT_DOWNLOAD
from .spec import spec

JSON = "application/json"


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """The OpenAPI document: SpecTree's, with problems as ``application/problem+json`` and the streamed export."""
    found = copy.deepcopy(spec.spec)
    found.pop("servers", None)
    found["info"]["description"] += "\n\nUmfänge der Token: " + "; ".join(f"`{k}`: {v}" for k, v in SCOPES.items())
    download = dict(EXPORT_DOWNLOAD)
    media_types = download.pop("media_types")
    problems = copy.deepcopy(found["paths"]["/api/v1/exports"]["get"]["responses"])
    problems.pop("200", None)
    download["responses"] = {
        "200": {"description": "Die Datei", "content": {t: {"schema": {"type": "string"}} for t in media_types}},
        **problems,
    }
    download["security"] = [{"token": []}]
    found["paths"]["/api/v1/exports/{name}"] = {"get": download}
    for item in found["paths"].values():
        for operation in item.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if int(status) >= 400 and JSON in content:
                    content[PROBLEM_MEDIA_TYPE] = content.pop(JSON)
                    response["description"] = TITLES.get(int(status), response.get("description", ""))
    return found


@bp.get("/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3.1 document (no token needed)."""
    return jsonify(document())


@bp.get("/dokumentation")
def documentation() -> Any:
    """The API described for people: operations, parameters, bodies and problems, from the document."""
    found = document()
    operations = [
        {"method": method.upper(), "path": path, **operation}
        for path, item in found["paths"].items()
        for method, operation in item.items()
    ]
    problems = [(status, TITLES[status], MESSAGES.get(status, "")) for status in sorted(TITLES) if status >= 400]
    return render_template("api_v1/documentation.html", doc=found, operations=operations, problems=problems,
                           schemas=found.get("components", {}).get("schemas", {}), scopes=SCOPES)  # fmt: skip
