"""Cross-field rules in the form definitions (x-fehlermeldung, x-regeln), dates that do not exist, checkbox marks."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from engine.errors import FormValidationError, ModelError
from engine.forms import check_schema, check_submission, form_fields, validate_submission
from tests.support import pb
from tests.support.engines import FORMS

TODAY = date(2025, 3, 14)
CASE = {"tag_der_antragstellung": "2025-03-03"}


def form(name: str) -> dict[str, Any]:
    return json.loads((FORMS / f"{name}.json").read_text(encoding="utf-8"))


def errors_of(schema: dict[str, Any], data: dict[str, Any], case: dict[str, Any] | None = None) -> dict[str, list[str]]:
    with pytest.raises(FormValidationError) as caught:
        validate_submission(schema, data, case or {}, TODAY)
    return caught.value.field_errors


@pytest.mark.parametrize(
    ("gueltig_bis", "accepted"),
    [("2025-03-02", False), ("2024-12-31", False), ("2025-03-03", True), ("2031-05-31", True)],
)
def test_ausweis_muss_am_tag_der_antragstellung_gueltig_sein(gueltig_bis: str, accepted: bool) -> None:
    schema, data = form("pb_antragsannahme"), {**pb.ANTRAGSANNAHME, "ausweis_gueltig_bis": gueltig_bis}
    if accepted:
        assert validate_submission(schema, data, CASE, TODAY) == data
    else:
        assert errors_of(schema, data, CASE) == {
            "ausweis_gueltig_bis": [
                "Das Ausweisdokument war am Tag der Antragstellung bereits abgelaufen und genügt nicht zur "
                "Identitätsprüfung. Bitte ein gültiges Dokument vorlegen lassen."
            ]
        }


def test_ausweisregel_ohne_tag_der_antragstellung_greift_nicht() -> None:
    """A case without a claim day (data missing) is the business of 'required' elsewhere, not of this rule."""
    data = {**pb.ANTRAGSANNAHME, "ausweis_gueltig_bis": "2020-01-01"}
    assert validate_submission(form("pb_antragsannahme"), data, {}, TODAY) == data


@pytest.mark.parametrize(
    ("stand", "erfasst_am", "error"),
    [
        ("nicht_erfasst", "2025-02-11", "„Noch in keinem System erfasst“ ist gewählt"),
        ("nicht_erfasst", None, None),
        ("erfasst_ohne_lsb", "2025-02-11", None),
        ("erfasst_mit_lsb", None, "Pflichtfeld – bitte ausfüllen."),
    ],
)
def test_compass_datum_nur_wenn_in_compass_erfasst(stand: str, erfasst_am: str | None, error: str | None) -> None:
    schema = form("pb_antragsannahme")
    data = {**pb.ANTRAGSANNAHME, "compass_stand": stand}
    if erfasst_am:
        data["compass_erfasst_am"] = erfasst_am
    if error is None:
        assert validate_submission(schema, data, CASE, TODAY) == data
    else:
        [message] = errors_of(schema, data, CASE)["compass_erfasst_am"]
        assert message.startswith(error)


@pytest.mark.parametrize("name", ["pb_vollstaendigkeit", "pb_vorpruefung"])
def test_vollstaendig_und_fehlende_unterlage_zugleich_wird_abgelehnt(name: str) -> None:
    schema = form(name)
    base = {"vorpruefung_lsb": False} if name == "pb_vollstaendigkeit" else {"vorpruefung_vermerk": "geprüft"}
    both = {**base, "unterlagen_vollstaendig": True, "fehlende_unterlagen": ["kontoauszuege"]}
    [message] = errors_of(schema, both)["fehlende_unterlagen"]
    assert "vollständig“ ist angekreuzt, aber hier ist eine Unterlage als fehlend markiert" in message
    assert list(errors_of(schema, both)) == ["fehlende_unterlagen"], "the message stands at the list of documents"
    for fine in (
        {**base, "unterlagen_vollstaendig": True, "fehlende_unterlagen": []},
        {**base, "unterlagen_vollstaendig": True},
        {**base, "unterlagen_vollstaendig": False, "fehlende_unterlagen": ["kontoauszuege"]},
    ):
        assert validate_submission(schema, fine, {}, TODAY) == fine


@pytest.mark.parametrize(
    ("changes", "accepted"),
    [
        ({"anzahl_personen_bg": 1, "anzahl_kinder_unter_15": 2}, False),
        ({"anzahl_personen_bg": 3, "anzahl_kinder_unter_15": 2}, True),
        ({"anzahl_personen_bg": 2, "anzahl_kinder_15_bis_24": 2}, False),
        ({"anzahl_personen_bg": 1, "partner_in_bg": True}, False),
        ({"anzahl_personen_bg": 2, "anzahl_kinder_unter_15": 1}, True),
        ({"anzahl_personen_bg": 2, "anzahl_kinder_unter_15": 1, "anzahl_erwerbsfaehige": 2}, False),
        ({"anzahl_personen_bg": 3, "anzahl_kinder_unter_15": 1, "anzahl_erwerbsfaehige": 2}, True),
    ],
)
def test_bedarfsgemeinschaft_zaehlt_alle_mitglieder(changes: dict[str, Any], accepted: bool) -> None:
    schema = form("pb_bedarfsgemeinschaft")
    data = {**pb.BEDARFSGEMEINSCHAFT, **changes}
    if data["partner_in_bg"]:
        data.update(partner_vorname="Tomasz", partner_nachname="Probstfeld", partner_geburtsdatum="1986-09-02")
    if accepted:
        assert validate_submission(schema, data, {}, TODAY) == data
    else:
        errors = errors_of(schema, data)
        assert list(errors) == ["anzahl_personen_bg"] and len(errors["anzahl_personen_bg"]) == 1
        assert "Bedarfsgemeinschaft" in errors["anzahl_personen_bg"][0]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("31.02.2025", "Den 31.02.2025 gibt es nicht – bitte ein gültiges Datum eingeben."),
        ("29.02.2025", "Den 29.02.2025 gibt es nicht – bitte ein gültiges Datum eingeben."),
        ("31.04.2025", "Den 31.04.2025 gibt es nicht – bitte ein gültiges Datum eingeben."),
        ("2025-02-31", "Den 2025-02-31 gibt es nicht – bitte ein gültiges Datum eingeben."),
        ("31.2.25", "Bitte ein Datum im Format TT.MM.JJJJ eingeben."),
        ("gestern", "Bitte ein Datum im Format TT.MM.JJJJ eingeben."),
    ],
)
def test_ein_tag_den_es_nicht_gibt_ist_kein_formatfehler(typed: str, message: str) -> None:
    with pytest.raises(FormValidationError) as caught:
        check_submission(form("pb_eingang"), {"eingang_am": [typed]}, {}, TODAY)
    assert caught.value.field_errors == {"eingang_am": [message]}
    assert check_submission(form("pb_eingang"), {"eingang_am": ["29.02.2024"]}, {}, TODAY) == {
        "eingang_am": "2024-02-29"
    }


def test_iso_daten_die_es_nicht_gibt_werden_auch_ueber_die_api_benannt() -> None:
    assert errors_of(form("pb_eingang"), {"eingang_am": "2025-02-31"}) == {
        "eingang_am": ["Den 2025-02-31 gibt es nicht – bitte ein gültiges Datum eingeben."]
    }


def test_zeitpunkt_der_nicht_existiert_wird_benannt() -> None:
    schema = {"type": "object", "properties": {"t": {"type": "string", "format": "date-time"}}}
    with pytest.raises(FormValidationError) as caught:
        check_submission(schema, {"t": ["31.02.2025 10:00"]}, {}, TODAY)
    assert caught.value.field_errors == {"t": ["Den 31.02.2025 gibt es nicht – bitte ein gültiges Datum eingeben."]}


def test_nur_checkboxen_die_angekreuzt_sein_muessen_sind_pflichtfelder() -> None:
    fields = {f.name: f for f in form_fields(form("pb_antragsannahme")) + form_fields(form("pb_vollstaendigkeit"))}
    assert fields["identitaet_geprueft"].required, "const true: must be ticked"
    assert not fields["unterlagen_vollstaendig"].required, "required key, but may stay unticked"
    assert not fields["vorpruefung_lsb"].required
    assert fields["ausweisnummer"].required, "other required fields stay Pflichtfelder"


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        ({"feld": "x", "mindestens": 1, "meldung": "m"}, "'feld' muss ein Feld dieses Formulars nennen"),
        ({"feld": "a", "mindestens": 1}, "'meldung' (deutscher Text) fehlt"),
        ({"feld": "a", "meldung": "m"}, "genau eines von 'mindestens' oder 'hoechstens'"),
        ({"feld": "a", "mindestens": 1, "hoechstens": 2, "meldung": "m"}, "genau eines von"),
        ({"feld": "a", "mindestens": {"summe": []}, "meldung": "m"}, "Vergleichswert"),
        ({"feld": "a", "mindestens": True, "meldung": "m"}, "Vergleichswert"),
        ({"feld": "a", "mindestens": 1, "meldung": "m", "wenn": "b"}, "unbekannte Schlüssel ['wenn']"),
    ],
)
def test_fehlerhafte_regeln_werden_beim_laden_abgelehnt(rules: dict[str, Any], problem: str) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "x-regeln": [rules]}
    with pytest.raises(ModelError) as refused:
        check_schema(schema, "probe.json")
    assert problem in refused.value.detail


def test_hoechstens_und_summen_mit_zahlen() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}, "c": {"type": "boolean"}},
        "x-regeln": [{"feld": "a", "hoechstens": {"summe": ["b", "c", 2]}, "meldung": "zu viel"}],
    }
    check_schema(schema, "probe.json")
    assert validate_submission(schema, {"a": 4, "b": 1, "c": True}, {}, TODAY)
    assert errors_of(schema, {"a": 5, "b": 1, "c": True}) == {"a": ["zu viel"]}
    assert validate_submission(schema, {"a": 5, "c": True}, {}, TODAY), "b missing: the rule is not checked"
    assert errors_of(schema, {"a": 5, "c": True}, {"b": 1}) == {"a": ["zu viel"]}, "b from the case's data"


def test_jedes_x_schluesselwort_der_formulare_ist_dokumentiert() -> None:
    """A modeller finds every ``x-`` keyword the forms use in docs/modelling.md."""

    def keywords(node: Any) -> set[str]:
        if isinstance(node, dict):
            return {k for k in node if k.startswith("x-")} | {k for v in node.values() for k in keywords(v)}
        if isinstance(node, list):
            return {k for v in node for k in keywords(v)}
        return set()

    used = {k for path in FORMS.glob("*.json") for k in keywords(json.loads(path.read_text(encoding="utf-8")))}
    docs = (FORMS.parent / "docs" / "modelling.md").read_text(encoding="utf-8")
    assert {"x-regeln", "x-fehlermeldung"} <= used
    assert sorted(k for k in used if f"`{k}`" not in docs) == []
