"""The task inbox: open tasks of the user's groups at the user's sites."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from engine import clock

from ..extensions import get_engine
from ..security import login_required, require_actor

bp = Blueprint("inbox", __name__)


@bp.get("/")
@login_required
def index() -> Any:
    """Show the inbox."""
    actor = require_actor()
    engine = get_engine()
    tasks = engine.inbox(actor)
    can_start = bool(engine.startable_processes(actor))
    return render_template("inbox/index.html", tasks=tasks, can_start=can_start, now=clock.now())
