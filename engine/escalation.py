"""The § 7 risk rule and its episodes: when the rule holds for a site, the safeguard case starts once.

The rule (``[sicherstellung]``) holds on a working day at a site with EGS staff recorded when ANY of these
is true: capacity today below ``kapazitaet_mindestens_prozent`` of demand; more overdue EGS tasks than
``ueberfaellige_aufgaben``; fewer EGS staff present than ``egs_mindestens_anwesend``. While it holds, an
*episode* is open and no second case starts; when the rule stops holding, the episode ends (both audited).
The timer worker checks every site each round (``check_sites``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import audit, clock, notice_jobs
from .audit import Action
from .auth import system_actor
from .konfiguration import Konfiguration
from .models import HumanTask, ProcessInstance, ProcessVersion
from .staff_models import EscalationEpisode
from .vocabulary import PRIORITIES, SITES

if TYPE_CHECKING:
    from .casework import Casework
    from .workload import Workload

log = logging.getLogger("egs.escalation")
PROCESS = "sicherstellung_egs_besetzung"


@dataclass(frozen=True)
class Risk:
    """The risk rule's verdict for a site today, with the figures it used."""

    reasons: tuple[str, ...]
    figures: dict[str, Any]

    @property
    def holds(self) -> bool:
        return bool(self.reasons)


def assess(konfig: Konfiguration, load: Workload) -> Risk:
    """Apply the configured rule to today's figures (on a day without work it never holds)."""
    rule = konfig.values.get("sicherstellung", {})
    today = load.today
    minimum_percent = int(rule.get("kapazitaet_mindestens_prozent", 80))
    max_overdue = int(rule.get("ueberfaellige_aufgaben", 10))
    min_present = int(rule.get("egs_mindestens_anwesend", 1))
    figures: dict[str, Any] = {
        "stichtag": today.day.isoformat(),
        "offene_aufgaben": sum(load.open_tasks.values()),
        "ueberfaellige_aufgaben": load.overdue_total,
        "egs_anwesend": len(today.present),
        "egs_abwesend": len(today.absent),
        "kapazitaet_stunden": float(today.capacity_total),
        "bedarf_stunden": float(today.demand_total),
        "deckung_prozent": today.coverage_percent,
        "vzae_anteile": load.mode.label,
        "schwelle_kapazitaet_prozent": minimum_percent,
        "schwelle_ueberfaellige": max_overdue,
        "schwelle_egs_anwesend": min_present,
    }
    if not today.working or load.egs_staff == 0:  # no work today, or no staff recorded: nothing to assess
        return Risk((), figures)
    reasons = []
    if today.demand_total > 0 and today.capacity_total * 100 < today.demand_total * Decimal(minimum_percent):
        reasons.append(f"Kapazität unter {minimum_percent} % des Bedarfs")
    if load.overdue_total > max_overdue:
        reasons.append("überfällige Aufgaben über der Schwelle")
    if len(today.present) < min_present:
        reasons.append(f"weniger als {min_present} EGS-Beschäftigte anwesend")
    return Risk(tuple(reasons), figures)


def open_episode(session: Session, site: str) -> EscalationEpisode | None:
    return session.scalar(
        sa.select(EscalationEpisode).where(EscalationEpisode.site == site, EscalationEpisode.ended_at.is_(None))
    )


def check_site(session: Session, konfig: Konfiguration, casework: Casework, site: str) -> str | None:
    """Open or close the site's episode by the rule; return 'started', 'ended' or None (no change)."""
    from .workload import workload

    episode = open_episode(session, site)
    if (
        episode is None
        and session.scalar(sa.select(ProcessVersion.id).where(ProcessVersion.process_id == PROCESS).limit(1)) is None
    ):
        return None  # the safeguard process is not deployed (yet)
    load = workload(session, konfig, site, casework.specs)
    if not load.today.working:
        return None  # weekends and holidays neither start nor end an episode
    risk = assess(konfig, load)
    if risk.holds and episode is None:
        started = {"ausgeloest_durch": "gefaehrdungsregel", "lage_bei_ausloesung": risk.figures}
        case = casework.start_for(session, system_actor("sicherstellung"), PROCESS, site=site, system=True,
                                  data=started)  # fmt: skip
        _to_the_top(session, case.instance_id)
        session.add(EscalationEpisode(site=site, started_at=clock.now(), instance_id=case.instance_id,
                                      reasons="; ".join(risk.reasons)[:500]))  # fmt: skip
        audit.record(session, Action.ESCALATION_STARTED, "system", instance_id=case.instance_id,
                     details={"standort": site, "gruende": list(risk.reasons), **risk.figures})  # fmt: skip
        notice_jobs.tell_escalation(session, site, case.instance_id)
        return "started"
    if not risk.holds and episode is not None:
        episode.ended_at = clock.now()
        audit.record(session, Action.ESCALATION_ENDED, "system", instance_id=episode.instance_id,
                     details={"standort": site, **risk.figures})  # fmt: skip
        return "ended"
    return None


def _to_the_top(session: Session, instance_id: int) -> None:
    """The safeguard case and its tasks get the highest priority: the FDL sees them at the top of the inbox."""
    top = max(PRIORITIES)
    session.execute(sa.update(ProcessInstance).where(ProcessInstance.id == instance_id).values(priority=top))
    session.execute(sa.update(HumanTask).where(HumanTask.instance_id == instance_id).values(priority=top))


def check_sites(db: Any, konfig: Konfiguration, casework: Casework) -> dict[str, str]:
    """Check every site in a transaction of its own (one failing site does not stop the others)."""
    changes: dict[str, str] = {}
    for site in SITES:
        try:
            with db.transaction() as session:
                change = check_site(session, konfig, casework, site)
        except Exception as exc:  # noqa: BLE001 - one site's failure is logged, the others still run
            log.error("escalation check failed for a site: %s", type(exc).__name__)
            continue
        if change:
            changes[site] = change
    return changes
