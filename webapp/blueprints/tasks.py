"""Work a task: show its form, submit it, claim it, give it back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from engine import clock
from engine.auth import Actor
from engine.errors import FormValidationError
from engine.read_models import TaskView

from ..errors import status_for
from ..extensions import get_engine
from ..security import login_required, require_actor, safe_next
from ..task_form import Submitted, build_fields, error_summary

bp = Blueprint("tasks", __name__, url_prefix="/aufgaben")

NOT_FORM_FIELDS = ("csrf_token", "lock_version", "aktion")


def _render(
    view: TaskView,
    actor: Actor,
    submitted: Submitted | None = None,
    errors: Mapping[str, Sequence[str]] | None = None,
    lock_version: int | None = None,
) -> str:
    errors = errors or {}
    if submitted is None and view.draft is not None:
        submitted = MultiDict([(key, value) for key, values in view.draft.items() for value in values])
    fields = build_fields(view.fields, view.data, clock.today_berlin(), submitted, errors)
    return render_template(
        "tasks/show.html",
        view=view,
        colleagues=get_engine().colleagues(actor, view.task_uuid),
        fields=fields,
        summary=error_summary(fields, errors),
        held_by_other=view.assignee not in (None, actor.username),
        actor=actor,
        lock_version=view.header.lock_version if lock_version is None else lock_version,
    )


def _lock_version() -> int:
    """The case version the form was rendered from; a form without one is not ours."""
    raw = request.form.get("lock_version", "")
    if not raw.isdigit():
        abort(400)
    return int(raw)


def _back_to(default: str) -> Any:
    """Redirect to the page the form came from (field ``zurueck``, this site only), else ``default``."""
    return redirect(safe_next(request.form.get("zurueck")) or default)


@bp.get("/<task_uuid>")
@login_required
def show(task_uuid: str) -> Any:
    """Show a task with its form (the view is audited)."""
    actor = require_actor()
    return _render(get_engine().task_view(actor, task_uuid), actor)


@bp.post("/<task_uuid>")
@login_required
def submit(task_uuid: str) -> Any:
    """Complete the task with the submitted form and offer the case's next task the user may work; on invalid
    input show the form again (422)."""
    actor = require_actor()
    engine = get_engine()
    expected = _lock_version()
    raw = {key: request.form.getlist(key) for key in request.form if key not in NOT_FORM_FIELDS}
    if request.form.get("aktion") == "speichern":
        engine.save_draft(actor, task_uuid, raw)
        flash("Entwurf gespeichert – die Aufgabe ist noch nicht abgeschlossen.", "success")
        return redirect(url_for("tasks.show", task_uuid=task_uuid))
    try:
        completion = engine.submit_form(actor, task_uuid, raw, expected)
    except FormValidationError as exc:
        # Keep the version the user's input is based on: a change in between must still end in a 409.
        view = engine.task_view(actor, task_uuid)
        return _render(view, actor, request.form, exc.field_errors, expected), status_for(exc)
    flash("Schritt abgeschlossen", "success")
    if completion.claimed_implicitly:
        flash("Die Aufgabe war noch nicht übernommen; mit dem Abschließen haben Sie sie übernommen.", "info")
    if any(task.may_work for task in completion.next_tasks):
        return redirect(url_for("tasks.next_steps", instance_id=completion.header.instance_id))
    return redirect(url_for("inbox.index"))


@bp.get("/weiter/<int:instance_id>")
@login_required
def next_steps(instance_id: int) -> Any:
    """After a step: offer the case's next tasks the user may work ("Weiter mit: …", claimed on click)."""
    actor = require_actor()
    offered = [t for t in get_engine().open_tasks(actor, instance_id) if t.assignee in (None, actor.username)]
    if not offered:
        return redirect(url_for("inbox.index"))
    return render_template("tasks/next.html", tasks=offered, instance_id=instance_id)


@bp.post("/<task_uuid>/uebernehmen")
@login_required
def claim(task_uuid: str) -> Any:
    """Take the task so that colleagues see who works on it."""
    get_engine().claim(require_actor(), task_uuid)
    flash("Aufgabe übernommen.", "success")
    return _back_to(url_for("tasks.show", task_uuid=task_uuid))


@bp.post("/<task_uuid>/weitergeben")
@login_required
def delegate(task_uuid: str) -> Any:
    """Hand the task to a named colleague, with a reason (audited)."""
    get_engine().delegate(require_actor(), task_uuid, request.form.get("an", ""), request.form.get("grund", "")[:500])
    flash("Aufgabe weitergegeben.", "success")
    return redirect(url_for("inbox.index"))


@bp.post("/<task_uuid>/freigeben")
@login_required
def unclaim(task_uuid: str) -> Any:
    """Give the task back to the group."""
    get_engine().unclaim(require_actor(), task_uuid)
    flash("Aufgabe freigegeben.", "success")
    return _back_to(url_for("tasks.show", task_uuid=task_uuid))
