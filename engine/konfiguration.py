"""The versioned EGS configuration file (config/egs.toml): deadlines, rates, dates, staffing shares.

Models read values with ``konfig("abschnitt.schlüssel")`` in scripts, conditions, timers and DMN.
Values the concept leaves open live here, never in scripts. Inconsistencies the concept contains
(the VZÄ shares add up to 1.15) are reported as warnings, not corrected.
"""

from __future__ import annotations

import copy
import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .errors import ConfigurationError, ScriptError
from .vocabulary import SITES, WORK_AREAS

log = logging.getLogger("egs.konfiguration")

VZAE_SHARES = tuple(WORK_AREAS)  # one share per area of the VZÄ plan
# The § 7 risk rule and the staffing figures: (key, lowest, highest, what the number is) – whole numbers only, so
# that nothing is rounded silently. A percentage above 100 or a negative count cannot be meant.
STAFFING_WHOLE_NUMBERS = (
    ("sicherstellung", "kapazitaet_mindestens_prozent", 1, 100, "Prozent des Bedarfs"),
    ("sicherstellung", "ueberfaellige_aufgaben", 0, 100_000, "überfällige Aufgaben"),
    ("sicherstellung", "egs_mindestens_anwesend", 0, 1000, "anwesende EGS-Beschäftigte"),
    ("sicherstellung", "offene_aufgaben_je_vzae", 1, 100_000, "offene Aufgaben je VZÄ"),
    ("sicherstellung", "umsetzung_hoechstens_tage", 1, 366, "Kalendertage einer Umsetzung"),
    ("sicherstellung", "prognose_wochen", 1, 52, "Wochen für die Prognose"),
)
MAX_TASK_MINUTES = 480  # one working day
DATE_KEYS = (
    "migration_stichtag",
    "parallelbetrieb_beginn",
    "parallelbetrieb_ende",
    "zahlfaelle_compass_bis",
    "ifk_unterstuetzung_neu_ab",
)


def freeze(value: Any) -> Any:
    """A read-only deep copy: mappings become ``MappingProxyType``, lists become tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({key: freeze(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(item) for item in value)
    return value


def thaw(value: Any) -> Any:
    """A plain, independent deep copy (dicts and lists) of a frozen value, as model data can store it."""
    if isinstance(value, Mapping):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [thaw(item) for item in value]
    return copy.copy(value)


@dataclass(frozen=True)
class Konfiguration:
    """Loaded configuration values with their version.

    The values are deeply read-only (one configuration serves every case of the process); a model's
    ``konfig()`` gets a fresh plain copy, so a script that changes what it got changes nothing shared.
    """

    values: Mapping[str, Any]
    version: str
    path: str
    warnings: tuple[str, ...] = field(default=())

    def get(self, key: str) -> Any:
        """Return a value by dotted path, e.g. ``fristen.unterlagen_tage``.

        :raises KeyError: with a German message for unknown keys.
        """
        node: Any = self.values
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise KeyError(f"Konfigurationswert '{key}' gibt es nicht ({self.path}).")
            node = node[part]
        return node

    def script_value(self, key: str) -> Any:
        """The ``konfig("abschnitt.schlüssel")`` helper of model scripts. :raises ScriptError: unknown key."""
        try:
            return thaw(self.get(key))
        except KeyError as exc:
            raise ScriptError(str(exc.args[0])) from None

    @property
    def release_required(self) -> bool:
        """``[modelle] freigabe_durch_zweite_person``: a second process owner releases every deploy from the
        modeller (off when the section is missing)."""
        return bool(self.values.get("modelle", {}).get("freigabe_durch_zweite_person", False))

    def vzae_sum(self) -> Decimal:
        """Sum of the VZÄ shares of one full-time post (should be 1.00; the concept says 1.15)."""
        return sum((Decimal(str(self.get(f"personalbemessung.{k}"))) for k in VZAE_SHARES), Decimal(0))


def load_konfiguration(path: Path) -> Konfiguration:
    """Read and check the configuration file.

    :raises ConfigurationError: for a missing file, invalid TOML or values of the wrong kind.
    """
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigurationError(f"Konfigurationsdatei fehlt: {path}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"Konfigurationsdatei {path} ist fehlerhaft: {exc}") from exc
    problems = _check(values)
    if problems:
        raise ConfigurationError(f"Konfigurationsdatei {path}: " + "; ".join(problems))
    konfig = Konfiguration(freeze(values), str(values["version"]), str(path))
    warnings: list[str] = []
    total = konfig.vzae_sum()
    if total != Decimal("1.00"):
        shares = " + ".join(str(konfig.get(f"personalbemessung.{k}")).replace(".", ",") for k in VZAE_SHARES)
        warnings.append(
            f"Die VZÄ-Anteile einer Vollzeitstelle ergeben {shares} = {str(total).replace('.', ',')} statt 1,00 "
            "(Konzept § 6). Bitte durch die Prozessverantwortung klären: normieren oder korrigieren."
        )
    return Konfiguration(konfig.values, konfig.version, konfig.path, tuple(warnings))


def log_warnings(konfig: Konfiguration, logger: logging.Logger | None = None) -> None:
    """Log the configuration's warnings once where a person reads them: the server's start-up log.

    Loading the configuration stays silent, so that every command line call does not repeat them
    (``egs konfig`` and the page *Personalbemessung* show them too).
    """
    for warning in konfig.warnings:
        (logger or log).warning(warning)


def _check(values: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []

    def number(section: str, key: str, minimum: float = 0) -> None:
        value = values.get(section, {}).get(key)
        if not isinstance(value, int | float) or isinstance(value, bool) or value < minimum:
            problems.append(f"{section}.{key} muss eine Zahl ≥ {minimum} sein")

    if not isinstance(values.get("version"), str) or not values["version"]:
        problems.append("version fehlt")
    for key in VZAE_SHARES:
        number("personalbemessung", key)
    for key in ("unterlagen_tage", "erinnerung_tage"):
        number("fristen", key, 1)
    regelbedarf = values.get("regelbedarf", {})
    if not regelbedarf or not all(k.isdigit() and isinstance(v, int | float) for k, v in regelbedarf.items()):
        problems.append("regelbedarf braucht Jahreszahlen mit Beträgen")
    umstellung = values.get("umstellung", {})
    for key in (*DATE_KEYS, "doxis_start"):
        value = umstellung.get(key)
        if key == "doxis_start" and value == "":
            continue
        try:
            date.fromisoformat(str(value))
        except ValueError:
            problems.append(f"umstellung.{key} muss ein Datum JJJJ-MM-TT sein")
    standorte = values.get("standorte", {})
    for key in ("alle", "fb50"):
        if not isinstance(standorte.get(key), list) or not set(standorte[key]) <= set(SITES):
            problems.append(f"standorte.{key} muss eine Liste bekannter Standorte sein")
    number("reisekosten", "km_satz")
    caps = values.get("handvorschuss", {}).get("obergrenze", {})
    if not isinstance(caps, dict) or set(caps) != set(SITES):
        problems.append("handvorschuss.obergrenze braucht einen Betrag je Standort")
    problems += _check_staffing(values)
    if not isinstance(values.get("modelle", {}).get("freigabe_durch_zweite_person", False), bool):
        problems.append("modelle.freigabe_durch_zweite_person muss true oder false sein")
    number("aufbewahrung", "standard_tage", 1)
    for process_id, days in values.get("aufbewahrung", {}).get("prozesse", {}).items():
        if not isinstance(days, int) or isinstance(days, bool) or days < 1:
            problems.append(f"aufbewahrung.prozesse.{process_id} muss eine ganze Zahl von Tagen ≥ 1 sein")
    return problems


def _check_staffing(values: Mapping[str, Any]) -> list[str]:
    """The thresholds of the § 7 risk rule and the figures behind capacity and demand (German messages)."""
    problems: list[str] = []
    for section, key, lowest, highest, meaning in STAFFING_WHOLE_NUMBERS:
        value = values.get(section, {}).get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not lowest <= value <= highest:
            problems.append(f"{section}.{key} muss eine ganze Zahl von {lowest} bis {highest} sein ({meaning})")
    hours = values.get("personalbemessung", {}).get("vollzeit_wochenstunden")
    if not _is_number(hours) or not 0 < hours <= 60:
        problems.append("personalbemessung.vollzeit_wochenstunden muss eine Zahl über 0 und höchstens 60 sein")
    aufwand = values.get("aufwand", {})
    for key in ("standard_minuten", "vorgang_standard_minuten"):
        if not _is_number(aufwand.get(key)) or not 0 < aufwand[key] <= MAX_TASK_MINUTES:
            problems.append(f"aufwand.{key} muss eine Zahl über 0 und höchstens {MAX_TASK_MINUTES} (Minuten) sein")
    for table in ("aufgaben", "vorgaenge"):
        for name, minutes in aufwand.get(table, {}).items():
            if not _is_number(minutes) or not 0 <= minutes <= MAX_TASK_MINUTES:
                problems.append(f"aufwand.{table}.{name} muss eine Zahl von 0 bis {MAX_TASK_MINUTES} (Minuten) sein")
    return problems


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value
