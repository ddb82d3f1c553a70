"""The auditor's workbench (group AUDIT): purpose first, case search, case story, person views, system record.

Read-only pages; the engine checks the group and the purpose and records every view with it
(``engine.workbench``). A page with personal data before the purpose is stated redirects to the purpose form
(``webapp.errors``: ``PurposeRequiredError``).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from engine import case_text, clock, permissions
from engine.audit import Action
from engine.audit_events import EventQuery
from engine.audit_purpose import PURPOSES
from engine.audit_search import SORTS, CaseQuery
from engine.errors import FormValidationError
from engine.form_formats import parse_date_input
from engine.vocabulary import CASE_STATUSES, SITES

from ..extensions import get_engine
from ..security import login_required, require_actor, safe_next, session_token

bp = Blueprint("workbench", __name__, url_prefix="/revision")

ACTIONS = sorted(((action.value, action.label) for action in Action), key=lambda pair: pair[1])


@bp.before_request
@login_required
def _audit_only() -> Any:
    """Other groups get 403 for every page (the engine refuses and records it as well)."""
    if not permissions.may_use_workbench(require_actor()):
        get_engine().workbench.search_cases(require_actor(), None, CaseQuery())  # records the refusal, raises
        abort(403)
    return None


def _date(name: str, errors: dict[str, list[str]]) -> date | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    parsed = parse_date_input(text[:20])
    if parsed is None:
        errors[name] = ["Bitte ein Datum im Format TT.MM.JJJJ angeben."]
        return None
    return date.fromisoformat(parsed)


def _text(name: str, limit: int = 100) -> str:
    return " ".join(request.args.get(name, "").split())[:limit]


def _common(**context: Any) -> dict[str, Any]:
    actor = require_actor()
    return {"purpose": get_engine().workbench.purpose(actor, session_token()), "args": request.args, **context}


@bp.get("/")
def index() -> Any:
    """The first screen: the purpose form until a purpose is stated, then the case search."""
    if get_engine().workbench.purpose(require_actor(), session_token()) is None:
        return purpose()
    return cases()


@bp.route("/zweck", methods=["GET", "POST"])
def purpose() -> Any:
    """State (or change) the purpose and reference of this sitting."""
    next_url = safe_next(request.values.get("next"))
    form = {"zweck": request.form.get("zweck", ""), "aktenzeichen": request.form.get("aktenzeichen", "")}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        token = session_token() or ""
        try:
            get_engine().workbench.state_purpose(require_actor(), token, form["zweck"], form["aktenzeichen"])
        except FormValidationError as exc:
            errors = exc.field_errors
        else:
            flash("Der Zweck der Einsicht ist festgehalten; er wird mit jedem Zugriff gespeichert.", "success")
            return redirect(next_url or url_for("workbench.cases"))
    page = render_template("workbench/purpose.html", **_common(form=form, errors=errors, purposes=PURPOSES,
                                                                next_url=next_url))  # fmt: skip
    return page, 422 if errors else 200


@bp.get("/vorgaenge")
def cases() -> Any:
    """Case search across all sites, paged and sortable."""
    errors: dict[str, list[str]] = {}
    version = request.args.get("version", "").strip()
    query = CaseQuery(
        nummer=_text("nummer"), name=_text("name"), process_id=_text("prozess"),
        version=int(version) if version.isdigit() and len(version) < 6 else None,
        site=request.args.get("standort", "") if request.args.get("standort") in SITES else "",
        status=request.args.get("status", "") if request.args.get("status") in CASE_STATUSES else "",
        von=_date("von", errors), bis=_date("bis", errors), person=_text("person", 64), action=_text("aktion", 40),
        sort=request.args.get("sortierung", "geaendert"), cursor=request.args.get("nach", ""),
    )  # fmt: skip
    if query.name and not case_text.term(query.name):
        errors["name"] = [f"Bitte mindestens {case_text.MIN_TERM} Zeichen des Namens angeben."]
    if query.nummer and not query.nummer.isdigit() and not case_text.key_term(query.nummer):
        errors["nummer"] = [f"Bitte die Vorgangsnummer oder mindestens {case_text.MIN_TERM} Zeichen angeben."]
    engine = get_engine()
    page = engine.workbench.search_cases(require_actor(), session_token(), query)
    return render_template("workbench/cases.html", **_common(
        page=page, errors=errors, processes=engine.workbench.processes(require_actor()), sites=SITES,
        statuses=CASE_STATUSES, sorts=SORTS, actions=ACTIONS))  # fmt: skip


@bp.get("/vorgaenge/<int:instance_id>")
def story(instance_id: int) -> Any:
    """The story of one case: timeline, diagram with time per step, chain check."""
    found = get_engine().workbench.story(require_actor(), session_token(), instance_id)
    return render_template("workbench/story.html", **_common(story=found, now=clock.now()))


def _events_query(errors: dict[str, list[str]], default_days: int | None = None) -> EventQuery:
    von = _date("von", errors)
    if von is None and default_days is not None and "von" not in request.args:
        von = clock.today_berlin() - timedelta(days=default_days)
    return EventQuery(person=_text("person", 64), action=_text("aktion", 40), von=von, bis=_date("bis", errors),
                      cursor=request.args.get("nach", ""))  # fmt: skip


@bp.get("/taetigkeit")
def activity() -> Any:
    """Everything one user did in a period (activity record)."""
    errors: dict[str, list[str]] = {}
    query = _events_query(errors)
    page = get_engine().workbench.activity(require_actor(), session_token(), query)
    return render_template("workbench/events.html", **_common(
        page=page, errors=errors, actions=ACTIONS, kind="taetigkeit", title="Tätigkeit einer Person"))  # fmt: skip


@bp.get("/antragsteller")
def applicant() -> Any:
    """Every access to an applicant's cases: who viewed or changed what, when (Art. 15 DSGVO)."""
    errors: dict[str, list[str]] = {}
    query = _events_query(errors)
    name = _text("name")
    answer = get_engine().workbench.applicant(require_actor(), session_token(), name, query)
    return render_template("workbench/events.html", **_common(
        page=answer.events, answer=answer, errors=errors, actions=ACTIONS, kind="antragsteller",
        title="Zugriffe auf die Vorgänge einer Person (Art. 15 DSGVO)"))  # fmt: skip


@bp.get("/system")
def system() -> Any:
    """The system record: events without a case (logins, users and grants, deploys, exports, checks)."""
    errors: dict[str, list[str]] = {}
    query = _events_query(errors)
    page = get_engine().workbench.system_record(require_actor(), session_token(), query)
    return render_template("workbench/events.html", **_common(
        page=page, errors=errors, actions=ACTIONS, kind="system", title="Systemprotokoll"))  # fmt: skip
