"""The bell: the list of one's notifications (newest first, paged), marking them read, the e-mail choice."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from engine.errors import FormValidationError
from engine.notice_mail import MODES

from ..extensions import get_engine
from ..security import login_required, require_actor

bp = Blueprint("notifications", __name__, url_prefix="/benachrichtigungen")


@bp.get("")
@login_required
def index() -> Any:
    """The actor's notifications, newest first; each linked where the link will not be refused."""
    actor = require_actor()
    after = request.args.get("nach") or None
    page = get_engine().notifications.page(actor, after)
    return render_template("notifications/index.html", page=page, after=after)


@bp.post("/<key>/gelesen")
@login_required
def mark_read(key: str) -> Any:
    get_engine().notifications.mark_read(require_actor(), key[:20])
    return redirect(url_for("notifications.index", nach=request.form.get("nach") or None))


@bp.post("/alle-gelesen")
@login_required
def mark_all_read() -> Any:
    get_engine().notifications.mark_all_read(require_actor())
    flash("Alle Benachrichtigungen sind als gelesen markiert.", "success")
    return redirect(url_for("notifications.index"))


@bp.post("/email")
@login_required
def mail_choice() -> Any:
    """The e-mail choice from the page *Mein Konto*."""
    actor = require_actor()
    mode = request.form.get("mail_modus", "")
    email = request.form.get("mail_adresse", "")[:254]
    try:
        get_engine().notifications.set_mail_choice(actor, mode, email)
    except FormValidationError as exc:
        from .auth import account_page

        return account_page(exc.field_errors, 422, mail_values={"mail_modus": mode, "mail_adresse": email})
    flash(f"E-Mail-Benachrichtigungen: {MODES[mode]}.", "success")
    return redirect(url_for("auth.account") + "#benachrichtigungen-titel")
