"""Headless Debian Chromium for the browser tests (Playwright drives it; it cannot download browsers here)."""

from __future__ import annotations

import re

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
