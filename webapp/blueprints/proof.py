"""Prüfung des Audit-Trails for the audit function: verify the chains (all, one site, one case) in the browser,
with the first broken event of each chain named, and the Löschsperren (legal holds) on cases and persons."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from engine import permissions
from engine.audit_verify import Scope
from engine.errors import FormValidationError, NotFoundError
from engine.vocabulary import SITES

from ..extensions import get_engine
from ..security import login_required, require_actor

bp = Blueprint("proof", __name__, url_prefix="/pruefung")
SCOPES = ("gesamt", "standort", "vorgang")


def chain_label(chain: str) -> str:
    """A chain as people read it."""
    kind, _, rest = chain.partition(":")
    if kind == "case":
        return f"Vorgang {rest}"
    if kind == "anker":
        return f"Ankerdatei {rest}"
    if kind == "schluessel":
        return f"Schlüssel {rest}"
    labels = {"global": "Globale Kette (ohne Vorgang)", "schutz": "Schutz der Tabelle",
              "verankerung": "Verankerung (Anker außerhalb der Datenbank)"}  # fmt: skip
    return labels.get(chain, chain)


def _scope(args: Any) -> tuple[Scope | None, str]:
    """The scope asked for; None without a request. :raises 400: on values that cannot be."""
    kind = args.get("umfang", "")
    if not kind:
        return None, ""
    if kind not in SCOPES:
        abort(400, "Unbekannter Prüfumfang.")
    if kind == "standort":
        site = args.get("standort", "")
        if site not in SITES:
            abort(400, "Bitte einen Standort aus der Liste wählen.")
        return Scope(site=site), f"Standort {site}"
    if kind == "vorgang":
        number = args.get("vorgang", "").strip()
        if not number.isdigit() or len(number) > 12:
            abort(400, "Die Vorgangsnummer besteht aus Ziffern.")
        return Scope(instance_id=int(number)), f"Vorgang {int(number)}"
    return Scope(), "gesamter Audit-Trail"


@bp.get("")
@login_required
def index() -> Any:
    """The verification form, its result (the check is audited) and the legal holds."""
    actor = require_actor()
    if not permissions.may_read_audit_trail(actor):
        abort(403, "Den Audit-Trail prüft nur die Revision.")
    scope, scope_label = _scope(request.args)
    engine = get_engine()
    problems = engine.verify_audit(actor, scope) if scope is not None else None
    return render_template(
        "proof/index.html",
        problems=problems,
        scope_label=scope_label,
        args=request.args,
        sites=SITES,
        holds=engine.legal_holds(actor),
        latest_anchor=engine.latest_anchor(actor),
        chain_label=chain_label,
    )


@bp.post("/sperren")
@login_required
def set_hold() -> Any:
    actor = require_actor()
    target = request.form.get("ziel", "")
    number = request.form.get("vorgang", "").strip()
    try:
        if target == "vorgang":
            if not number.isdigit() or len(number) > 12:
                raise FormValidationError({"vorgang": ["Die Vorgangsnummer besteht aus Ziffern."]})
            get_engine().set_legal_hold(actor, request.form.get("grund", ""), instance_id=int(number))
        else:
            get_engine().set_legal_hold(actor, request.form.get("grund", ""), person=request.form.get("person", ""))
    except (FormValidationError, NotFoundError) as exc:
        _flash_refusal(exc)
    else:
        flash("Die Löschsperre ist gesetzt.", "success")
    return redirect(url_for("proof.index") + "#sperren")


@bp.post("/sperren/<int:hold_id>/aufheben")
@login_required
def lift_hold(hold_id: int) -> Any:
    try:
        get_engine().lift_legal_hold(require_actor(), hold_id, request.form.get("aufhebungsgrund", ""))
    except (FormValidationError, NotFoundError) as exc:
        _flash_refusal(exc)
    else:
        flash("Die Löschsperre ist aufgehoben.", "success")
    return redirect(url_for("proof.index") + "#sperren")


def _flash_refusal(exc: FormValidationError | NotFoundError) -> None:
    if isinstance(exc, FormValidationError):
        for messages in exc.field_errors.values():
            for message in messages:
                flash(message, "error")
    else:
        flash(exc.message, "error")
