"""Staffing exports (§ 6/§ 7) in the export registry: the site's situation day by day, and redeployments per
site and month (hours moved, from which unit). Both for the site's leads (TL, FDL) only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from . import permissions
from .auth import Actor
from .errors import ConfigurationError, FormValidationError, NotFoundError, PermissionDeniedError
from .exports import CSV_MEDIA_TYPE, ExportFile, ExportRequest, csv_text, export
from .redeployment import redeployments
from .vocabulary import SITES
from .vzae_plan import AREA_TITLES, AREAS, round2
from .working_days import working_days_between
from .workload import workload


def check_site(actor: Actor, site: str) -> None:
    """:raises NotFoundError: unknown site. :raises PermissionDeniedError: not a lead of the site."""
    if site not in SITES:
        raise NotFoundError(f"Unbekannter Standort: {site[:20]}")
    if not permissions.may_manage_staff(actor, site):
        raise PermissionDeniedError("Die Personallage eines Standorts sehen dessen Leitungen (TL, FDL).")


def _num(value: Decimal) -> str:
    return str(value).replace(".", ",")


@export("personallage", "Personallage: Kapazität und Bedarf heute und an 10 Arbeitstagen", standort="z. B. 56.4")
def situation_csv(request: ExportRequest) -> ExportFile:
    site = request.parameters.get("standort", "")
    check_site(request.actor, site)
    if request.konfig is None:
        raise ConfigurationError("Die Personallage braucht die Konfiguration.")
    load = workload(request.session, request.konfig, site, request.specs)
    header = ("Standort", "Datum", "Feiertag", "EGS anwesend", "abwesend", "umgesetzt",
              *(f"Kapazität {AREA_TITLES[a]} (h)" for a in AREAS), *(f"Bedarf {AREA_TITLES[a]} (h)" for a in AREAS),
              "Deckung (%)", "VZÄ-Anteile")  # fmt: skip
    rows = [
        (site, d.day.strftime("%d.%m.%Y"), d.holiday or "", str(len(d.present)), str(len(d.absent)),
         str(len(d.redeployed)), *(_num(d.capacity[a]) for a in AREAS), *(_num(d.demand[a]) for a in AREAS),
         "" if d.coverage_percent is None else str(d.coverage_percent), load.mode.label)
        for d in load.days
    ]  # fmt: skip
    return ExportFile(f"personallage-{site}.csv", CSV_MEDIA_TYPE, csv_text(header, rows), len(rows))


@dataclass(frozen=True)
class MovedHours:
    """One redeployment's share of a month: working days in the month within the period, and the hours."""

    name: str
    from_function: str
    first_day: date
    last_day: date
    working_days: int
    hours: Decimal


def month_bounds(month: str) -> tuple[date, date]:
    """:raises FormValidationError: not JJJJ-MM."""
    try:
        year, number = (int(part) for part in month.split("-"))
        first = date(year, number, 1)
    except ValueError:
        raise FormValidationError({"monat": ["Monat als JJJJ-MM angeben."]}) from None
    following = date(year + (number == 12), number % 12 + 1, 1)
    return first, following - timedelta(days=1)


def moved_hours(session: Session, site: str, month: str) -> list[MovedHours]:
    """Redeployments into the site's EGS in ``month``: hours moved = weekly hours ÷ 5 × working days."""
    first, last = month_bounds(month)
    result = []
    for row in redeployments(session, site, first, last):
        days = sum(1 for _ in working_days_between(max(first, row.first_day), min(last, row.last_day)))
        hours = round2(row.weekly_hours / 5 * days)
        result.append(MovedHours(row.name, row.from_function, row.first_day, row.last_day, days, hours))
    return sorted(result, key=lambda m: (m.first_day, m.name))


@export("umsetzungen", "Umsetzungen in den EGS je Standort und Monat (Stunden, aus welcher Einheit)",
        standort="z. B. 56.4", monat="JJJJ-MM")  # fmt: skip
def redeployments_csv(request: ExportRequest) -> ExportFile:
    site, month = request.parameters.get("standort", ""), request.parameters.get("monat", "")
    check_site(request.actor, site)
    rows = moved_hours(request.session, site, month)
    header = ("Standort", "Monat", "Person", "aus", "von", "bis", "Arbeitstage im Monat", "Stunden")
    lines = [
        (site, month, m.name, m.from_function, m.first_day.strftime("%d.%m.%Y"), m.last_day.strftime("%d.%m.%Y"),
         str(m.working_days), _num(m.hours))
        for m in rows
    ]  # fmt: skip
    for unit in ("LSB", "IFK"):
        total = sum((m.hours for m in rows if m.from_function == unit), Decimal(0))
        lines.append((site, month, f"Summe aus {unit}", unit, "", "", "", _num(total)))
    return ExportFile(f"umsetzungen-{site}-{month}.csv", CSV_MEDIA_TYPE, csv_text(header, lines), len(rows))
