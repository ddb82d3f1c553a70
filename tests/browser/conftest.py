"""A live server on a real port and a headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from engine.api import Engine
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, BusinessClock
from tests.support.databases import SqliteTemplates
from tests.support.engines import make_engine
from tests.support.users import user_factory
from webapp import create_app


@pytest.fixture
def live_engine(tmp_path: Path, sqlite_templates: SqliteTemplates) -> Iterator[Engine]:
    """An engine on a copy of the deployed template (models and demo users in place)."""
    engine = make_engine(sqlite_templates.copy(tmp_path / "browser.sqlite3", deployed=True))
    yield engine
    engine.close()


@pytest.fixture
def make_live_user(live_engine: Engine):  # type: ignore[no-untyped-def]
    """Factory: a user with password 'pw' and (group, site) grants on the live server's database."""
    return user_factory(live_engine)


@pytest.fixture
def business_clock() -> BusinessClock:
    """The business time the live server's requests run at; real time until a test sets ``instant``."""
    return BusinessClock()


@pytest.fixture
def live_server(live_engine: Engine, business_clock: BusinessClock) -> Iterator[str]:
    app = create_app(engine=live_engine)
    app.wsgi_app = business_clock.wrap(app.wsgi_app)  # type: ignore[method-assign]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    """One Chromium per session (per worker); every test gets its own context."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} fehlt: 'scripts/ensure-chromium.sh' (Teil von 'make test') installiert es")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="de-DE", base_url=live_server)
    page = context.new_page()
    page.console_problems = []  # type: ignore[attr-defined]

    def note(message) -> None:  # type: ignore[no-untyped-def]
        # A 422 after invalid input is intended; everything else (CSP violations, script errors) is not.
        if message.type in ("error", "warning") and "status of 422" not in message.text:
            page.console_problems.append(message.text)

    page.on("console", note)
    page.on("pageerror", lambda error: page.console_problems.append(str(error)))
    yield page
    context.close()
