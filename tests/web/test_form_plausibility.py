"""Plausibility rules of the PB forms through the web form: refused with a German message at the field, or accepted.

The rules live in the form definitions (forms/*.json: ``allOf``/``if``/``then`` with ``x-fehlermeldung``, and
``x-regeln``); these tests post what a clerk would type and read the page the clerk gets back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest

from engine.api import Engine
from tests.support import pb
from tests.support.cases import CaseDriver
from tests.support.records import open_task
from tests.support.web import field_error, post_form

CLAIM_DAY = "2025-03-03"

ANNAHME: dict[str, str | Sequence[str]] = {
    "antragsart": "hauptantrag",
    "ausweisart": "personalausweis",
    "ausweisnummer": "L01X00T47",
    "ausweis_gueltig_bis": "31.05.2031",
    "identitaet_geprueft": "on",
    "keine_ausweiskopie": "on",
    "compass_stand": "nicht_erfasst",
}
BG: dict[str, str | Sequence[str]] = {
    "anzahl_personen_bg": "1",
    "rollen_in_bg": ["antragsteller", "kind_unter_15"],
    "anzahl_erwerbsfaehige": "1",
    "anzahl_kinder_unter_15": "2",
    "anzahl_kinder_15_bis_24": "0",
    "weitere_personen_haushalt": "0",
}


def task_url(case: CaseDriver, name: str) -> str:
    return f"/aufgaben/{case.task(name).task_uuid}"


def registered(engine: Engine) -> CaseDriver:
    case = CaseDriver(engine, pb.PROCESS)
    case.complete(pb.ANMELDEN, pb.anmeldung(tag_der_antragstellung=CLAIM_DAY))
    return case


def refused_at(client, engine: Engine, url: str, data, field: str) -> str:  # type: ignore[no-untyped-def]
    """Post ``data``; the page comes back (422) with the error at ``field`` (linked, marked invalid); its text."""
    response = post_form(client, url, data)
    assert response.status_code == 422, response.status_code
    html = response.get_data(as_text=True)
    assert re.search(rf'id="feld-{field}(-0)?"[^>]*aria-invalid="true"', html), "the field is marked invalid"
    assert re.search(rf'aria-describedby="[^"]*feld-{field}-fehler', html), "the message is tied to the field"
    assert re.search(rf'<a href="#feld-{field}(-0)?">', html), "the error summary links to the field"
    assert open_task(engine, url.rsplit("/", 1)[-1]) is not None, "nothing completed"
    return field_error(html, field)


def accepted(client, url: str, data) -> None:  # type: ignore[no-untyped-def]
    response = post_form(client, url, data)
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.fixture
def egs(client_for):  # type: ignore[no-untyped-def]
    return client_for("egs")


@pytest.mark.parametrize(("gueltig_bis", "refused"), [("02.03.2025", True), ("03.03.2025", False)])
def test_abgelaufener_ausweis_am_tag_der_antragstellung(egs, deployed: Engine, gueltig_bis: str, refused: bool) -> None:  # type: ignore[no-untyped-def]
    url = task_url(registered(deployed), pb.ANNEHMEN)
    data = {**ANNAHME, "ausweis_gueltig_bis": gueltig_bis}
    if not refused:
        accepted(egs, url, data)
        return
    message = refused_at(egs, deployed, url, data, "ausweis_gueltig_bis")
    assert message == (
        "Fehler: Das Ausweisdokument war am Tag der Antragstellung bereits abgelaufen und genügt nicht zur "
        "Identitätsprüfung. Bitte ein gültiges Dokument vorlegen lassen."
    )


@pytest.mark.parametrize(
    ("stand", "erfasst_am", "refused"),
    [("nicht_erfasst", "11.02.2025", True), ("nicht_erfasst", "", False), ("erfasst_ohne_lsb", "11.02.2025", False)],
)
def test_noch_nicht_erfasst_und_compass_datum_zugleich(  # type: ignore[no-untyped-def]
    egs, deployed: Engine, stand: str, erfasst_am: str, refused: bool
) -> None:
    url = task_url(registered(deployed), pb.ANNEHMEN)
    data = {**ANNAHME, "compass_stand": stand, "compass_erfasst_am": erfasst_am}
    if not refused:
        accepted(egs, url, data)
        return
    message = refused_at(egs, deployed, url, data, "compass_erfasst_am")
    assert message.startswith("Fehler: „Noch in keinem System erfasst“ ist gewählt – dann gibt es kein Erfassungsdatum")


@pytest.mark.parametrize(("personen", "refused"), [("1", True), ("2", True), ("3", False)])
def test_bedarfsgemeinschaft_mit_mehr_kindern_als_personen(  # type: ignore[no-untyped-def]
    egs, deployed: Engine, personen: str, refused: bool
) -> None:
    case = registered(deployed)
    case.complete(pb.ANNEHMEN, pb.ANTRAGSANNAHME)
    url = task_url(case, pb.BG_ERFASSEN)
    data = {**BG, "anzahl_personen_bg": personen}
    if not refused:
        accepted(egs, url, data)
        return
    message = refused_at(egs, deployed, url, data, "anzahl_personen_bg")
    assert message.startswith("Fehler: Die Bedarfsgemeinschaft hat mehr Mitglieder als hier Personen angegeben sind")


@pytest.mark.parametrize(("fehlende", "refused"), [(["kontoauszuege"], True), ([], False)])
def test_vollstaendig_und_fehlende_unterlage_zugleich(  # type: ignore[no-untyped-def]
    egs, deployed: Engine, fehlende: list[str], refused: bool
) -> None:
    case = CaseDriver(deployed, pb.PROCESS)
    pb.walk_to_completeness_check(deployed, deployed.actor("egs"), case.instance_id)
    url = task_url(case, pb.VOLLSTAENDIGKEIT_PRUEFEN)
    data = {"unterlagen_vollstaendig": "on", "fehlende_unterlagen": fehlende}
    if not refused:
        accepted(egs, url, data)
        return
    message = refused_at(egs, deployed, url, data, "fehlende_unterlagen")
    assert message.startswith("Fehler: „Unterlagen vollständig“ ist angekreuzt, aber hier ist eine Unterlage")
    html = egs.get(url).get_data(as_text=True)
    assert field_error(html, "fehlende_unterlagen") == "", "a fresh page shows no old error"


def test_checkboxen_die_leer_bleiben_duerfen_sind_keine_pflichtfelder(egs, deployed: Engine) -> None:  # type: ignore[no-untyped-def]
    case = CaseDriver(deployed, pb.PROCESS)
    pb.walk_to_completeness_check(deployed, deployed.actor("egs"), case.instance_id)
    html = egs.get(task_url(case, pb.VOLLSTAENDIGKEIT_PRUEFEN)).get_data(as_text=True)
    for name in ("unterlagen_vollstaendig", "vorpruefung_lsb"):
        checkbox = re.search(rf'<input type="checkbox" id="feld-{name}"[^>]*>', html)
        assert checkbox and " required" not in checkbox.group(0), name
        label = re.search(rf'<label for="feld-{name}">(.*?)</label>', html, re.S)
        assert label and "Pflichtfeld" not in label.group(1), name

    annahme = egs.get(task_url(registered(deployed), pb.ANNEHMEN)).get_data(as_text=True)
    label = re.search(r'<label for="feld-identitaet_geprueft">(.*?)</label>', annahme, re.S)
    assert label and "(Pflichtfeld)" in label.group(1), "a box that must be ticked stays marked"


def test_ohne_namen_zeigt_die_leitung_keinen_gekuerzten_namen(client_for, deployed: Engine) -> None:
    without_name = CaseDriver(deployed, pb.PROCESS, business_key="07402//0000001")
    with_name = registered(deployed)
    html = client_for("tl").get("/?tab=alle").get_data(as_text=True)
    assert "(gekürzt)" not in _row(html, without_name.header.business_key)
    assert "07402//0000001 – 56.4" in _row(html, without_name.header.business_key), "a dash where there is no name"
    assert "P., J. (gekürzt)" in _row(html, with_name.header.business_key)


def _row(html: str, business_key: str | None) -> str:
    """The text of the inbox row of a case."""
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S):
        text = " ".join(re.sub(r"<[^>]+>", " ", row).split())
        if business_key and business_key in text:
            return text
    raise AssertionError(f"no row for {business_key}")
