"""Form input is coerced from HTML strings and validated on the server with German messages."""

from __future__ import annotations

import json
from datetime import date

import pytest

from engine import clock
from engine.errors import FormValidationError
from engine.forms import coerce_submission, form_fields, validate_submission
from tests.support.engines import FORMS

ANMELDUNG = json.loads((FORMS / "pb_anmeldung.json").read_text(encoding="utf-8"))
ANNAHME = json.loads((FORMS / "pb_antragsannahme.json").read_text(encoding="utf-8"))
ANFORDERUNG = json.loads((FORMS / "pb_anforderung.json").read_text(encoding="utf-8"))
TODAY = date(2025, 3, 14)

CHECKS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "iban": {"type": "string", "format": "iban", "x-errorMessage": "IBAN ist ungültig."},
        "steuer_id": {"type": "string", "format": "steuer-id"},
        "plz": {"type": "string", "format": "plz"},
        "betrag": {"type": "number", "minimum": 0, "multipleOf": 0.01},
    },
}


def errors_of(
    schema: dict[str, object], data: dict[str, object], case: dict[str, object] | None = None
) -> dict[str, list[str]]:
    with pytest.raises(FormValidationError) as caught:
        validate_submission(schema, data, case or {}, TODAY)
    return caught.value.field_errors


def test_html_values_become_typed_json() -> None:
    raw = {
        "vorname": [" Jana "],
        "nachname": ["Probstfeld"],
        "geburtsdatum": ["12.04.1988"],
        "anliegen": ["erstantrag"],
        "tag_der_antragstellung": ["2025-03-14"],
        "bemerkung": [""],
    }
    data = coerce_submission(ANMELDUNG, raw)
    assert data == {
        "vorname": "Jana",
        "nachname": "Probstfeld",
        "geburtsdatum": "1988-04-12",
        "anliegen": "erstantrag",
        "tag_der_antragstellung": "2025-03-14",
    }
    assert validate_submission(ANMELDUNG, data, {}, TODAY) == data


def test_checkboxes_booleans_and_integers() -> None:
    data = coerce_submission(
        ANNAHME,
        {
            "antragsart": ["hauptantrag"],
            "anlagen": ["KDU", "EK"],
            "ausweisart": ["reisepass"],
            "ausweisnummer": ["C01X00T47"],
            "identitaet_geprueft": ["on"],
        },
    )
    assert data["anlagen"] == ["KDU", "EK"] and data["identitaet_geprueft"] is True
    unchecked = coerce_submission(ANNAHME, {"antragsart": ["hauptantrag"]})
    assert unchecked["identitaet_geprueft"] is False and unchecked["anlagen"] == []
    assert errors_of(ANNAHME, unchecked)["identitaet_geprueft"] == [
        ANNAHME["properties"]["identitaet_geprueft"]["x-errorMessage"]
    ]
    assert coerce_submission(ANFORDERUNG, {"frist_tage": ["21"]})["frist_tage"] == 21
    with pytest.raises(FormValidationError) as caught:
        coerce_submission(ANFORDERUNG, {"frist_tage": ["vierzehn"], "anforderung_versandt_am": ["32.13.2025"]})
    assert caught.value.field_errors == {
        "frist_tage": ["Bitte eine ganze Zahl eingeben."],
        "anforderung_versandt_am": ["Den 32.13.2025 gibt es nicht – bitte ein gültiges Datum eingeben."],
    }


def test_all_problems_are_reported_at_once() -> None:
    from engine.forms import check_submission

    raw = {"vorname": [""], "geburtsdatum": ["31.02.1990"], "anliegen": ["urlaub"], "hobby": ["Segeln"]}
    with pytest.raises(FormValidationError) as caught:
        check_submission(ANMELDUNG, raw, {}, TODAY)
    assert caught.value.field_errors == {
        "hobby": ["Unbekanntes Feld."],
        "geburtsdatum": ["Den 31.02.1990 gibt es nicht – bitte ein gültiges Datum eingeben."],
        "vorname": ["Pflichtfeld – bitte ausfüllen."],
        "nachname": ["Pflichtfeld – bitte ausfüllen."],
        "anliegen": ["Bitte einen der vorgegebenen Werte wählen."],
        "tag_der_antragstellung": ["Pflichtfeld – bitte ausfüllen."],
    }


def test_unknown_fields_are_rejected_even_if_the_schema_allows_them() -> None:
    open_schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    with pytest.raises(FormValidationError) as caught:
        coerce_submission(open_schema, {"a": ["x"], "is_admin": ["1"]})
    assert caught.value.field_errors == {"is_admin": ["Unbekanntes Feld."]}
    assert errors_of(open_schema, {"a": "x", "is_admin": True}) == {"is_admin": ["Unbekanntes Feld."]}


def test_german_messages_per_field() -> None:
    errors = errors_of(ANFORDERUNG, {"frist_tage": 0, "anforderung_versandt_am": "2025-03-15"})
    assert errors == {
        "frist_tage": ["Der Wert muss mindestens 1 sein."],
        "anforderung_versandt_am": ["Das Datum darf nicht in der Zukunft liegen."],
    }
    assert errors_of(ANMELDUNG, {})["nachname"] == ["Pflichtfeld – bitte ausfüllen."]
    assert errors_of(
        ANNAHME,
        {"antragsart": "hauptantrag", "ausweisart": "reisepass", "ausweisnummer": "12-34", "identitaet_geprueft": True},
    )["ausweisnummer"] == [ANNAHME["properties"]["ausweisnummer"]["x-errorMessage"]]


@pytest.mark.parametrize(
    ("field", "good", "bad"),
    [
        ("iban", "DE89 3704 0044 0532 0130 00", "DE89370400440532013001"),
        ("steuer_id", "36574261809", "36574261808"),
        ("plz", "37073", "3707"),
    ],
)
def test_check_digit_formats(field: str, good: str, bad: str) -> None:
    assert validate_submission(CHECKS, {field: good}, {}, TODAY) == {field: good}
    assert field in errors_of(CHECKS, {field: bad})


def test_amounts_have_at_most_two_decimals_and_are_not_negative() -> None:
    for amount in (18.77, 1234.56, 19.99, 0.07, 1.15, 276):
        assert validate_submission(CHECKS, {"betrag": amount}, {}, TODAY), amount
    assert errors_of(CHECKS, {"betrag": -1})["betrag"] == ["Der Wert muss mindestens 0 sein."]
    assert errors_of(CHECKS, {"betrag": 1.234})["betrag"] == ["Der Wert muss ein Vielfaches von 0.01 sein."]


def test_recorded_timestamp_survives_the_form_round_trip_to_the_minute() -> None:
    schema = {
        "type": "object",
        "properties": {"kenntnis": {"type": "string", "format": "date-time", "x-immutable": True}},
    }
    recorded = {"kenntnis": "2025-03-14T09:30:27+01:00"}
    assert validate_submission(schema, {"kenntnis": "2025-03-14T09:30:00+01:00"}, recorded, TODAY)
    assert validate_submission(schema, {"kenntnis": "2025-03-14T08:30:00+00:00"}, recorded, TODAY), "same instant"
    assert "kenntnis" in errors_of(schema, {"kenntnis": "2025-03-14T09:31:00+01:00"}, recorded)


def test_immutable_value_cannot_change_once_recorded() -> None:
    data = {"vorname": "J", "nachname": "P", "anliegen": "erstantrag", "tag_der_antragstellung": "2025-03-10"}
    case = {"tag_der_antragstellung": "2025-03-03"}
    assert errors_of(ANMELDUNG, data, case)["tag_der_antragstellung"] == [
        "Dieser Wert ist bereits festgehalten und darf nicht geändert werden."
    ]
    assert validate_submission(ANMELDUNG, {**data, "tag_der_antragstellung": "2025-03-03"}, case, TODAY)


def test_fields_come_in_display_order_with_labels() -> None:
    fields = form_fields(ANNAHME)
    assert [f.name for f in fields] == ANNAHME["x-order"]
    anlagen = next(f for f in fields if f.name == "anlagen")
    assert anlagen.widget == "checkboxes" and anlagen.options[2] == (
        "KDU",
        "Anlage KDU – Kosten der Unterkunft und Heizung",
    )
    tag = next(f for f in form_fields(ANMELDUNG) if f.name == "tag_der_antragstellung")
    assert (tag.widget, tag.required, tag.immutable, tag.default_today) == ("date", True, True, True)


def test_rentenversicherungsnummer_and_timestamps() -> None:
    schema = {
        "type": "object",
        "properties": {
            "rvnr": {"type": "string", "format": "rvnr"},
            "kenntnis": {"type": "string", "format": "date-time", "x-notInFuture": True},
        },
    }
    assert validate_submission(schema, {"rvnr": "65170839J003"}, {}, TODAY)
    assert "rvnr" in errors_of(schema, {"rvnr": "65170839J004"})
    data = coerce_submission(schema, {"kenntnis": ["14.03.2025 09:30"]})
    assert data == {"kenntnis": "2025-03-14T09:30:00+01:00"}
    with clock.frozen(clock.parse_iso("2025-03-14T10:00:00+01:00")):
        assert validate_submission(schema, data, {}, TODAY) == data
        later_today = coerce_submission(schema, {"kenntnis": ["14.03.2025 10:05"]})
        assert errors_of(schema, later_today) == {"kenntnis": ["Das Datum darf nicht in der Zukunft liegen."]}
    with pytest.raises(FormValidationError) as caught:
        coerce_submission(schema, {"kenntnis": ["14.03.2025"]})
    assert caught.value.field_errors == {"kenntnis": ["Bitte Datum und Uhrzeit im Format TT.MM.JJJJ HH:MM eingeben."]}
