"""The staffing shares of one full-time EGS post (§ 6 of the concept), with their checks."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .konfiguration import VZAE_SHARES, Konfiguration
from .vocabulary import WORK_AREAS


@dataclass(frozen=True)
class StaffingShares:
    """The VZÄ split of one full-time EGS post as configured, with the concept's inconsistency made visible."""

    shares: list[tuple[str, Decimal]]
    total: Decimal
    warnings: tuple[str, ...]
    version: str


SHARE_TITLES = WORK_AREAS


def staffing_shares(konfig: Konfiguration) -> StaffingShares:
    """The configured shares (never normalised silently)."""
    shares = [(SHARE_TITLES[k], Decimal(str(konfig.get(f"personalbemessung.{k}")))) for k in VZAE_SHARES]
    return StaffingShares(shares, konfig.vzae_sum(), konfig.warnings, konfig.version)
