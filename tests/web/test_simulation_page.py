"""The page "Simulation": only the site's leads, CSRF, German numbers, refusals with a message, table and SVG."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from engine.api import Engine
from engine.models import AuditEvent
from tests.support.web import csrf_token, post_form

FORM = {
    "standort": "56.4", "zugang_pb_antragsannahme": "12,5", "vzae": "4", "abwesenheit": "10", "wochenstunden": "39",
    "produktiv": "0,75", "minuten": "15", "frist": "2", "bestand": "0", "startwert": "1", "laeufe": "2",
}  # fmt: skip


@pytest.mark.parametrize("user", ["fdl", "tl"])
def test_leads_see_the_form_with_the_forecast_and_get_the_comparison(
    client_for: Callable[[str], FlaskClient], deployed: Engine, user: str
) -> None:
    client = client_for(user)
    page = client.get("/simulation").get_data(as_text=True)
    assert "Was wäre wenn" in page and 'name="zugang_pb_antragsannahme"' in page and "Prognose Mo–Fr" in page
    assert 'href="/simulation"' in page  # in the navigation
    response = post_form(client, "/simulation", FORM)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "Wie jetzt" in html and "Plus eine umgesetzte LSB-Kraft" in html and "<svg" in html and "<polyline" in html
    assert "braucht der Standort" in html and "Rückstand je Arbeitstag" in html
    with deployed.db.reading() as session:
        details = session.scalars(sa.select(AuditEvent.details).where(AuditEvent.action == "simulation")).all()
    assert details and details[-1]["arrivals"] == {"pb_antragsannahme": 12.5} and details[-1]["absence_days"] == 10


@pytest.mark.parametrize("user", ["egs", "lsb", "ifk", "audit", "modeller", "egs566"])
def test_everybody_else_is_refused_and_has_no_link(client_for: Callable[[str], FlaskClient], user: str) -> None:
    client = client_for(user)
    assert client.get("/simulation").status_code == 403
    assert 'href="/simulation"' not in client.get("/konto").get_data(as_text=True)
    token = csrf_token(client.get("/konto").get_data(as_text=True))
    assert client.post("/simulation", data={**FORM, "csrf_token": token}).status_code == 403


def test_a_lead_of_another_site_is_refused(client_for: Callable[[str], FlaskClient]) -> None:
    client = client_for("fdl")
    assert client.get("/simulation?standort=56.6").status_code == 403
    assert post_form(client, "/simulation", {**FORM, "standort": "56.6"}).status_code == 403


def test_without_csrf_token_nothing_runs(client_for: Callable[[str], FlaskClient]) -> None:
    client = client_for("fdl")
    assert client.post("/simulation", data=FORM).status_code == 400


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("vzae", "viel", "VZÄ im EGS muss eine Zahl sein"), ("vzae", "1e9", "VZÄ zwischen 0 und 100"),
     ("zugang_pb_antragsannahme", "1e12", "Zugänge je Arbeitstag"), ("laeufe", "2,5", "ganze Zahl"),
     ("minuten", "nan", "Minuten je Aufgabe muss eine Zahl sein"), ("abwesenheit", "-3", "Abwesenheitstage")],
)  # fmt: skip
def test_hostile_numbers_are_refused_with_a_german_message(
    client_for: Callable[[str], FlaskClient], field: str, value: str, message: str
) -> None:
    response = post_form(client_for("fdl"), "/simulation", {**FORM, field: value})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_the_page_says_which_staff_it_counted(client_for: Callable[[str], FlaskClient], deployed: Engine) -> None:
    from engine.demo import create_demo_staff

    client = client_for("fdl")
    page = client.get("/simulation").get_data(as_text=True)
    assert "kein EGS-Personal erfasst" in page and 'name="personal" value="eingabe"' in page  # no choice to refuse
    create_demo_staff(deployed)
    page = client.get("/simulation").get_data(as_text=True)
    assert "Personalbestand in den 20 Arbeitstagen: 3 EGS-Beschäftigte mit 2,27 VZÄ" in page  # (39 + 30 + 19,5) / 39
    assert '<option value="bestand" selected>' in page
    html = post_form(client, "/simulation", {**FORM, "personal": "bestand"}).get_data(as_text=True)
    assert "Personal, mit dem gerechnet wurde" in html and "Emma Ebert" in html and "Lars Leistung" not in html
    assert "Personal: aus dem Personalbestand des Standorts (VZÄ-Anteile wie im Konzept" in html
    html = post_form(client, "/simulation", {**FORM, "personal": "eingabe"}).get_data(as_text=True)
    assert "Personal: wie eingegeben: 4,00 VZÄ, 10,0 Abwesenheitstage." in html and "Emma Ebert" not in html
    response = post_form(client, "/simulation", {**FORM, "personal": "raten"})
    assert response.status_code == 422 and "Personal aus dem Bestand oder wie eingegeben" in response.get_data(
        as_text=True
    )
