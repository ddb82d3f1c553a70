"""Reports and exports: the monthly Sammellisten (printable), the staffing shares (§ 6), the RACI matrix, and
every named export of the engine's registry as a download."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request
from werkzeug.utils import secure_filename

from engine import clock, permissions
from engine.errors import FormValidationError
from engine.payment_lists import PaymentList
from engine.raci import HEADER as RACI_HEADER
from engine.vocabulary import MEASURE_TYPES, SITES

from ..errors import status_for
from ..extensions import get_engine
from ..security import login_required, require_actor

bp = Blueprint("reports", __name__)


def _selection(own_sites: list[str]) -> dict[str, str]:
    return {
        "standort": request.args.get("standort", own_sites[0] if own_sites else SITES[0]),
        "art": request.args.get("art", next(iter(MEASURE_TYPES))),
        "monat": request.args.get("monat", clock.today_berlin().strftime("%Y-%m")),
    }


@bp.get("/sammellisten")
@login_required
def payment_lists() -> Any:
    """Show a Sammelliste, ready to print (its retrieval is audited as an export)."""
    actor = require_actor()
    own_sites = permissions.payment_list_sites(actor)
    selection = _selection(own_sites)
    result: PaymentList | None = None
    errors: dict[str, list[str]] = {}
    try:
        result = get_engine().payment_list(actor, selection["standort"], selection["art"], selection["monat"])
    except FormValidationError as exc:
        errors = exc.field_errors
    page = render_template(
        "reports/sammelliste.html",
        selection=selection,
        result=result,
        errors=errors,
        sites=own_sites,
        types=MEASURE_TYPES,
    )
    return (page, status_for(FormValidationError({}))) if errors else page


@bp.get("/personalbemessung")
@login_required
def staffing() -> Any:
    """Show the configured VZÄ shares of one EGS post with their sum (the concept's 1.15 is not hidden)."""
    return render_template("reports/personal.html", staffing=get_engine().staffing())


@bp.get("/raci")
@login_required
def raci() -> Any:
    """Show the RACI matrix of the deployed models."""
    return render_template("reports/raci.html", rows=get_engine().raci(), header=RACI_HEADER)


@bp.get("/export/<name>")
@login_required
def export(name: str) -> Any:
    """Download a named export (parameters from the query string); the engine checks and audits it."""
    result = get_engine().export(require_actor(), name, request.args.to_dict())
    response = Response(result.content, content_type=result.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{secure_filename(result.filename)}"'
    return response
