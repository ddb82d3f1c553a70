"""Offers that end in 403/422: every demo user is offered only what they may use.

The walk: for every demo user, every link of the main navigation answers 200, every process offered on
"Neuer Vorgang" starts at every site offered for it (302 to its first task or the case, which answers 200),
and every site offered on the Sammellisten page answers 200.
"""

from __future__ import annotations

from collections.abc import Callable

import lxml.html
import pytest
from flask.testing import FlaskClient

from engine.api import Engine
from engine.demo import DEMO_USERS
from tests.support.users import PASSWORD
from tests.support.web import csrf_token

DEMO_NAMES = [username for username, _, _ in DEMO_USERS]


def nav_links(html: str) -> list[str]:
    page = lxml.html.fromstring(html)
    return [a.get("href") for a in page.xpath("//nav[contains(@class, 'hauptnavigation')]//a[@href]")]


def offered_starts(html: str) -> list[tuple[str, str]]:
    """(process, site) pairs the start form offers: each process option with the sites named for it."""
    page = lxml.html.fromstring(html)
    site_options = [o.get("value") for o in page.xpath("//*[@id='feld-standort']/option") if o.get("value")]
    pairs = []
    for option in page.xpath("//*[@id='feld-prozess']/option"):
        if option.get("value"):
            sites = option.get("data-standorte", "").split()
            assert set(sites) <= set(site_options), "the site select offers every site a process names"
            pairs += [(option.get("value"), site) for site in sites]
    return pairs


@pytest.mark.parametrize("username", DEMO_NAMES)
def test_every_offer_of_every_demo_user_answers_200(client_for: Callable[[str], FlaskClient], username: str) -> None:
    client = client_for(username)
    links = nav_links(client.get("/").get_data(as_text=True))
    assert "/" in links or "/aufgaben" in links or links, "the navigation is shown"
    for href in links:
        assert client.get(href).status_code == 200, (username, href)

    if "/vorgaenge/neu" in links:
        form = client.get("/vorgaenge/neu").get_data(as_text=True)
        starts = offered_starts(form)
        assert starts, f"{username} is offered „Neuer Vorgang“ without a process to start"
        for process_id, site in starts:
            token = csrf_token(client.get("/vorgaenge/neu").get_data(as_text=True))
            started = client.post("/vorgaenge/neu", data={"csrf_token": token, "prozess": process_id, "standort": site})
            assert started.status_code == 302, (username, process_id, site, started.status_code)
            assert client.get(started.headers["Location"]).status_code == 200, (username, process_id, site)

    if "/sammellisten" in links:
        page = lxml.html.fromstring(client.get("/sammellisten").get_data(as_text=True))
        for site in [o.get("value") for o in page.xpath("//*[@id='standort']/option")]:
            response = client.get(f"/sammellisten?standort={site}&art=EGZ&monat=2025-05")
            assert response.status_code == 200, (username, site)


@pytest.mark.parametrize(
    ("username", "start", "payment_lists"),
    [
        ("egs", True, True),
        ("lsb", False, False),
        ("ifk", True, True),
        ("tl", False, True),
        ("fdl", True, True),
        ("fb50", False, False),
        ("egs566", True, True),
        ("modeller", False, False),
        ("audit", False, True),
    ],
)
def test_navigation_offers_only_what_the_user_may_use(
    client_for: Callable[[str], FlaskClient], username: str, start: bool, payment_lists: bool
) -> None:
    links = nav_links(client_for(username).get("/").get_data(as_text=True))
    assert ("/vorgaenge/neu" in links, "/sammellisten" in links) == (start, payment_lists)


def test_fb50_intake_is_not_offered_where_it_does_not_run(
    client_for: Callable[[str], FlaskClient], deployed: Engine
) -> None:
    """The FB 50 intake runs at 56.6–56.8 only: the clerk at 56.4 is not offered it (it ended on a 422)."""
    at_564 = offered_starts(client_for("egs").get("/vorgaenge/neu").get_data(as_text=True))
    assert "fb50_eingangsservice" not in {process for process, _ in at_564}
    assert ("pb_antragsannahme", "56.4") in at_564
    at_566 = offered_starts(client_for("egs566").get("/vorgaenge/neu").get_data(as_text=True))
    assert ("fb50_eingangsservice", "56.6") in at_566
    egs = deployed.actor("egs")
    assert "fb50_eingangsservice" not in [p.process_id for p in deployed.startable_processes(egs)]


def test_a_process_at_a_site_where_it_is_not_offered_keeps_the_form(
    client_for: Callable[[str], FlaskClient], deployed: Engine, make_user
) -> None:  # type: ignore[no-untyped-def]
    make_user("egs_zwei", ("EGS", "56.4"), ("EGS", "56.6"))
    client = client_for("egs_zwei", PASSWORD)
    html = client.get("/vorgaenge/neu").get_data(as_text=True)
    assert ("fb50_eingangsservice", "56.6") in offered_starts(html)
    assert ("fb50_eingangsservice", "56.4") not in offered_starts(html)
    assert "– nur 56.6" in html, "the process names its sites when they differ from the site list"
    refused = client.post(
        "/vorgaenge/neu", data={"csrf_token": csrf_token(html), "prozess": "fb50_eingangsservice", "standort": "56.4"}
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Bitte einen Standort wählen, an dem Sie diesen Prozess starten dürfen." in page
    assert 'id="feld-prozess"' in page, "the form is shown again with the choice kept"


def test_demo_users_walk_the_fb50_intake(deployed: Engine) -> None:
    """README's demo table: egs566 (EGS at 56.6) starts the FB 50 intake and fb50 takes it over."""
    from engine import clock
    from tests.processes.test_fb50_eingangsservice import (
        AUFNEHMEN,
        DRINGLICHKEIT,
        UEBERNAHME,
        WEITERLEITUNG,
        aufnahme,
        uebernahme,
    )
    from tests.support.cases import CaseDriver

    case = CaseDriver(deployed, "fb50_eingangsservice", site="56.6", starter="egs566")
    case.complete(AUFNEHMEN, aufnahme(), as_user="egs566")
    case.complete(DRINGLICHKEIT, {"akute_notlage": False}, as_user="egs566")
    weiter = {"weitergeleitet_am": clock.today_berlin().isoformat(), "weiterleitungsweg": "hauspost"}
    case.complete(WEITERLEITUNG, weiter, as_user="egs566")
    case.complete(UEBERNAHME, uebernahme(), as_user="fb50")
    assert case.status == "completed"
