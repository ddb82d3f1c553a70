"""Web fixtures: the app on the ``deployed`` engine (SQLite and PostgreSQL) and logged-in clients."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.api import Engine
from tests.support.web import login
from webapp import create_app


@pytest.fixture
def app(deployed: Engine) -> Flask:
    """The web app on an engine with the processes deployed and the demo users created."""
    return create_app({"TESTING": True}, engine=deployed)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def client_for(app: Flask) -> Callable[[str], FlaskClient]:
    """Factory: a new client logged in as ``username`` (demo password)."""

    def factory(username: str, password: str = "demo") -> FlaskClient:
        new_client = app.test_client()
        response = login(new_client, username, password)
        assert response.status_code == 302, response.get_data(as_text=True)
        return new_client

    return factory
