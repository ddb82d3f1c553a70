"""The § 6 VZÄ plan of a site: per EGS employee the three shares × part-time factor, totals per area.

The concept's shares add up to 1.15. The site head (FDL) decides per site whether they count "wie im
Konzept" (as configured) or "auf 1,00 normiert" (each share ÷ their sum); until she decides, they count as
configured and every figure says that no decision has been made. The decision is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from . import audit, clock, permissions
from .audit import Action
from .auth import Actor
from .errors import NotFoundError, PermissionDeniedError, RuleViolationError
from .konfiguration import VZAE_SHARES, Konfiguration
from .staff import StaffRow
from .staff_models import ShareDecision
from .staffing import SHARE_TITLES
from .vocabulary import SITES

AREAS = VZAE_SHARES  # allgemeine_verwaltung, neuantragsbearbeitung, unterstuetzung_ifk
AREA_TITLES = SHARE_TITLES
MODES = {"konzept": "wie im Konzept", "normiert": "auf 1,00 normiert"}
TWO = Decimal("0.01")


@dataclass(frozen=True)
class ShareMode:
    """How the shares count at a site, and who decided it when (None: nobody yet)."""

    mode: str
    decided_by: str | None
    decided_at: datetime | None

    @property
    def label(self) -> str:
        text = f"VZÄ-Anteile {MODES[self.mode]}"
        return text if self.decided_by else text + " (noch keine Entscheidung der Fachdienstleitung)"


@dataclass(frozen=True)
class PlanRow:
    name: str
    weekly_hours: Decimal
    factor: Decimal  # part-time factor: weekly hours ÷ full-time hours
    by_area: dict[str, Decimal]  # exact; rounded only where shown

    @property
    def total(self) -> Decimal:
        return round2(sum(self.by_area.values(), Decimal(0)))


@dataclass(frozen=True)
class VzaePlan:
    site: str
    day: date
    mode: ShareMode
    shares: dict[str, Decimal]  # the shares that count (after the decision)
    configured_sum: Decimal
    rows: list[PlanRow]
    totals: dict[str, Decimal]

    @property
    def total(self) -> Decimal:
        return round2(sum(self.totals.values(), Decimal(0)))


def share_mode(session: Session, site: str) -> ShareMode:
    row = session.get(ShareDecision, site)
    return ShareMode(row.mode, row.decided_by, row.decided_at) if row else ShareMode("konzept", None, None)


def effective_shares(konfig: Konfiguration, mode: str) -> dict[str, Decimal]:
    """The shares of one full-time post as they count under ``mode`` (normalised: each ÷ their sum)."""
    shares = {area: Decimal(str(konfig.get(f"personalbemessung.{area}"))) for area in AREAS}
    if mode == "normiert":
        total = sum(shares.values(), Decimal(0))
        return {area: share / total for area, share in shares.items()}
    return shares


def full_time_hours(konfig: Konfiguration) -> Decimal:
    return Decimal(str(konfig.get("personalbemessung.vollzeit_wochenstunden")))


def part_time_factor(konfig: Konfiguration, weekly_hours: Decimal) -> Decimal:
    return weekly_hours / full_time_hours(konfig)


def plan(session: Session, konfig: Konfiguration, site: str, staff: list[StaffRow], day: date) -> VzaePlan:
    """The VZÄ plan of the EGS staff employed at ``site`` on ``day`` (absences do not change the plan)."""
    mode = share_mode(session, site)
    shares = effective_shares(konfig, mode.mode)
    rows = []
    for person in staff:
        if person.function != "EGS" or not person.employed_on(day):
            continue
        factor = part_time_factor(konfig, person.weekly_hours)
        rows.append(PlanRow(person.name, person.weekly_hours, round2(factor),
                            {area: factor * share for area, share in shares.items()}))  # fmt: skip
    totals = {area: round2(sum((r.by_area[area] for r in rows), Decimal(0))) for area in AREAS}
    configured = sum((Decimal(str(konfig.get(f"personalbemessung.{a}"))) for a in AREAS), Decimal(0))
    return VzaePlan(site, day, mode, {a: round2(s) for a, s in shares.items()}, configured, rows, totals)


def round2(value: Decimal) -> Decimal:
    return value.quantize(TWO, rounding=ROUND_HALF_UP)


def decide(session: Session, actor: Actor, site: str, mode: str) -> ShareMode:
    """The FDL decides how the shares count at her site; audited with the previous decision.

    :raises PermissionDeniedError: not the FDL of the site. :raises RuleViolationError: unknown mode.
    """
    if site not in SITES:
        raise NotFoundError(f"Unbekannter Standort: {site}")
    if not permissions.may_decide_shares(actor, site):
        raise PermissionDeniedError("Über die VZÄ-Anteile entscheidet die Fachdienstleitung des Standorts.")
    if mode not in MODES:
        raise RuleViolationError(f"Unbekannte Entscheidung (erlaubt: {', '.join(MODES.values())}).")
    before = share_mode(session, site)
    row = session.get(ShareDecision, site)
    now = clock.now()
    if row is None:
        session.add(ShareDecision(site=site, mode=mode, decided_by=actor.username, decided_at=now))
    else:
        row.mode, row.decided_by, row.decided_at = mode, actor.username, now
    audit.record(session, Action.SHARE_MODE_DECIDED, actor.username, details={
        "standort": site, "entscheidung": mode, "vorher": before.mode if before.decided_by else None})  # fmt: skip
    return ShareMode(mode, actor.username, now)
