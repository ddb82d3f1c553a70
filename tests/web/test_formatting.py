"""Display rules (no database): German dates and values, form prefill, safe redirects."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from werkzeug.datastructures import MultiDict

from engine.auth import Actor
from engine.forms import FieldSpec, form_fields
from webapp.formatting import aktion, berechtigungen, datum, datumzeit, status_text, wert
from webapp.security import safe_next
from webapp.task_form import build_fields, error_summary

SCHEMA = {
    "type": "object",
    "required": ["tag", "anliegen"],
    "properties": {
        "tag": {"type": "string", "format": "date", "title": "Tag", "x-defaultToday": True, "x-immutable": True},
        "anliegen": {
            "type": "string",
            "title": "Anliegen",
            "enum": ["erstantrag", "sonstiger_antrag"],
            "x-enumNames": ["Erstantrag", "Sonstiger Antrag"],
            "x-widget": "radio",
        },
        "anlagen": {
            "type": "array",
            "title": "Anlagen",
            "items": {"enum": ["KDU", "EK"], "x-enumNames": ["Miete", "Einkommen"]},
        },
        "frist": {"type": "integer", "title": "Frist", "default": 14},
        "betrag": {"type": "number", "title": "Betrag"},
        "geprueft": {"type": "boolean", "title": "Geprüft"},
        "bemerkung": {"type": "string", "title": "Bemerkung"},
    },
}
FIELDS = {spec.name: spec for spec in form_fields(SCHEMA)}
TODAY = date(2025, 3, 17)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(date(2025, 2, 3), "03.02.2025"), ("2025-02-03", "03.02.2025"), (None, ""), ("kein Datum", "kein Datum")],
)
def test_datum(value: object, shown: str) -> None:
    assert datum(value) == shown


@pytest.mark.parametrize(
    ("instant", "shown"),
    [
        (datetime(2025, 1, 15, 10, 0, tzinfo=UTC), "15.01.2025 11:00"),  # CET
        (datetime(2025, 7, 1, 10, 0, tzinfo=UTC), "01.07.2025 12:00"),  # CEST
        (datetime(2025, 3, 30, 23, 30, tzinfo=UTC), "31.03.2025 01:30"),  # day changes in Berlin
        ("2025-07-01T10:00:00+00:00", "01.07.2025 12:00"),
        (None, ""),
    ],
)
def test_datumzeit_shows_berlin_time(instant: object, shown: str) -> None:
    assert datumzeit(instant) == shown


@pytest.mark.parametrize(
    ("value", "spec", "shown"),
    [
        ("erstantrag", FIELDS["anliegen"], "Erstantrag"),
        (["KDU", "EK"], FIELDS["anlagen"], "Miete, Einkommen"),
        (True, FIELDS["geprueft"], "Ja"),
        (False, None, "Nein"),
        ("2025-02-03", FIELDS["tag"], "03.02.2025"),
        ("2025-02-03", None, "03.02.2025"),
        ("2025-02-03", FIELDS["bemerkung"], "2025-02-03"),  # free text stays as typed
        (14, FIELDS["frist"], "14"),
        (1234.5, FIELDS["betrag"], "1\u202f234,50"),
        (None, None, "–"),
        ("", None, "–"),
        ("unbekannt", FIELDS["anliegen"], "unbekannt"),
    ],
)
def test_wert(value: object, spec: FieldSpec | None, shown: str) -> None:
    assert wert(value, spec) == shown


def test_action_and_status_names_are_german() -> None:
    assert aktion("start") == "Vorgang gestartet"
    assert aktion("complete") == "Schritt abgeschlossen"
    assert aktion("timer_fired") == "Frist abgelaufen / Timer ausgelöst"
    assert aktion("claim") == "Übernommen" and aktion("unclaim") == "Freigegeben"
    assert aktion("access_denied") == "Zugriff verweigert"
    assert aktion("something_new") == "something_new"
    assert status_text("completed") == "abgeschlossen"
    assert status_text("running") == "in Bearbeitung"


def test_berechtigungen() -> None:
    actor = Actor("x", "X", frozenset({("EGS", "56.4"), ("AUDIT", "*")}))
    assert berechtigungen(actor) == "Prüfung/Datenschutz, alle Standorte; Eingangsservice, Fachdienst 56.4"


def test_header_names_groups_and_sites_in_words(client_for) -> None:  # type: ignore[no-untyped-def]
    for username, shown in (
        ("modeller", "Prozessverantwortung, alle Standorte"),
        ("egs", "Eingangsservice, Fachdienst 56.4"),
    ):
        html = client_for(username).get("/").get_data(as_text=True)
        header = html.split('<p class="benutzer">', 1)[1].split("</p>", 1)[0]
        assert shown in header
        assert "MODELLER" not in header and "AUDIT" not in header and "EGS 56.4" not in header


def _values(data: dict[str, object], submitted: MultiDict[str, str] | None = None) -> dict[str, object]:
    return {s.spec.name: s.value for s in build_fields(list(FIELDS.values()), data, TODAY, submitted)}


def test_prefill_uses_defaults_and_today_for_a_new_form() -> None:
    values = _values({})
    assert values["tag"] == "17.03.2025"
    assert values["frist"] == "14"
    assert values["anliegen"] == "" and values["anlagen"] == () and values["geprueft"] is False


def test_prefill_prefers_case_values_over_defaults() -> None:
    data = {"frist": 21, "anlagen": ["EK"], "geprueft": True, "betrag": 18.77, "anliegen": "erstantrag"}
    values = _values(data)
    assert values["frist"] == "21"
    assert values["anlagen"] == ("EK",)
    assert values["geprueft"] is True
    assert values["betrag"] == "18,77"


def test_prefill_prefers_what_was_just_typed_even_if_empty() -> None:
    submitted = MultiDict([("frist", ""), ("anlagen", "KDU"), ("anlagen", "EK"), ("tag", "3.2.2025")])
    values = _values({"frist": 21, "geprueft": True}, submitted)
    assert values["frist"] == ""
    assert values["anlagen"] == ("KDU", "EK")
    assert values["geprueft"] is False, "an unticked box is not submitted"
    assert values["tag"] == "3.2.2025"


def test_immutable_field_with_a_case_value_is_read_only_and_keeps_that_value() -> None:
    submitted = MultiDict([("tag", "04.02.2025")])
    states = {s.spec.name: s for s in build_fields(list(FIELDS.values()), {"tag": "2025-02-03"}, TODAY, submitted)}
    assert states["tag"].readonly and states["tag"].value == "03.02.2025"
    fresh = {s.spec.name: s for s in build_fields(list(FIELDS.values()), {}, TODAY)}
    assert not fresh["tag"].readonly


def test_error_summary_links_fields_in_form_order_and_lists_unknown_keys() -> None:
    errors = {"xyz": ["Unbekanntes Feld."], "anliegen": ["Pflichtfeld – bitte ausfüllen."], "tag": ["Falsch."]}
    states = build_fields(list(FIELDS.values()), {}, TODAY, MultiDict(), errors)
    items = [(item.anchor, item.text) for item in error_summary(states, errors)]
    assert items == [
        ("feld-tag", "Tag: Falsch."),
        ("feld-anliegen-0", "Anliegen: Pflichtfeld – bitte ausfüllen."),
        (None, "xyz: Unbekanntes Feld."),
    ]


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/aufgaben/abc", "/aufgaben/abc"),
        ("/?x=1", "/?x=1"),
        ("//evil.example", None),
        ("https://evil.example/", None),
        ("/\\evil.example", None),
        ("javascript:alert(1)", None),
        ("/x\r\nSet-Cookie: a=b", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_next(target: str | None, safe: str | None) -> None:
    assert safe_next(target) == safe


def test_durations_read_as_people_say_them() -> None:
    """One filter for every duration of the platform (case story: timedelta; process view: seconds)."""
    from datetime import timedelta

    from webapp.formatting import dauer

    assert dauer(None) == "–"
    assert dauer(timedelta(microseconds=166328)) == "0 Sek."
    assert (
        dauer(45) == "45 Sek." and dauer(600) == "10 Min." and dauer(timedelta(hours=3, minutes=5)) == "3 Std. 5 Min."
    )
    assert dauer(timedelta(days=2, hours=4)) == "2 Tage 4 Std." and dauer(86400) == "1 Tag 0 Std."
