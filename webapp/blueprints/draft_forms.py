"""The form editor of a draft (JSON endpoints of the modeller page): read a task form, preview a changed one with
the task page's own field macros, store it in the draft. The engine checks permissions, rules and audits."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, render_template, request

from engine import clock

from ..extensions import get_engine
from ..security import login_required, require_actor
from ..task_form import build_fields

bp = Blueprint("draft_forms", __name__, url_prefix="/modelle")


@bp.get("/entwuerfe/<int:draft_id>/formulare/<name>")
@login_required
def read(draft_id: int, name: str) -> Any:
    """``{schema}`` of a task form as the draft would deploy it."""
    return jsonify({"schema": get_engine().draft_form(require_actor(), draft_id, name)})


@bp.post("/formularvorschau")
@login_required
def preview() -> Any:
    """JSON ``{schema}`` → the form's inputs as the task page renders them (HTML); 422 with the German reason."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "schema" not in body:
        abort(400)
    fields = get_engine().preview_form(require_actor(), body["schema"])
    return render_template("models/_form_preview.html", fields=build_fields(fields, {}, clock.today_berlin()),
                           title=str(body["schema"].get("title", "")))  # fmt: skip


@bp.post("/entwuerfe/<int:draft_id>/formulare/<name>")
@login_required
def store(draft_id: int, name: str) -> Any:
    """JSON ``{schema, lock_version}`` → ``{lock_version}``; 409 if the draft was saved since, 422 if the form breaks
    a rule."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("lock_version"), int) or "schema" not in body:
        abort(400)
    draft = get_engine().save_draft_form(require_actor(), draft_id, body["lock_version"], name, body["schema"])
    return jsonify({"lock_version": draft.lock_version, "formulare": list(draft.form_names)})
