"""REST API fixtures: the app on the ``deployed`` engine (SQLite and PostgreSQL), tokens and a client."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

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


@pytest.fixture
def live_server(deployed: Engine) -> Iterator[str]:
    """The app on a real loopback port (as tests/browser's), on either database."""
    server = make_server("127.0.0.1", 0, create_app(engine=deployed), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
