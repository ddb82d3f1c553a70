"""Helpers for the REST API tests: tokens, bearer headers, problem checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engine.api import Engine
from engine.auth import system_actor

PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class SystemToken:
    token: str
    prefix: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


def bearer(token: str, **more: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **more}


def system_token(engine: Engine, scopes: Sequence[str], sites: Sequence[str], rate_limit: int = 1000) -> SystemToken:
    created = engine.create_system_token(system_actor("betrieb"), "Poststelle Scan", scopes, sites, 30, rate_limit)
    return SystemToken(created.token, created.prefix)


def problem(response: Any, status: int) -> dict[str, Any]:
    """The Problem Details body of a response that must have ``status`` (German title and detail)."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == PROBLEM, response.mimetype
    body: dict[str, Any] = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"], body
    return body
