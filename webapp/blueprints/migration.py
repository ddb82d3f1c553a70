"""Process owners move running cases to another version of a process: choose the versions, see the dry run
(with a select per open task that needs a mapping), tick cases, move them, read the report. The engine checks
permissions, runs the cases in its jails and audits every check and every move."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from werkzeug.datastructures import MultiDict

from ..extensions import get_engine
from ..security import login_required, require_actor

bp = Blueprint("migration", __name__, url_prefix="/modelle/<process_id>/umzug")

MAPPING_PREFIX = "zuordnung-"
MAX_FIELD = 200


@bp.get("")
@login_required
def choose(process_id: str) -> Any:
    """Choose source and target version (the target defaults to the live one)."""
    entry = get_engine().migration_process(require_actor(), process_id)
    sources = [version for version in entry.older if version.open_cases]
    return render_template("migration/choose.html", entry=entry, sources=sources)


@bp.route("/probelauf", methods=["GET", "POST"])
@login_required
def dry_run(process_id: str) -> Any:
    """The dry run: per case "kann umziehen", "braucht eine Zuordnung" or "kann nicht umziehen" (a POST checks
    the mappings chosen so far again)."""
    values = request.form if request.method == "POST" else request.args
    source, target = _version(values, "von"), _version(values, "nach")
    mappings = _mappings(values) if request.method == "POST" else {}
    plan = get_engine().migration_dry_run(require_actor(), process_id, source, target, mappings)
    return render_template("migration/dry_run.html", plan=plan, mappings=mappings)


@bp.post("/umziehen")
@login_required
def migrate(process_id: str) -> Any:
    """Move the ticked cases (each in its own transaction) and show what happened to each."""
    source, target = _version(request.form, "von"), _version(request.form, "nach")
    mappings = _mappings(request.form)
    selected = []
    for raw in request.form.getlist("fall")[:1000]:
        instance_id = _number(raw)
        selected.append(
            (instance_id, _number(request.form.get(f"stand-{instance_id}", "")), mappings.get(instance_id, {}))
        )
    outcomes = get_engine().migrate_cases(require_actor(), target, selected) if selected else []
    return render_template("migration/result.html", process_id=process_id, source=source, target=target,
                           outcomes=outcomes)  # fmt: skip


def _number(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 12:
        abort(400)
    return int(raw)


def _version(values: MultiDict[str, str], name: str) -> int:
    return _number(values.get(name, ""))


def _mappings(values: MultiDict[str, str]) -> dict[int, dict[str, str]]:
    """``zuordnung-<case>-<old task id>`` = new task id (empty: not chosen yet)."""
    found: dict[int, dict[str, str]] = {}
    for key, value in values.items(multi=False):
        if not key.startswith(MAPPING_PREFIX) or not value:
            continue
        case, _, task = key[len(MAPPING_PREFIX) :].partition("-")
        if not task or len(task) > MAX_FIELD or len(value) > MAX_FIELD:
            abort(400)
        found.setdefault(_number(case), {})[task] = value
    return found
