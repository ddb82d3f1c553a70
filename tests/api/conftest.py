"""REST API fixtures: the app on the ``deployed`` engine (SQLite and PostgreSQL), tokens and a client."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.api import Engine
from tests.support.api import SystemToken, system_token
from webapp import create_app


@pytest.fixture
def app(deployed: Engine) -> Flask:
    return create_app({"TESTING": True}, engine=deployed)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_system_token(deployed: Engine) -> Callable[..., SystemToken]:
    """Factory: a system token with scopes and sites (as ``egs token create-system`` makes it)."""

    def factory(*scopes: str, sites: tuple[str, ...] = ("56.4",), rate_limit: int = 1000) -> SystemToken:
        return system_token(deployed, scopes, sites, rate_limit)

    return factory


@pytest.fixture
def personal_token(deployed: Engine) -> Callable[..., str]:
    """Factory: a personal token of a demo user with scopes (as *Mein Konto* makes it)."""

    def factory(username: str, *scopes: str) -> str:
        return deployed.create_personal_token(deployed.actor(username), "Skript", scopes).token

    return factory
