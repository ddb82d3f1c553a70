"""Uploading BPMN files on "Modelle": a runnable file of a deployed process becomes a draft, any other file a
documentation model (view only, with the reasons why it cannot run), which can be viewed and deleted."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from engine.errors import ModelError

from ..extensions import get_engine
from ..security import login_required, require_actor
from .models import index_page

bp = Blueprint("model_uploads", __name__, url_prefix="/modelle")


@bp.post("/hochladen")
@login_required
def upload() -> Any:
    """Analyse an uploaded .bpmn file; on a hostile or unreadable file show "Modelle" again with the reason."""
    actor = require_actor()
    engine = get_engine()
    sent = request.files.get("datei")
    if sent is None or not sent.filename:
        return _index_with_error("Bitte wählen Sie eine .bpmn-Datei aus.")
    content = sent.read(engine.settings.max_model_bytes + 1)
    try:
        outcome = engine.upload_model(actor, sent.filename, content)
    except ModelError as exc:
        return _index_with_error(f"Die Datei wurde nicht übernommen. {exc.message}")
    if outcome.draft_id is not None:
        flash("Die Datei enthält einen Prozess der Plattform und kann laufen: Sie ist jetzt ein Entwurf.", "success")
        return redirect(url_for("models.modeller", draft_id=outcome.draft_id))
    flash("Die Datei kann hier so nicht laufen. Sie ist als Dokumentation gespeichert (nur zum Ansehen).", "info")
    return redirect(url_for("model_uploads.show", document_id=outcome.document_id))


def _index_with_error(message: str) -> Any:
    return index_page(upload_error=message), 422


@bp.get("/dokumentation/<int:document_id>")
@login_required
def show(document_id: int) -> Any:
    """A documentation model in the viewer with its findings."""
    document = get_engine().documentation_model(require_actor(), document_id)
    return render_template("models/document.html", document=document)


@bp.post("/dokumentation/<int:document_id>/loeschen")
@login_required
def delete(document_id: int) -> Any:
    get_engine().delete_documentation_model(require_actor(), document_id)
    flash("Das Dokumentationsmodell wurde gelöscht.", "info")
    return redirect(url_for("models.index"))
