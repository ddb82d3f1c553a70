"""Page helpers for the web tests: log in, post forms with their CSRF token and lock_version, read pages.

CSRF protection stays on in the tests: every POST carries the token read from the page, as a browser would.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date

from flask.testing import FlaskClient

from engine.api import Engine

from .records import open_task

FormData = Mapping[str, str | Sequence[str]]
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(html: str) -> str:
    """Extract the CSRF token from a rendered page."""
    match = CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = "demo", next_url: str | None = None):  # type: ignore[no-untyped-def]
    """Post the login form with the CSRF token from the login page."""
    page = client.get("/anmelden")
    data = {"csrf_token": csrf_token(page.get_data(as_text=True)), "username": username, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/anmelden", data=data)


def post_form(client: FlaskClient, url: str, data: FormData, page_url: str | None = None):  # type: ignore[no-untyped-def]
    """Load ``page_url`` (default ``url``) for its CSRF token and lock_version, then post ``data``.

    ``data`` may override ``lock_version`` or ``csrf_token``; a value of None leaves the key out.
    """
    html = client.get(page_url or url).get_data(as_text=True)
    payload: dict[str, str | Sequence[str]] = {"csrf_token": csrf_token(html)}
    lock = lock_version(html)
    if lock is not None:
        payload["lock_version"] = str(lock)
    payload.update(data)
    payload = {k: v for k, v in payload.items() if v is not None}
    return client.post(url, data=payload)


LOCK = re.compile(r'name="lock_version" value="(\d+)"')


def lock_version(html: str) -> int | None:
    match = LOCK.search(html)
    return int(match.group(1)) if match else None


def task_link(html: str, name: str) -> str:
    """The URL of the task called ``name`` on a page (inbox or case page)."""
    match = re.search(r'href="(/aufgaben/[0-9a-f-]{36})">' + re.escape(name) + "<", html)
    assert match, f"no link to task {name!r} on the page"
    return match.group(1)


def field_error(html: str, field: str) -> str:
    """The error text shown next to a form field ('' if none)."""
    match = re.search(rf'<p class="feldfehler" id="feld-{re.escape(field)}-fehler">(.*?)</p>', html, re.S)
    return re.sub(r"<[^>]+>", "", match.group(1)).strip() if match else ""


def german(day: date) -> str:
    return day.strftime("%d.%m.%Y")


# --- walking PB Antragsannahme through the web client ---------------------------------------------------------

CLAIM_DAY = "03.02.2025"

ANMELDUNG: dict[str, str | Sequence[str]] = {
    "vorname": "Jana",
    "nachname": "Probstfeld",
    "geburtsdatum": "12.04.1988",
    "anliegen": "erstantrag",
    "tag_der_antragstellung": CLAIM_DAY,
}


def start_case(client: FlaskClient, process_id: str = "pb_antragsannahme", key: str = "07402//0094744") -> str:
    """Start a case at 56.4 through the 'Neuer Vorgang' form; return the URL it continues with."""
    html = client.get("/vorgaenge/neu").get_data(as_text=True)
    response = client.post(
        "/vorgaenge/neu",
        data={"csrf_token": csrf_token(html), "prozess": process_id, "standort": "56.4", "geschaeftszeichen": key},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return str(response.headers["Location"])


def instance_of(engine: Engine, task_url: str) -> int:
    task = open_task(engine, task_url.rsplit("/", 1)[-1])
    assert task is not None
    return task.instance_id
