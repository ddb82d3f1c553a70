"""The staffing pages (issue 13): only the site's leads, CSRF on every form, refusals shown, CSV both ways."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta

import lxml.html
from flask.testing import FlaskClient

from engine import clock
from engine.api import Engine
from engine.demo import create_demo_staff
from tests.support.records import audit_events
from tests.support.web import csrf_token, german, post_form

PAGE = "/personal/?standort=56.4"


def test_fdl_sieht_die_personallage(client_for: Callable[[str], FlaskClient], deployed: Engine) -> None:
    create_demo_staff(deployed)
    fdl = client_for("fdl")
    html = fdl.get(PAGE).get_data(as_text=True)
    page = lxml.html.fromstring(html)
    assert page.xpath("//svg[@role='img']/title")[0].text.startswith("Kapazität und Bedarf")
    [table] = page.xpath("//table[caption[starts-with(., 'Kapazität und Bedarf in Stunden je Tag')]]")
    assert len(table.xpath(".//tbody/tr")) == 11, "today and 10 working days, the same numbers as the chart"
    assert "VZÄ-Anteile wie im Konzept (noch keine Entscheidung der Fachdienstleitung)" in html
    assert "Emma Ebert" in html and "Krankheit" in html
    assert page.xpath("//form[contains(@action, '/anteile')]") and page.xpath("//form[contains(@action, '/umsetzung')]")
    assert audit_events(deployed, "staffing_viewed")[-1].details == {"standort": "56.4"}
    assert 'href="/personal/"' in html, "the nav offers the page"


def test_nur_leitungen(client_for: Callable[[str], FlaskClient], deployed: Engine) -> None:
    for name in ("egs", "lsb", "audit", "modeller"):
        client = client_for(name)
        assert client.get(PAGE).status_code == 403, name
        assert 'href="/personal/"' not in client.get("/").get_data(as_text=True), name
        assert client.get("/export/personallage?standort=56.4").status_code == 403, name
    tl = client_for("tl")
    html = tl.get(PAGE).get_data(as_text=True)
    page = lxml.html.fromstring(html)
    assert not page.xpath("//form[contains(@action, '/anteile')]"), "the TL does not decide the shares"
    assert not page.xpath("//form[contains(@action, '/umsetzung')]"), "nor redeploy"
    assert tl.get("/personal/?standort=56.5").status_code == 403
    assert tl.get("/personal/?standort=99").status_code == 404
    response = post_form(tl, "/personal/56.4/anteile", {"entscheidung": "normiert"}, PAGE)
    assert response.status_code == 403


def test_formulare_mit_csrf_und_meldungen(client_for: Callable[[str], FlaskClient], deployed: Engine) -> None:
    fdl = client_for("fdl")
    assert fdl.post("/personal/56.4/beschaeftigte", data={"name": "X"}).status_code == 400, "no CSRF token"
    response = post_form(fdl, "/personal/56.4/beschaeftigte", {
        "name": "Lars Leistung", "funktion": "LSB", "wochenstunden": "39", "beginn": "01.01.2024",
        "benutzer": "lsb"}, PAGE)  # fmt: skip
    assert response.status_code == 302
    bad = post_form(fdl, "/personal/56.4/beschaeftigte", {
        "name": "Y", "funktion": "EGS", "wochenstunden": "99", "beginn": "01.01.2024"}, PAGE)  # fmt: skip
    assert "höchstens 48" in fdl.get(bad.headers["Location"]).get_data(as_text=True)
    html = fdl.get(PAGE).get_data(as_text=True)
    [option] = lxml.html.fromstring(html).xpath("//select[@id='ums-person']/option[@value!='']")
    today = clock.today_berlin()
    person = option.get("value")
    too_long = post_form(fdl, "/personal/56.4/umsetzung", {
        "person": person, "von": german(today), "bis": german(today + timedelta(days=120))}, PAGE)  # fmt: skip
    assert "höchstens 90 Tage" in fdl.get(too_long.headers["Location"]).get_data(as_text=True)
    for form in ("umsetzung", "abwesenheiten"):  # a person field that is no number: a German refusal, nothing done
        nobody = post_form(fdl, f"/personal/56.4/{form}", {
            "person": "keine", "von": german(today), "bis": german(today), "art": "urlaub"}, PAGE)  # fmt: skip
        assert nobody.status_code == 302
        assert "Bitte eine Person wählen." in fdl.get(nobody.headers["Location"]).get_data(as_text=True)
    assert not deployed.actor("lsb").has_group("EGS", "56.4")
    post_form(fdl, "/personal/56.4/umsetzung", {
        "person": person, "von": german(today), "bis": german(today + timedelta(days=1))}, PAGE)  # fmt: skip
    assert deployed.actor("lsb").has_group("EGS", "56.4")
    post_form(fdl, "/personal/56.4/anteile", {"entscheidung": "normiert"}, PAGE)
    assert "VZÄ-Anteile auf 1,00 normiert" in fdl.get(PAGE).get_data(as_text=True)
    report = fdl.get(f"/personal/umsetzungen?standort=56.4&monat={today:%Y-%m}").get_data(as_text=True)
    assert "Lars Leistung" in report
    csv = fdl.get(f"/export/umsetzungen?standort=56.4&monat={today:%Y-%m}").get_data(as_text=True)
    assert "Lars Leistung;LSB" in csv and "Summe aus LSB" in csv
    assert fdl.get("/export/personallage?standort=56.4").get_data(as_text=True).count("\n") == 12


def test_csv_import_im_browser_formular(client_for: Callable[[str], FlaskClient], deployed: Engine) -> None:
    tl = client_for("tl")
    token = csrf_token(tl.get(PAGE).get_data(as_text=True))
    good = "name;funktion;wochenstunden;beginn\nAnna Voll;EGS;39;01.01.2020\n=HYPERLINK(1);EGS;20;01.01.2020\n"
    response = tl.post("/personal/56.4/import", data={
        "csrf_token": token, "datei": (io.BytesIO(good.encode("utf-8-sig")), "personal.csv")},
        content_type="multipart/form-data")  # fmt: skip
    assert "Eingelesen: 2 Personen" in tl.get(response.headers["Location"]).get_data(as_text=True)
    bad = tl.post("/personal/56.4/import", data={"csrf_token": token, "datei": (io.BytesIO(b"\xff\xfe\x00"), "x.csv")},
                  content_type="multipart/form-data")  # fmt: skip
    assert "nicht in UTF-8" in tl.get(bad.headers["Location"]).get_data(as_text=True)
    export = tl.get("/export/personallage?standort=56.4").get_data(as_text=True)
    assert "VZÄ-Anteile wie im Konzept" in export
