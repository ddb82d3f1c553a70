"""Headless Debian Chromium for the browser tests (Playwright drives it; it cannot download browsers here)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from engine import clock

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def log_in(page, username: str, password: str = "demo") -> None:  # type: ignore[no-untyped-def]
    """Log in through the login form and wait for the start page (the inbox; "Modelle" for process owners)."""
    page.goto("/anmelden")
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(re.compile(r"/(modelle|vorgaenge/suche|revision/)?$"))


class BusinessClock:
    """Pins the business time (``clock.frozen``) of every request the live server answers while ``instant`` is set.

    The server answers in threads of its own, which do not share the test's context, so ``clock.frozen`` in the
    test alone does not reach it. Sessions and login limits keep the real time (``clock.wall_now``).
    """

    def __init__(self) -> None:
        self.instant: datetime | None = None

    def wrap(self, app: Callable[[dict[str, Any], Any], Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        def pinned(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            instant = self.instant
            if instant is None:
                return app(environ, start_response)
            with clock.frozen(instant):
                result = app(environ, start_response)
                try:
                    return list(result)  # the whole response at that instant
                finally:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()

        return pinned
