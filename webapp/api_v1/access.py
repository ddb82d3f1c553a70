"""Who calls: the bearer token of a request, checked by the engine for the operation's scope."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import request

from engine.api_tokens import Principal
from engine.errors import AuthenticationError

from ..extensions import get_engine

NO_TOKEN = (
    "Für die REST-API ist ein Token nötig (Kopfzeile „Authorization: Bearer …“); eine Anmeldung im Browser gilt hier "
    "nicht."
)


def principal(scope: str) -> Principal:
    """The principal of this request's token for ``scope`` (counted against its rate limit and recorded).

    :raises AuthenticationError: no token, or not a valid one. :raises PermissionDeniedError: no ``scope``.
    :raises RateLimitedError:
    """
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError(NO_TOKEN)
    return get_engine().api_principal(token.strip(), scope, request.method, str(request.url_rule))


def fingerprint(body: Any) -> str:
    """What makes two requests the same for an idempotency key: method, path and the body's JSON."""
    text = json.dumps([request.method, request.path, body], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
