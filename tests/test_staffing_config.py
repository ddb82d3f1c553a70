"""The thresholds of the § 7 risk rule and the figures behind capacity and demand are checked when the configuration
is read: impossible values are refused with a German message naming the key, nothing is rounded or clamped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.errors import ConfigurationError
from engine.konfiguration import load_konfiguration
from tests.support.engines import CONFIG

SHIPPED = CONFIG.read_text(encoding="utf-8")


def with_value(tmp_path: Path, key: str, value: str) -> Path:
    """The shipped configuration with one ``key = …`` line (the first of that name) set to ``value``."""
    text, count = re.subn(rf"(?m)^{re.escape(key)} = .*$", f"{key} = {value}", SHIPPED, count=1)
    assert count == 1, key
    path = tmp_path / "egs.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_configuration_passes() -> None:
    konfig = load_konfiguration(CONFIG)
    assert konfig.get("sicherstellung.kapazitaet_mindestens_prozent") == 80


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("kapazitaet_mindestens_prozent", "120",
         "sicherstellung.kapazitaet_mindestens_prozent muss eine ganze Zahl von 1 bis 100 sein (Prozent des Bedarfs)"),
        ("kapazitaet_mindestens_prozent", "0", "kapazitaet_mindestens_prozent muss eine ganze Zahl von 1 bis 100"),
        ("kapazitaet_mindestens_prozent", "79.5", "kapazitaet_mindestens_prozent muss eine ganze Zahl"),  # not rounded
        ("kapazitaet_mindestens_prozent", '"80"', "kapazitaet_mindestens_prozent muss eine ganze Zahl"),
        ("ueberfaellige_aufgaben", "-1", "sicherstellung.ueberfaellige_aufgaben muss eine ganze Zahl von 0 bis"),
        ("egs_mindestens_anwesend", "-2", "sicherstellung.egs_mindestens_anwesend muss eine ganze Zahl von 0 bis"),
        ("egs_mindestens_anwesend", "true", "sicherstellung.egs_mindestens_anwesend muss eine ganze Zahl"),
        ("umsetzung_hoechstens_tage", "0", "sicherstellung.umsetzung_hoechstens_tage muss eine ganze Zahl von 1 bis"),
        ("umsetzung_hoechstens_tage", "400", "umsetzung_hoechstens_tage muss eine ganze Zahl von 1 bis 366"),
        ("prognose_wochen", "0", "sicherstellung.prognose_wochen muss eine ganze Zahl von 1 bis 52"),
        ("offene_aufgaben_je_vzae", "-40", "sicherstellung.offene_aufgaben_je_vzae muss eine ganze Zahl von 1 bis"),
        ("vollzeit_wochenstunden", "0", "personalbemessung.vollzeit_wochenstunden muss eine Zahl über 0"),
        ("vollzeit_wochenstunden", "nan", "personalbemessung.vollzeit_wochenstunden muss eine Zahl über 0"),
        ("standard_minuten", "-20", "aufwand.standard_minuten muss eine Zahl über 0 und höchstens 480"),
        ("vorgang_standard_minuten", "inf", "aufwand.vorgang_standard_minuten muss eine Zahl über 0"),
        ("Task_Antragsannahme", "-45", "aufwand.aufgaben.Task_Antragsannahme muss eine Zahl von 0 bis 480"),
        ("pb_antragsannahme", "9000", "aufwand.vorgaenge.pb_antragsannahme muss eine Zahl von 0 bis 480"),
    ],
)  # fmt: skip
def test_impossible_staffing_values_are_refused_in_german(tmp_path: Path, key: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_konfiguration(with_value(tmp_path, key, value))
    assert message in caught.value.message


def test_a_missing_threshold_is_refused_not_defaulted(tmp_path: Path) -> None:
    path = tmp_path / "egs.toml"
    path.write_text(re.sub(r"(?m)^egs_mindestens_anwesend = .*\n", "", SHIPPED), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="sicherstellung.egs_mindestens_anwesend muss eine ganze Zahl"):
        load_konfiguration(path)


@pytest.mark.parametrize(("key", "value"), [("kapazitaet_mindestens_prozent", "100"), ("egs_mindestens_anwesend", "0"),
                                            ("ueberfaellige_aufgaben", "0"), ("Task_Antragsannahme", "0")])  # fmt: skip
def test_boundary_values_are_accepted(tmp_path: Path, key: str, value: str) -> None:
    load_konfiguration(with_value(tmp_path, key, value))
