"""The staff a what-if simulation counts at a site, read from the staffing tables (§ 6/§ 7).

Per simulated working day (Lower Saxony: weekends and public holidays are not simulated): every EGS employee
employed that day and not absent, and everybody redeployed into the site's EGS that day, counts with their
part-time factor (weekly hours ÷ ``personalbemessung.vollzeit_wochenstunden``) times the sum of the VZÄ shares
as the FDL decided them (``engine.vzae_plan``: 1.15 "wie im Konzept", 1.00 "auf 1,00 normiert") – the same
rule as the capacity on the page *Personallage*. Implements the simulation's ``StaffPlan`` seam.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from .konfiguration import Konfiguration
from .simulation import MAX_VZAE
from .staff import roster
from .vzae_plan import effective_shares, part_time_factor, share_mode
from .working_days import holiday_name
from .workload import redeployed_on


@dataclass(frozen=True)
class PersonUsed:
    """One person the simulation counted, with their days in the simulated period."""

    name: str
    function: str
    weekly_hours: Decimal
    factor: float  # part-time factor
    present_days: int
    absent_days: int
    redeployed_days: int


@dataclass(frozen=True)
class RosterStaff:
    """The VZÄ present on each simulated working day, from the staffing tables (the ``StaffPlan`` seam)."""

    days: tuple[date, ...]
    per_day: tuple[float, ...]  # VZÄ present, the shares' sum applied
    people: tuple[PersonUsed, ...]
    share_sum: float
    mode_label: str
    on_books: float  # EGS VZÄ employed on the first simulated day (part-time factors, shares not applied)
    absence_vzae_days: float  # VZÄ-days of EGS staff absent in the period (shares not applied)
    holidays: tuple[tuple[date, str], ...]  # public holidays on weekdays the period skips
    extra_vzae: float = 0.0  # one redeployed clerk on top ("plus eine umgesetzte LSB-Kraft")

    def present_vzae(self, day: int) -> float:
        base = self.per_day[day] if 0 <= day < len(self.per_day) else 0.0
        return min(max(base + self.extra_vzae, 0.0), MAX_VZAE)

    def plus(self, vzae: float) -> RosterStaff:
        """The same staff and ``vzae`` more full-time posts (counted with the shares' sum, like everybody)."""
        return replace(self, extra_vzae=vzae * self.share_sum)


def roster_staff(session: Session, konfig: Konfiguration, site: str, days: list[date]) -> RosterStaff | None:
    """Who counts on each of ``days`` at ``site``; None when the site has no EGS staff recorded in that period."""
    mode = share_mode(session, site)
    share_sum = float(sum(effective_shares(konfig, mode.mode).values(), Decimal(0)))
    redeployed = redeployed_on(session, site, days[0], days[-1])
    per_day = [0.0] * len(days)
    people: list[PersonUsed] = []
    absence = 0.0
    everybody = roster(session, site)
    for person in everybody:
        factor = float(part_time_factor(konfig, person.weekly_hours))
        present = absent = moved = 0
        for index, day in enumerate(days):
            is_moved = any(first <= day <= last for first, last in redeployed.get(person.id, ()))
            if not person.employed_on(day) or (person.function != "EGS" and not is_moved):
                continue
            if person.absent_on(day):
                absent += 1
                absence += factor if person.function == "EGS" else 0.0
                continue
            present += 1
            moved += is_moved
            per_day[index] += factor * share_sum
        if present or absent:
            people.append(PersonUsed(person.name, person.function, person.weekly_hours, round(factor, 4), present,
                                     absent, moved))  # fmt: skip
    if not any(p.function == "EGS" for p in people):
        return None
    on_books = sum(
        float(part_time_factor(konfig, p.weekly_hours))
        for p in everybody
        if p.function == "EGS" and p.employed_on(days[0])
    )
    holidays = []
    day = days[0]
    while day <= days[-1]:
        name = holiday_name(day)
        if name and day.weekday() < 5:
            holidays.append((day, name))
        day += timedelta(days=1)
    return RosterStaff(tuple(days), tuple(round(v, 4) for v in per_day), tuple(people), share_sum, mode.label,
                       round(on_books, 4), round(absence, 4), tuple(holidays))  # fmt: skip
