"""Helpers for the petty-cash processes (Handvorschuss): custodians, bookings."""

from __future__ import annotations

from engine.api import Engine

from .cases import CaseDriver

BESTIMMEN = "Kassenverwaltung und Vertretung bestimmen"
ERFASSEN = "Buchung erfassen"
KUNDE = {"empfaenger": "Jonas Wiesenthal", "bezug_vorgangsnummer": "07402//0094744"}


def verantwortliche_bestimmen(engine: Engine, verwalter: str, vertretung: str, site: str = "56.4") -> CaseDriver:
    """Set custodian and deputy of a site's petty cash through the process (as the site's FDL)."""
    case = CaseDriver(engine, "handvorschuss_verantwortliche", site=site)
    heute = case.data["gestartet_am"]
    daten = {"verwalter": verwalter, "vertretung": vertretung, "bestimmt_ab": heute, "anlass": "ersteinrichtung"}
    case.complete(BESTIMMEN, daten)
    return case


def buchung(engine: Engine, art: str, betrag: float, als: str = "egs", **extra: object) -> CaseDriver:
    """Book a payout, repayment or top-up through the process, started and entered by ``als``."""
    case = CaseDriver(engine, "handvorschuss", starter=als)
    daten = {"art": art, "betrag": betrag, "zweck": "Notlage bis zur Zahlung", **extra}
    if art != "einzahlung":
        daten = {**KUNDE, **daten}
    case.complete(ERFASSEN, daten, as_user=als)
    return case
