"""Reports: the monthly Sammellisten (printable and CSV), the staffing shares (§ 6) and the RACI matrix."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, render_template, request

from engine import clock
from engine.auth import SITES
from engine.errors import FormValidationError
from engine.raci import HEADER as RACI_HEADER
from engine.raci import as_csv
from engine.reports import MEASURE_TITLES, PaymentList

from ..errors import status_for
from ..extensions import get_engine
from ..security import login_required, require_actor

bp = Blueprint("reports", __name__)


def _csv_response(text: str, filename: str) -> Response:
    # A BOM lets spreadsheet programs open the UTF-8 file with the umlauts intact.
    response = Response("\ufeff" + text, mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _selection() -> dict[str, str]:
    actor = require_actor()
    own_sites = sorted(s for s in SITES if any(actor.has_group(g, s) for g in ("EGS", "IFK", "TL", "FDL", "AUDIT")))
    return {
        "standort": request.args.get("standort", own_sites[0] if own_sites else SITES[0]),
        "art": request.args.get("art", "EGZ"),
        "monat": request.args.get("monat", clock.today_berlin().strftime("%Y-%m")),
    }


@bp.get("/sammellisten")
@login_required
def payment_lists() -> Any:
    """Show a Sammelliste, ready to print (its retrieval is audited as an export)."""
    selection = _selection()
    result: PaymentList | None = None
    errors: dict[str, list[str]] = {}
    try:
        result = get_engine().payment_list(require_actor(), selection["standort"], selection["art"], selection["monat"])
    except FormValidationError as exc:
        errors = exc.field_errors
    page = render_template(
        "reports/sammelliste.html", selection=selection, result=result, errors=errors, sites=SITES, types=MEASURE_TITLES
    )
    return (page, status_for(FormValidationError({}))) if errors else page


@bp.get("/sammellisten.csv")
@login_required
def payment_list_csv() -> Any:
    """Download a Sammelliste as CSV (semicolon-separated)."""
    selection = _selection()
    result = get_engine().payment_list(require_actor(), selection["standort"], selection["art"], selection["monat"])
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(
        ("Standort", "Maßnahmeart", "Zahlmonat", "Vorgang", "Zahlungsempfänger", "Betrag (EUR)", "bewilligt von")
    )
    for line in result.lines:
        amount = f"{line.amount_cents / 100:.2f}".replace(".", ",")
        writer.writerow((result.site, result.measure_type, result.month, line.business_key or "", line.recipient,
                         amount, line.approved_by))  # fmt: skip
    writer.writerow(("", "", "", "", "Summe", f"{result.total_cents / 100:.2f}".replace(".", ","), ""))
    name = f"sammelliste_{result.measure_type}_{result.month}_{result.site}.csv"
    return _csv_response(out.getvalue(), name)


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


@bp.get("/raci.csv")
@login_required
def raci_csv() -> Any:
    """Download the RACI matrix as CSV."""
    return _csv_response(as_csv(get_engine().raci()), "raci-matrix.csv")
