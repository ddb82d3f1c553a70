"""The audit function's process view (heat map over filtered cases) with the exports of the same filter.

Only AUDIT reaches it (``permissions.may_export_cases``, checked by the engine); every view is recorded
with its filter, every download too (``/export/audit-csv``, ``/export/audit-xes``, streamed).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from engine.errors import FormValidationError
from engine.vocabulary import CASE_STATUSES, SITES

from ..errors import status_for
from ..extensions import get_engine
from ..security import login_required, require_actor

bp = Blueprint("audit_process", __name__, url_prefix="/revision")

FILTER_KEYS = ("prozess", "version", "standort", "status", "von", "bis")
LEVELS = 5


@bp.get("/prozessansicht")
@login_required
def process_view() -> Any:
    """The heat map of one process over the cases of the filter, the slowest steps, and the export links."""
    actor = require_actor()
    selection = {key: request.args.get(key, "").strip()[:100] for key in FILTER_KEYS}
    engine = get_engine()
    choices = engine.exportable_processes(actor)
    if not selection["prozess"] and choices:
        selection["prozess"] = choices[0][0]
    try:
        view = engine.process_view(actor, selection)
    except FormValidationError as exc:
        page = render_template("audit/process_view.html", view=None, selection=selection, errors=exc.field_errors,
                               choices=choices, sites=SITES, statuses=CASE_STATUSES, heat={}, filters={})  # fmt: skip
        return page, status_for(exc)
    filters = {key: value for key, value in selection.items() if value}
    return render_template("audit/process_view.html", view=view, selection=selection, errors={}, choices=choices,
                           sites=SITES, statuses=CASE_STATUSES, heat=heat_levels(view), filters=filters)  # fmt: skip


def heat_levels(view: Any) -> dict[str, dict[str, int]]:
    """BPMN id → runs and a level 0…4 (share of the most frequent task) for the diagram's colours."""
    most = max((step.runs for step in view.steps), default=0)
    return {step.element_id: {"runs": step.runs, "level": level(step.runs, most)} for step in view.steps}


def level(runs: int, most: int) -> int:
    """0 for a step that never ran, else 1…4 by its share of the most frequent step."""
    return max(1, min(LEVELS - 1, runs * LEVELS // most)) if runs else 0
