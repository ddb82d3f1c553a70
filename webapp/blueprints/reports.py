"""Reports and exports: the monthly Sammellisten (printable), the staffing shares (§ 6), the RACI matrix, and
every named export of the engine's registry as a download (streamed: a large export is never held whole)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from werkzeug.utils import secure_filename

from engine import clock, permissions
from engine.auth import Actor
from engine.errors import FormValidationError
from engine.payment_cancellation import CancelStep
from engine.payment_lists import PaymentList
from engine.raci import HEADER as RACI_HEADER
from engine.vocabulary import MEASURE_TYPES, SITES

from ..errors import status_for
from ..extensions import get_engine
from ..security import login_required, require_actor, session_token

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
    return _payment_list_page(actor, _selection(permissions.payment_list_sites(actor)))


def _payment_list_page(
    actor: Actor, selection: dict[str, str], cancel: tuple[int, str, list[str]] | None = None
) -> Any:
    """The list page; ``cancel``: (entry, reason, messages) of a cancellation request to show again."""
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
        cancel=cancel,
        may_cancel=result is not None and permissions.may_cancel_payment(actor, result.site),
        confirmable=_confirmable(actor, result),
        sites=permissions.payment_list_sites(actor),
        types=MEASURE_TYPES,
    )
    return (page, status_for(FormValidationError({}))) if errors or cancel else page


def _confirmable(actor: Actor, result: PaymentList | None) -> set[int]:
    """Entries whose requested cancellation the actor may confirm (four-eyes: not the one who asked)."""
    lines = result.lines if result else []
    return {
        line.entry_id
        for line in lines
        if line.cancel_pending and permissions.four_eyes_allows(actor, [line.cancel_requested_by or ""])
    }


@bp.post("/sammellisten/zahlung/<int:entry_id>/storno/<step>")
@login_required
def cancel_payment(entry_id: int, step: str) -> Any:
    """Ask for the cancellation of a payment (with a reason), confirm it (a second person) or discard it."""
    if step not in set(CancelStep):
        abort(404)
    actor = require_actor()
    reason = request.form.get("grund", "")
    try:
        shown = get_engine().cancel_payment(actor, entry_id, CancelStep(step), reason)
    except FormValidationError as exc:
        selection = {key: request.form.get(key, "") for key in ("standort", "art", "monat")}
        return _payment_list_page(actor, selection, (entry_id, reason, exc.field_errors.get("grund", [exc.message])))
    flash(CANCEL_DONE[CancelStep(step)], "success")
    return redirect(url_for(".payment_lists", standort=shown.site, art=shown.measure_type, monat=shown.month))


CANCEL_DONE = {
    CancelStep.REQUEST: "Stornierung beantragt. Eine zweite Person muss sie bestätigen.",
    CancelStep.CONFIRM: "Zahlung storniert. Sie bleibt als storniert auf der Liste und zählt nicht zur Summe.",
    CancelStep.DISCARD: "Stornierung verworfen. Die Zahlung bleibt auf der Liste.",
}


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
    engine = get_engine()
    result = engine.export(require_actor(), name, request.args.to_dict(), session_token())
    response = Response(engine.export_chunks(result), content_type=result.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{secure_filename(result.filename)}"'
    return response
