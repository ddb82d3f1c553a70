"""Read-side reports: monthly Sammellisten, the staffing shares (§ 6) and their checks."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .konfiguration import VZAE_SHARES, Konfiguration
from .models import PaymentListEntry

MEASURE_TITLES = {
    "EGZ": "Eingliederungszuschuss (EGZ)",
    "EQ": "Einstiegsqualifizierung (EQ)",
    "16e": "Eingliederung von Langzeitarbeitslosen (§ 16e SGB II)",
}


@dataclass(frozen=True)
class PaymentLine:
    """One payment on a Sammelliste."""

    business_key: str | None
    recipient: str
    amount_cents: int
    approved_by: str


@dataclass(frozen=True)
class PaymentList:
    """The Sammelliste of one measure type, month and site."""

    site: str
    measure_type: str
    month: str
    lines: list[PaymentLine]

    @property
    def title(self) -> str:
        return MEASURE_TITLES.get(self.measure_type, self.measure_type)

    @property
    def total_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)


def payment_list(session: Session, site: str, measure_type: str, month: str) -> PaymentList:
    """Collect the approved payments of a measure type for one pay month at one site."""
    rows = session.scalars(
        sa.select(PaymentListEntry)
        .where(
            PaymentListEntry.site == site,
            PaymentListEntry.measure_type == measure_type,
            PaymentListEntry.pay_month == month,
        )
        .order_by(PaymentListEntry.recipient, PaymentListEntry.id)
    )
    lines = [PaymentLine(r.business_key, r.recipient, r.amount_cents, r.approved_by) for r in rows]
    return PaymentList(site, measure_type, month, lines)


@dataclass(frozen=True)
class StaffingShares:
    """The VZÄ split of one full-time EGS post as configured, with the concept's inconsistency made visible."""

    shares: list[tuple[str, Decimal]]
    total: Decimal
    warnings: tuple[str, ...]
    version: str


SHARE_TITLES = {
    "allgemeine_verwaltung": "Allgemeine Verwaltungstätigkeiten",
    "neuantragsbearbeitung": "Neuantragsbearbeitung",
    "unterstuetzung_ifk": "Unterstützung IFK",
}


def staffing_shares(konfig: Konfiguration) -> StaffingShares:
    """The configured shares (never normalised silently)."""
    shares = [(SHARE_TITLES[k], Decimal(str(konfig.get(f"personalbemessung.{k}")))) for k in VZAE_SHARES]
    return StaffingShares(shares, konfig.vzae_sum(), konfig.warnings, konfig.version)
