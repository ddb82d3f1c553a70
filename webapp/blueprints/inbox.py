"""The task inbox: tabs, filters, search, sorting and paging kept in the URL, refreshed live by htmx."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Blueprint, render_template, request

from engine import clock
from engine.inbox import TABS, InboxQuery

from ..extensions import get_engine
from ..security import login_required, require_actor

bp = Blueprint("inbox", __name__)

TAB_TITLES = {
    "meine": "Meine Aufgaben",
    "gruppe": "Gruppenaufgaben",
    "ueberfaellig": "Überfällig",
    "alle": "Alle (Leitung)",
}
DUE_TITLES = {"heute": "heute fällig", "woche": "diese Woche fällig", "ueberfaellig": "überfällig"}
SORT_TITLES = {"faellig": "Fälligkeit", "prioritaet": "Priorität", "erstellt": "Eingang (älteste zuerst)"}
PARAMS = ("tab", "prozess", "aufgabe", "standort", "faellig", "bearbeiter", "suche", "sortierung")


def _query() -> InboxQuery:
    args = request.args
    tab = args.get("tab", "gruppe")
    due = args.get("faellig") or None
    sort = args.get("sortierung", "faellig")
    return InboxQuery(
        tab=tab if tab in TABS else "gruppe",  # type: ignore[arg-type]
        process_id=args.get("prozess") or None,
        task=args.get("aufgabe") or None,
        site=args.get("standort") or None,
        due=due if due in DUE_TITLES else None,  # type: ignore[arg-type]
        assignee=args.get("bearbeiter") or None,
        search=(args.get("suche") or "").strip()[:100] or None,
        sort=sort if sort in SORT_TITLES else "faellig",  # type: ignore[arg-type]
        after=args.get("nach") or None,
    )


@bp.get("/")
@login_required
def index() -> Any:
    """Show a tab of the inbox (only the list when htmx refreshes it)."""
    actor = require_actor()
    engine = get_engine()
    query = _query()
    page = engine.inbox_page(actor, query)
    if "tab" not in request.args and not page.counts.get("gruppe") and page.counts.get("alle"):
        page = engine.inbox_page(actor, replace(query, tab="alle"))  # a lead's first screen: the team's work
    current = {name: request.args.get(name, "") for name in PARAMS}
    current["tab"] = page.query.tab
    context = {
        "page": page,
        "current": current,
        "now": clock.now(),
        "tab_titles": TAB_TITLES,
        "due_titles": DUE_TITLES,
        "sort_titles": SORT_TITLES,
        "processes": engine.process_names(),
        "choices": engine.inbox_choices(actor),
        "sites": sorted(actor.sites - {"*"}) or None,
        "can_start": bool(engine.startable_processes(actor)),
        "actor": actor,
    }
    if request.headers.get("HX-Request"):
        return render_template("inbox/_list.html", **context)
    return render_template("inbox/index.html", notices=engine.open_notices(actor), **context)
