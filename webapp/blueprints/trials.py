"""Probelauf: process owners start a trial case of a draft, work its tasks as any lane and throw it away.

Trial cases live apart from real cases (``engine.trials``); these pages are their only view."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from engine import clock
from engine.errors import FormValidationError, ModelError
from engine.trials import TrialTaskView
from engine.vocabulary import SITES

from ..errors import status_for
from ..extensions import get_engine
from ..security import login_required, require_actor
from ..task_form import Submitted, build_fields, error_summary

bp = Blueprint("trials", __name__, url_prefix="/modelle")

NOT_FORM_FIELDS = ("csrf_token", "lock_version")


@bp.post("/entwuerfe/<int:draft_id>/probelauf")
@login_required
def start(draft_id: int) -> Any:
    """Start a trial of the saved draft; a draft that cannot run goes back to the modeller with its problems."""
    site = request.form.get("standort", "")
    if site not in SITES:
        abort(400)
    try:
        trial = get_engine().start_trial(require_actor(), draft_id, site)
    except ModelError as exc:
        problems = getattr(exc, "problems", None) or [exc]
        flash("Der Probelauf wurde nicht gestartet, weil der Entwurf so nicht laufen kann:", "error")
        for problem in problems[:20]:
            flash(problem.message, "error")
        return redirect(url_for("models.modeller", draft_id=draft_id))
    flash(
        f"Probelauf {trial.id} gestartet. Er erscheint in keiner Aufgabenliste, Auswertung oder Statistik.", "success"
    )
    return redirect(url_for("trials.show", trial_id=trial.id))


@bp.get("/probelaeufe/<int:trial_id>")
@login_required
def show(trial_id: int) -> Any:
    """A trial: its open tasks (any lane may work them), the data so far and what happened."""
    return render_template("models/trial.html", trial=get_engine().trial(require_actor(), trial_id))


def _render(view: TrialTaskView, submitted: Submitted | None = None,
            errors: dict[str, list[str]] | None = None) -> str:  # fmt: skip
    fields = build_fields(view.fields, view.trial.data, clock.today_berlin(), submitted, errors)
    return render_template("models/trial_task.html", view=view, fields=fields,
                           summary=error_summary(fields, errors or {}))  # fmt: skip


@bp.get("/probelaeufe/<int:trial_id>/aufgaben/<task_uuid>")
@login_required
def task(trial_id: int, task_uuid: str) -> Any:
    """An open task of a trial with the form the task page would show."""
    return _render(get_engine().trial_task(require_actor(), trial_id, task_uuid))


@bp.post("/probelaeufe/<int:trial_id>/aufgaben/<task_uuid>")
@login_required
def complete(trial_id: int, task_uuid: str) -> Any:
    """Complete a task of the trial; invalid input shows the form again (422), a stale page is a 409."""
    actor, engine = require_actor(), get_engine()
    raw_version = request.form.get("lock_version", "")
    if not raw_version.isdigit():
        abort(400)
    raw = {key: request.form.getlist(key) for key in request.form if key not in NOT_FORM_FIELDS}
    try:
        engine.submit_trial_form(actor, trial_id, task_uuid, raw, int(raw_version))
    except FormValidationError as exc:
        view = engine.trial_task(actor, trial_id, task_uuid)
        return _render(view, request.form, {k: list(v) for k, v in exc.field_errors.items()}), status_for(exc)
    flash("Schritt im Probelauf erledigt.", "success")
    return redirect(url_for("trials.show", trial_id=trial_id))


@bp.post("/probelaeufe/<int:trial_id>/verwerfen")
@login_required
def discard(trial_id: int) -> Any:
    """Throw the trial away and go back to its draft."""
    actor, engine = require_actor(), get_engine()
    draft_id = engine.trial(actor, trial_id).draft_id
    engine.discard_trial(actor, trial_id)
    flash("Der Probelauf wurde verworfen.", "info")
    return redirect(url_for("models.modeller", draft_id=draft_id))
