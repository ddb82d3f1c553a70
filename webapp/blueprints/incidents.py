"""Störungen: cases whose step, timer or message failed, for process owners and site leads."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from engine import permissions
from engine.errors import NotFoundError, RuleViolationError

from ..extensions import get_engine
from ..security import login_required, require_actor

bp = Blueprint("incidents", __name__, url_prefix="/stoerungen")


@bp.get("")
@login_required
def index() -> Any:
    """The open incidents at the sites the user handles."""
    actor = require_actor()
    if not permissions.incident_sites(actor):
        abort(403, "Störungen sehen Prozessverantwortliche und die Leitungen der Standorte.")
    return render_template("incidents/index.html", incidents=get_engine().incidents(actor))


@bp.post("/<int:incident_id>/erneut")
@login_required
def retry(incident_id: int) -> Any:
    done = "Der Vorgang läuft wieder; der Timer-Worker führt den Schritt beim nächsten Lauf erneut aus."
    return _act(lambda: get_engine().retry_incident(require_actor(), incident_id), done)


@bp.post("/<int:incident_id>/behoben")
@login_required
def mark_fixed(incident_id: int) -> Any:
    return _act(lambda: get_engine().mark_incident_fixed(require_actor(), incident_id), "Als behoben markiert.")


@bp.post("/<int:incident_id>/abbrechen")
@login_required
def cancel(incident_id: int) -> Any:
    reason = request.form.get("grund", "")
    return _act(
        lambda: get_engine().cancel_case(require_actor(), incident_id, reason), "Der Vorgang wurde abgebrochen."
    )


def _act(action: Any, done: str) -> Any:
    """Run the action; a refusal the user can fix (no reason, already handled) is shown on the page."""
    try:
        action()
    except (RuleViolationError, NotFoundError) as exc:
        flash(exc.message, "error")
    else:
        flash(done, "success")
    return redirect(url_for("incidents.index"))
