"""Leads steer a case from its page: give a task to someone else or back to the group (with a reason),
set priority and due date for the case; clerks acknowledge a notice that a task was taken from them.

Refused input is shown on the case page itself, at the field it concerns; a due date in the past is set
only after the lead confirmed it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from engine import clock
from engine.auth import Actor
from engine.errors import FormValidationError, RuleViolationError
from engine.form_formats import parse_date_input

from ..extensions import get_engine
from ..security import login_required, require_actor, safe_next

bp = Blueprint("steering", __name__)

_GERMAN_DATE = re.compile(r"\d{1,2}\.\d{1,2}\.\d{4}")
FIELD_NAMES = {"an": "Zuweisen an", "grund": "Grund", "prioritaet": "Priorität", "faellig_am": "Fällig am"}


@dataclass(frozen=True)
class Refused:
    """What a lead sent for one task of the case page, and what was wrong with it."""

    task_uuid: str
    errors: dict[str, list[str]] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    confirm_due: str | None = None  # a due date in the past, waiting for confirmation


def render_case(actor: Actor, instance_id: int, refused: Refused | None = None) -> str:
    """The case page, with the lead's choices of people per task and what was refused (if anything)."""
    engine = get_engine()
    view = engine.case_view(actor, instance_id)
    people = {task.task_uuid: engine.colleagues(actor, task.task_uuid) for task in view.open_tasks if task.may_lead}
    return render_template(
        "cases/show.html", view=view, actor=actor, now=clock.now(), people=people, refused=refused,
        field_names=FIELD_NAMES,
    )  # fmt: skip


def _refused(task_uuid: str, refused: Refused) -> Any:
    instance_id = get_engine().case_of_task(task_uuid)
    if instance_id is None:
        abort(404)
    status = 422 if refused.errors else 200
    return render_case(require_actor(), instance_id, refused), status


def _back(task_uuid: str) -> Any:
    instance_id = get_engine().case_of_task(task_uuid)
    default = url_for("cases.show", instance_id=instance_id) if instance_id else url_for("inbox.index")
    return redirect(safe_next(request.form.get("zurueck")) or default)


def _values() -> dict[str, str]:
    return {key: request.form.get(key, "")[:500] for key in FIELD_NAMES}


@bp.post("/aufgaben/<task_uuid>/zuweisen")
@login_required
def reassign(task_uuid: str) -> Any:
    """TL/FDL: give the task to a colleague (``an``) or back to the group (``an`` empty), with a reason."""
    to_username = request.form.get("an", "").strip() or None
    try:
        get_engine().reassign(require_actor(), task_uuid, to_username, request.form.get("grund", "")[:500])
    except FormValidationError as exc:
        return _refused(task_uuid, Refused(task_uuid, exc.field_errors, _values()))
    except RuleViolationError as exc:
        return _refused(task_uuid, Refused(task_uuid, {"an": [exc.message]}, _values()))
    flash(f"Aufgabe an {to_username} übergeben." if to_username else "Aufgabe an die Gruppe zurückgegeben.", "success")
    return _back(task_uuid)


@bp.post("/aufgaben/<task_uuid>/prioritaet")
@login_required
def set_priority(task_uuid: str) -> Any:
    """TL/FDL: set the priority of the task's case (its open and following tasks)."""
    value = request.form.get("prioritaet", "")
    try:
        get_engine().set_priority(require_actor(), task_uuid, int(value) if value.isdigit() else -1)
    except FormValidationError as exc:
        return _refused(task_uuid, Refused(task_uuid, exc.field_errors, _values()))
    flash("Priorität für den Vorgang gesetzt.", "success")
    return _back(task_uuid)


@bp.post("/aufgaben/<task_uuid>/faelligkeit")
@login_required
def set_due(task_uuid: str) -> Any:
    """TL/FDL: set or clear the due date of the task's case (TT.MM.JJJJ, due at the end of that day); a day
    in the past only with ``bestaetigt``."""
    text = request.form.get("faellig_am", "").strip()
    due = None
    if text:
        iso = parse_date_input(text)
        if iso is None:
            message = (
                f"Den {text} gibt es nicht. Bitte ein gültiges Datum eingeben."
                if _GERMAN_DATE.fullmatch(text)
                else "Bitte ein Datum im Format TT.MM.JJJJ eingeben, z. B. 15.12.2026."
            )
            return _refused(task_uuid, Refused(task_uuid, {"faellig_am": [message]}, _values()))
        if iso < clock.today_berlin().isoformat() and not request.form.get("bestaetigt"):
            return _refused(task_uuid, Refused(task_uuid, values=_values(), confirm_due=text))
        due = clock.parse_iso(iso + "T23:59:00")
    get_engine().set_due(require_actor(), task_uuid, due)
    flash("Fälligkeit für den Vorgang gesetzt." if due else "Fälligkeit entfernt.", "success")
    return _back(task_uuid)


@bp.post("/hinweise/<int:notice_id>/gelesen")
@login_required
def acknowledge(notice_id: int) -> Any:
    """Mark a notice ("Aufgabe entzogen") as read."""
    get_engine().acknowledge_notice(require_actor(), notice_id)
    return redirect(url_for("inbox.index"))
