"""What the staffing dashboard of a site shows (§ 6/§ 7): staff, absences, the VZÄ plan, demand and capacity,
redeployments and the risk rule's verdict – read for the site's leads, and the view audited."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from . import audit, clock, permissions
from .audit import Action
from .auth import Actor
from .errors import NotFoundError, PermissionDeniedError
from .escalation import Risk, assess
from .konfiguration import Konfiguration
from .redeployment import RedeploymentRow, redeployments
from .staff import StaffRow, roster
from .versions import SpecCache
from .vocabulary import SITES
from .vzae_plan import VzaePlan, plan
from .workload import Workload, workload


@dataclass(frozen=True)
class StaffOverview:
    site: str
    staff: list[StaffRow]
    plan: VzaePlan
    workload: Workload
    redeployments: list[RedeploymentRow]
    risk: Risk
    may_decide: bool
    may_redeploy: bool


def overview(session: Session, konfig: Konfiguration, specs: SpecCache, actor: Actor, site: str) -> StaffOverview:
    """The site's staffing for its leads (TL, FDL); the view is audited (absences are personal data).

    :raises PermissionDeniedError: not a lead of the site. :raises NotFoundError: unknown site.
    """
    if site not in SITES:
        raise NotFoundError(f"Unbekannter Standort: {site}")
    if not permissions.may_manage_staff(actor, site):
        raise PermissionDeniedError("Die Personallage eines Standorts sehen dessen Leitungen (TL, FDL).")
    today = clock.today_berlin()
    staff = roster(session, site)
    load = workload(session, konfig, site, specs)
    audit.record(session, Action.STAFFING_VIEWED, actor.username, details={"standort": site})
    return StaffOverview(
        site, staff, plan(session, konfig, site, staff, today), load, redeployments(session, site, today),
        assess(konfig, load), permissions.may_decide_shares(actor, site), permissions.may_redeploy(actor, site),
    )  # fmt: skip
