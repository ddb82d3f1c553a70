"""Start a case and show a case with its data and history."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from engine import permissions
from engine.case_search import CaseHit
from engine.versions import ProcessInfo
from engine.vocabulary import BUSINESS_KEY_MAX

from ..extensions import get_engine
from ..security import login_required, require_actor
from .steering import render_case

bp = Blueprint("cases", __name__, url_prefix="/vorgaenge")


def start_sites(process: ProcessInfo) -> list[str]:
    """Sites where the actor may start ``process`` (a start lane there, and the process offered there)."""
    return list(process.sites)


def check_start(
    processes: dict[str, ProcessInfo], process_id: str, site: str, business_key: str
) -> dict[str, list[str]]:
    """The start form's rules (also the REST API's): a process the actor may start, a site where they may, a
    printable Geschäftszeichen of at most ``BUSINESS_KEY_MAX`` characters; field name → German messages."""
    errors: dict[str, list[str]] = {}
    process = processes.get(process_id)
    if process is None:
        errors["prozess"] = ["Bitte einen Prozess wählen."]
    elif site not in start_sites(process):
        errors["standort"] = ["Bitte einen Standort wählen, an dem Sie diesen Prozess starten dürfen."]
    if len(business_key) > BUSINESS_KEY_MAX:
        errors["geschaeftszeichen"] = [f"Höchstens {BUSINESS_KEY_MAX} Zeichen."]
    elif any(not ch.isprintable() for ch in business_key):
        errors["geschaeftszeichen"] = ["Bitte nur druckbare Zeichen verwenden."]
    return errors


@bp.route("/neu", methods=["GET", "POST"])
@login_required
def new() -> Any:
    """Choose a process and site and start a case; continue with its first task."""
    actor = require_actor()
    engine = get_engine()
    processes = {p.process_id: p for p in engine.startable_processes(actor)}
    sites = sorted({site for p in processes.values() for site in start_sites(p)})
    default_process = next(iter(processes)) if len(processes) == 1 else ""
    form = {
        "prozess": request.form.get("prozess", request.args.get("prozess", default_process)),
        "standort": request.form.get("standort", sites[0] if len(sites) == 1 else ""),
        "geschaeftszeichen": request.form.get("geschaeftszeichen", "").strip(),
    }
    errors: dict[str, list[str]] = {}
    same_key: list[CaseHit] = []
    if request.method == "POST":
        errors = check_start(processes, form["prozess"], form["standort"], form["geschaeftszeichen"])
        if not errors and form["geschaeftszeichen"] and request.form.get("bestaetigt") != form["geschaeftszeichen"]:
            same_key = engine.cases_with_key(actor, form["geschaeftszeichen"])  # shown before a second one starts
        if not errors and not same_key:
            header = engine.start_case(
                actor, form["prozess"], site=form["standort"], business_key=form["geschaeftszeichen"] or None
            )
            flash(f"Vorgang {header.business_key} gestartet.", "success")
            first = next(iter(engine.open_tasks(actor, header.instance_id)), None)
            if first is not None:
                return redirect(url_for("tasks.show", task_uuid=first.task_uuid))
            return redirect(url_for("cases.show", instance_id=header.instance_id))
    page = render_template(
        "cases/new.html",
        processes=list(processes.values()),
        sites=sites,
        form=form,
        errors=errors,
        same_key=same_key,
        business_key_max=BUSINESS_KEY_MAX,
    )
    return page, 422 if errors else 200


@bp.get("/<int:instance_id>")
@login_required
def show(instance_id: int) -> Any:
    """Show a case: header, open tasks, data so far and history (the view is audited). The audit function
    reads cases on its workbench, where the purpose of the sitting comes first and is recorded."""
    actor = require_actor()
    if permissions.starts_on_workbench(actor):
        return redirect(url_for("workbench.story", instance_id=instance_id))
    return render_case(actor, instance_id)
