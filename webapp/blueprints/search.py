"""The case search: find a case by its number or the applicant's name, within one's permissions."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request

from engine import permissions
from engine.case_search import MAX_HITS, MAX_TERM, MIN_TERM, normalised

from ..extensions import get_engine
from ..security import login_required, require_actor

bp = Blueprint("search", __name__, url_prefix="/vorgaenge")


@bp.get("/suche")
@login_required
def index() -> Any:
    """Search form and hits (read-only list; opening a hit is the audited case page)."""
    actor = require_actor()
    if not permissions.may_search_cases(actor):
        abort(403)
    term = normalised(request.args.get("q"))
    hits = get_engine().search_cases(actor, term) if term else []
    return render_template(
        "cases/search.html",
        term=request.args.get("q", "")[:MAX_TERM],
        searched=bool(term),
        too_short=bool(term) and len(term) < MIN_TERM,
        hits=hits,
        max_hits=MAX_HITS,
        max_term=MAX_TERM,
        min_term=MIN_TERM,
    )
