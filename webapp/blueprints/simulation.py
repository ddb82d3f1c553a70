"""The what-if simulation page ("Was wäre wenn") for the site's leads: the form, the comparison, an SVG chart."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from flask import Blueprint, render_template, request

from engine import permissions
from engine.errors import PermissionDeniedError, RuleViolationError
from engine.simulation_report import STAFF_SOURCES, ProcessDefault, SimulationInputs, SimulationReport

from ..errors import status_for
from ..extensions import get_engine
from ..security import login_required, require_actor

bp = Blueprint("simulation", __name__)

NUMBERS = {  # form field → (inputs attribute, German label)
    "vzae": ("vzae", "VZÄ im EGS"),
    "abwesenheit": ("absence_days", "Abwesenheitstage"),
    "wochenstunden": ("hours_per_week", "Wochenstunden"),
    "produktiv": ("productive_share", "Anteil für Aufgaben"),
    "minuten": ("default_minutes", "Minuten je Aufgabe"),
    "frist": ("deadline_days", "Frist in Arbeitstagen"),
    "bestand": ("initial_backlog", "Bestand zu Beginn"),
    "startwert": ("seed", "Startwert"),
    "laeufe": ("replications", "Läufe"),
}
WHOLE = frozenset({"initial_backlog", "seed", "replications"})


@bp.get("/simulation")
@login_required
def index() -> Any:
    """The form with the forecast and the configured values of the chosen site."""
    actor = require_actor()
    sites = permissions.simulation_sites(actor)
    site = request.args.get("standort") or (sites[0] if sites else "")
    inputs, processes, staff = get_engine().simulation_defaults(actor, site)
    return render_template("simulation/index.html", inputs=inputs, processes=processes, sites=sites, report=None,
                           error=None, chart=None, staff=staff, sources=STAFF_SOURCES)  # fmt: skip


@bp.post("/simulation")
@login_required
def run() -> Any:
    """Run the comparison with the entered values (German decimal commas accepted)."""
    actor = require_actor()
    site = request.form.get("standort", "")
    if site not in permissions.simulation_sites(actor):
        raise PermissionDeniedError("Die Simulation rechnet nur die Leitung des Standorts (TL, FDL).")
    engine = get_engine()
    defaults, processes, staff = engine.simulation_defaults(actor, site)
    report: SimulationReport | None = None
    error: str | None = None
    inputs = defaults
    try:
        inputs = _read_form(defaults, processes)
        report = engine.simulate(actor, inputs)
    except RuleViolationError as exc:
        error = exc.message
    sites = permissions.simulation_sites(actor)
    chart_points = chart(report) if report else None
    page = render_template("simulation/index.html", inputs=inputs, processes=processes, sites=sites, report=report,
                           error=error, chart=chart_points, staff=staff, sources=STAFF_SOURCES)  # fmt: skip
    return (page, status_for(RuleViolationError(""))) if error else page


def _number(field: str, label: str) -> float:
    text = request.form.get(field, "").strip()[:40]
    if "," in text:  # German: 1.234,5
        text = text.replace(".", "").replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        raise RuleViolationError(f"Bitte prüfen: {label} muss eine Zahl sein.") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise RuleViolationError(f"Bitte prüfen: {label} muss eine Zahl sein.")
    return value


def _read_form(defaults: SimulationInputs, processes: list[ProcessDefault]) -> SimulationInputs:
    values: dict[str, Any] = {}
    for field, (attribute, label) in NUMBERS.items():
        number = _number(field, label)
        if attribute in WHOLE:
            if not number.is_integer() or abs(number) > 2**40:
                raise RuleViolationError(f"Bitte prüfen: {label} muss eine ganze Zahl sein.")
            values[attribute] = int(number)
        else:
            values[attribute] = number
    arrivals = {  # a process left out of the form keeps its forecast
        p.process_id: _number(f"zugang_{p.process_id}", f"Zugänge {p.name}")
        if request.form.get(f"zugang_{p.process_id}", "").strip()
        else defaults.arrivals.get(p.process_id, 0.0)
        for p in processes
    }
    source = request.form.get("personal", defaults.staff_source)
    if source not in STAFF_SOURCES:
        raise RuleViolationError("Bitte prüfen: Personal aus dem Bestand oder wie eingegeben.")
    return replace(defaults, arrivals=arrivals, staff_source=source, **values)


def chart(report: SimulationReport, width: int = 640, height: int = 260) -> dict[str, Any]:
    """Points of the backlog lines (one per scenario) and the axis ticks, for the SVG in the template."""
    left, right, top, bottom = 56, 16, 16, 40
    series = [s.backlog for s in report.scenarios]
    peak = max((max(values) for values in series if values), default=0.0)
    ceiling = _nice(peak)
    days = len(report.days)

    def x(index: int) -> float:
        return left + (width - left - right) * (index / max(days - 1, 1))

    def y(value: float) -> float:
        return top + (height - top - bottom) * (1 - value / ceiling)

    lines = [" ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values)) for values in series]
    ticks = [(round(ceiling * k / 4), y(ceiling * k / 4)) for k in range(5)]
    labels = [(report.days[i], x(i)) for i in range(0, days, 5)]
    return {"width": width, "height": height, "lines": lines, "ticks": ticks, "labels": labels, "left": left,
            "right": width - right, "bottom": height - bottom, "top": top}  # fmt: skip


def _nice(peak: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above ``peak`` (at least 4): the top of the value axis."""
    if peak <= 4:
        return 4.0
    magnitude = 10.0 ** math.floor(math.log10(peak))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= peak)
