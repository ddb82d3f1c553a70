"""Service-task operations of the safeguard process (§ 7): live figures instead of typed ones, and the
redeployment grants. Registered in ``engine.service_tasks``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from . import auth, redeployment
from .errors import RuleViolationError
from .escalation import assess
from .service_tasks import ServiceContext, operation
from .staff import parse_day
from .staff_models import StaffMember
from .workload import workload


@operation("besetzung.kennzahlen")
def figures(ctx: ServiceContext) -> dict[str, Any]:
    """Die aktuelle Lage des EGS am Standort berechnen (Bedarf, Kapazität, Gefährdungsregel)."""
    if ctx.specs is None:
        raise RuleViolationError("Die Kennzahlen brauchen die bereitgestellten Modelle (Aufgabenbereiche).")
    risk = assess(ctx.konfig, workload(ctx.session, ctx.konfig, ctx.site, ctx.specs))
    return {**risk.figures, "gruende": list(risk.reasons), "gefaehrdet": risk.holds}


def _names(text: Any) -> list[str]:
    return [line.strip() for line in str(text or "").splitlines() if line.strip()]


@operation("besetzung.umsetzen", "beschaeftigte_lsb", "beschaeftigte_ifk", "von", "bis")
def redeploy(ctx: ServiceContext, beschaeftigte_lsb: Any, beschaeftigte_ifk: Any, von: Any, bis: Any) -> dict[str, Any]:
    """Die gewählten LSB-/IFK-Beschäftigten befristet in den EGS umsetzen (befristete EGS-Berechtigung)."""
    actor = auth.load_actor(ctx.session, ctx.actor)
    first, last = parse_day(str(von)), parse_day(str(bis))
    moved = []
    for function, text in (("LSB", beschaeftigte_lsb), ("IFK", beschaeftigte_ifk)):
        for name in _names(text):
            staff_id = ctx.session.scalar(
                sa.select(StaffMember.id).where(
                    StaffMember.site == ctx.site, StaffMember.function == function, StaffMember.name == name
                )
            )
            if staff_id is None:
                raise RuleViolationError(
                    f"'{name[:60]}' gehört nicht zur {function} des Standorts {ctx.site} (Name wie im Personalbestand)."
                )
            redeployment.redeploy(ctx.session, ctx.konfig, actor, ctx.site, staff_id, first, last, ctx.instance_id)
            moved.append(name)
    if not moved:
        raise RuleViolationError("Bitte mindestens eine Person aus dem Personalbestand nennen.")
    return {"personen": moved, "von": first.isoformat(), "bis": last.isoformat()}


@operation("besetzung.umsetzung_beenden")
def end(ctx: ServiceContext) -> dict[str, Any]:
    """Die Umsetzungen dieses Vorgangs beenden (befristete EGS-Berechtigungen enden jetzt)."""
    return {"beendet": redeployment.end_for_case(ctx.session, ctx.actor, ctx.instance_id or 0)}
