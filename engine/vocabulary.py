"""The platform's fixed vocabulary, declared once: sites, groups, work areas, case statuses, priorities, measure types.

Codes are what the database and the models store; where people read them, the German label stands next to
the code here, and the web layer shows that label. (Audit actions and their labels are in ``engine.audit``.)
"""

from __future__ import annotations

import re

# Sites of FB 56 (Landkreis Göttingen); a grant for ALL_SITES holds at every one of them.
SITES = ("56.4", "56.5", "56.6", "56.7", "56.8")
ALL_SITES = "*"

# Work groups are the lanes of the models; staff functions do not work cases.
WORK_GROUPS = ("EGS", "LSB", "IFK", "TL", "FDL", "FB50")
STAFF_FUNCTIONS = ("MODELLER", "AUDIT", "ADMIN")
GROUPS = WORK_GROUPS + STAFF_FUNCTIONS
LEAD_GROUPS = ("TL", "FDL")  # Teamleitung and Fachdienstleitung lead their site
GROUP_NAMES = {
    "EGS": "Eingangsservice",
    "LSB": "Leistungssachbearbeitung",
    "IFK": "Integrationsfachkraft",
    "TL": "Teamleitung",
    "FDL": "Fachdienstleitung",
    "FB50": "FB 50 Soziales",
    "MODELLER": "Prozessverantwortung",
    "AUDIT": "Prüfung/Datenschutz",
    "ADMIN": "Benutzerverwaltung",
}


def site_label(site: str) -> str:
    """How people name a site: 'Fachdienst 56.4' (a grant for every site: 'alle Standorte')."""
    return "alle Standorte" if site == ALL_SITES else f"Fachdienst {site}"


# The three areas of the § 6 VZÄ plan. Every process belongs to one (model property egsBereich; a task may
# name its own); the shares of a full-time post per area are configured under the same keys ([personalbemessung]).
WORK_AREAS = {
    "allgemeine_verwaltung": "Allgemeine Verwaltungstätigkeiten",
    "neuantragsbearbeitung": "Neuantragsbearbeitung",
    "unterstuetzung_ifk": "Unterstützung IFK",
}

# The part EGS plays in a step (property egsRole of every task).
EGS_ROLES = ("Durchführender", "Mitwirkender", "informatorisch Beteiligter")

RUNNING, COMPLETED, ERROR, CANCELLED = "running", "completed", "error", "cancelled"
DELETED = "deleted"  # personal data removed after the retention period (``retention``); the trail stays
CASE_STATUSES = {
    RUNNING: "in Bearbeitung",
    COMPLETED: "abgeschlossen",
    ERROR: "angehalten (Störung)",
    CANCELLED: "abgebrochen",
    DELETED: "gelöscht (Aufbewahrungsfrist abgelaufen)",
}

# Where a case failed: the kinds of incidents.
INCIDENT_KINDS = {"step": "Schritt", "timer": "Frist/Timer", "message": "Nachricht"}

PRIORITIES = {0: "normal", 1: "erhöht", 2: "hoch", 3: "sehr hoch"}
NORMAL_PRIORITY = 0

# Measures whose approved payments go on the monthly Sammellisten (IFK support, § 4.4 of the concept).
MEASURE_TYPES = {
    "EGZ": "Eingliederungszuschuss (EGZ)",
    "EQ": "Einstiegsqualifizierung (EQ)",
    "16e": "Eingliederung von Langzeitarbeitslosen (§ 16e SGB II)",
}

BUSINESS_KEY_MAX = 64  # width of the business-key columns
MONTH_PATTERN = re.compile(r"\d{4}-(0[1-9]|1[0-2])")  # a pay month, JJJJ-MM


def is_month(value: object) -> bool:
    """True for a month written as JJJJ-MM."""
    return isinstance(value, str) and MONTH_PATTERN.fullmatch(value) is not None
