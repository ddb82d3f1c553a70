"""Releasing deploys as a second process owner ([modelle] freigabe_durch_zweite_person): release or reject with a
reason, from the list on "Modelle"."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for

from ..extensions import get_engine
from ..security import login_required, require_actor

bp = Blueprint("model_releases", __name__, url_prefix="/modelle/freigaben")


def _expected() -> int:
    try:
        return int(request.form.get("lock_version", ""))
    except ValueError:
        abort(400)


@bp.post("/<int:release_id>/freigeben")
@login_required
def release(release_id: int) -> Any:
    """Deploy the draft as it was asked for (409 if it changed since)."""
    result = get_engine().release_model(require_actor(), release_id, _expected())
    if result.created:
        flash(f"{result.name}: Version {result.version} ist freigegeben und jetzt live.", "success")
    else:
        flash(f"Der Entwurf entspricht der Version {result.version}; es wurde keine neue Version erstellt.", "info")
    return redirect(url_for("models.index"))


@bp.post("/<int:release_id>/ablehnen")
@login_required
def reject(release_id: int) -> Any:
    """Reject with a reason; the author sees it on "Modelle"."""
    get_engine().reject_model_release(require_actor(), release_id, _expected(), request.form.get("grund", ""))
    flash("Die Freigabe wurde abgelehnt. Der Entwurf bleibt erhalten.", "info")
    return redirect(url_for("models.index"))
