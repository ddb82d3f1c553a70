"""Process owners' pages: "Modelle" (processes and decision tables, versions, drafts), the diagram of a version,
the modeller of a draft and the DMN editor of a decision table draft with their JSON endpoints (save, deploy, form
list). The engine checks permissions and audits."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.utils import secure_filename

from engine.vocabulary import EGS_ROLES, SITES

from ..extensions import get_engine
from ..security import login_required, require_actor

bp = Blueprint("models", __name__, url_prefix="/modelle")


@bp.get("")
@login_required
def index() -> Any:
    """Every process with its live and older versions, its drafts and the links to work on it."""
    return index_page()


def index_page(upload_error: str | None = None) -> str:
    """The page "Modelle" (also after a refused upload, with its reason)."""
    actor, engine = require_actor(), get_engine()
    return render_template("models/index.html", entries=engine.model_catalogue(actor),
                           tables=engine.decision_tables(actor), documents=engine.documentation_models(actor),
                           releases=engine.model_releases(actor), upload_error=upload_error)  # fmt: skip


@bp.get("/<process_id>/versionen/<int:version>")
@login_required
def diagram(process_id: str, version: int) -> Any:
    """A deployed version as a read-only diagram."""
    shown = get_engine().version_diagram(require_actor(), process_id, version)
    return render_template("models/diagram.html", shown=shown)


@bp.get("/<process_id>/versionen/<int:version>/vergleich")
@login_required
def compare_version(process_id: str, version: int) -> Any:
    """An older (or the live) version against the live one: both diagrams coloured, the changes listed."""
    comparison = get_engine().compare_model_version(require_actor(), process_id, version)
    return render_template("models/diff.html", comparison=comparison)


@bp.get("/entwuerfe/<int:draft_id>/vergleich")
@login_required
def compare_draft(draft_id: int) -> Any:
    """A draft against the live version (HTML page; JSON summary for the modeller's deploy confirmation)."""
    comparison = get_engine().compare_model_draft(require_actor(), draft_id)
    if request.accept_mimetypes.best == "application/json":
        return jsonify({
            "zusammenfassung": comparison.summary_text,
            "anzahl": comparison.diff.counts(),
            "live_version": comparison.live_version,
            "aenderungen": [{"id": c.element_id, "art": c.kind, "art_text": c.kind_label, "typ": c.type,
                             "name": c.name, "details": list(c.details)} for c in comparison.diff.changes],
            "formulare": list(comparison.form_changes),
        })  # fmt: skip
    return render_template("models/diff.html", comparison=comparison)


@bp.post("/<process_id>/entwuerfe")
@login_required
def create_draft(process_id: str) -> Any:
    """Start a draft from the live version and open it in the modeller."""
    draft = get_engine().create_model_draft(require_actor(), process_id)
    return redirect(url_for("models.modeller", draft_id=draft.id))


@bp.get("/entwuerfe/<int:draft_id>")
@login_required
def modeller(draft_id: int) -> Any:
    """The modeller page of a draft (the bundle loads only here)."""
    draft = get_engine().model_draft(require_actor(), draft_id)
    config = {
        "xml": draft.xml,
        "lockVersion": draft.lock_version,
        "filename": draft.filename,
        "saveUrl": url_for("models.save_draft", draft_id=draft.id),
        "deployUrl": url_for("models.deploy_draft", draft_id=draft.id),
        "formsUrl": url_for("models.form_names"),
        "diffUrl": url_for("models.compare_draft", draft_id=draft.id),
        "lintUrl": url_for("models.lint_context", draft_id=draft.id),
        "roles": list(EGS_ROLES),
        "panel": get_engine().modeller_choices(require_actor()),
        "ownForms": list(draft.form_names),
        "formUrl": url_for("draft_forms.read", draft_id=draft.id, name="__NAME__"),
        "previewUrl": url_for("draft_forms.preview"),
    }
    trials = get_engine().trials_of_draft(require_actor(), draft_id)
    return render_template("models/modeller.html", draft=draft, config=config, trials=trials, sites=SITES,
                           needs_release=get_engine().deploy_needs_release)  # fmt: skip


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("lock_version"), int):
        abort(400)
    return body


@bp.post("/entwuerfe/<int:draft_id>")
@login_required
def save_draft(draft_id: int) -> Any:
    """Autosave and "Speichern": JSON ``{xml, name?, lock_version}`` → ``{lock_version}``; 409 if stale, 422 if
    the XML is unsafe or broken (with its problems) or the name empty (with field errors)."""
    body = _json_body()
    xml, name = body.get("xml"), body.get("name")
    if not isinstance(xml, str) or not isinstance(name, str | None):
        abort(400)
    draft = get_engine().save_model_draft(require_actor(), draft_id, body["lock_version"], xml=xml, name=name)
    return jsonify({"lock_version": draft.lock_version, "gespeichert": draft.updated_at.isoformat()})


@bp.post("/entwuerfe/<int:draft_id>/bereitstellen")
@login_required
def deploy_draft(draft_id: int) -> Any:
    """Deploy the saved draft with a comment: JSON ``{comment, lock_version}``; errors name the elements."""
    body = _json_body()
    comment = body.get("comment")
    if not isinstance(comment, str):
        abort(400)
    if get_engine().deploy_needs_release:  # a second process owner releases it on "Modelle"
        get_engine().request_model_release(require_actor(), draft_id, body["lock_version"], comment)
        message = "Die Freigabe ist beantragt. Eine zweite Person der Prozessverantwortung gibt sie auf „Modelle“ frei."
        flash(message, "success")
        return jsonify({"created": False, "pending": True, "message": message, "url": url_for("models.index")})
    result = get_engine().deploy_model_draft(require_actor(), draft_id, body["lock_version"], comment)
    if result.created:
        message = f"{result.name}: Version {result.version} ist jetzt live. Neue Vorgänge laufen nach dieser Version."
        flash(message, "success")
    else:
        message = f"Der Entwurf entspricht der Version {result.version}; es wurde keine neue Version erstellt."
    return jsonify({"created": result.created, "version": result.version, "message": message,
                    "url": url_for("models.index") if result.created else None})  # fmt: skip


@bp.get("/entwuerfe/<int:draft_id>/datei")
@login_required
def download_draft(draft_id: int) -> Any:
    """The draft's BPMN file as a download."""
    draft = get_engine().model_draft(require_actor(), draft_id)
    response = Response(draft.xml, mimetype="application/xml")
    response.headers["Content-Disposition"] = f'attachment; filename="{secure_filename(draft.filename)}"'
    return response


@bp.post("/entwuerfe/<int:draft_id>/loeschen")
@login_required
def delete_draft(draft_id: int) -> Any:
    """Delete a draft (form post with its lock_version)."""
    try:
        expected = int(request.form.get("lock_version", ""))
    except ValueError:
        abort(400)
    get_engine().delete_model_draft(require_actor(), draft_id, expected)
    flash("Der Entwurf wurde gelöscht.", "info")
    return redirect(url_for("models.index"))


@bp.get("/entwuerfe/<int:draft_id>/pruefkontext")
@login_required
def lint_context(draft_id: int) -> Any:
    """What the modeller's live lint needs: form files (valid?, fields) and decision-table outputs."""
    return jsonify(get_engine().model_lint_context(require_actor(), draft_id))


@bp.get("/formulare")
@login_required
def form_names() -> Any:
    """The form files a task may name, for the modeller's form select."""
    return jsonify({"formulare": get_engine().form_names(require_actor())})


# --- decision tables (DMN): the editor of a draft, its save, download, deploy and delete --------------------------


@bp.post("/entscheidungstabellen/<filename>/entwuerfe")
@login_required
def create_decision_draft(filename: str) -> Any:
    """Start a draft from the live version of a decision table file and open it in the DMN editor."""
    draft = get_engine().create_decision_draft(require_actor(), filename)
    return redirect(url_for("models.dmn_editor", draft_id=draft.id))


@bp.get("/dmn-entwuerfe/<int:draft_id>")
@login_required
def dmn_editor(draft_id: int) -> Any:
    """The DMN editor page of a decision table draft (the dmn-js bundle loads only here)."""
    actor = require_actor()
    draft = get_engine().decision_draft(actor, draft_id)
    entry = next((e for e in get_engine().decision_tables(actor) if e.filename == draft.filename), None)
    config = {
        "xml": draft.xml,
        "lockVersion": draft.lock_version,
        "filename": draft.filename,
        "saveUrl": url_for("models.save_decision_draft", draft_id=draft.id),
        "deployUrl": url_for("models.deploy_decision_draft", draft_id=draft.id),
    }
    return render_template("models/dmn_editor.html", draft=draft, config=config, entry=entry)


@bp.post("/dmn-entwuerfe/<int:draft_id>")
@login_required
def save_decision_draft(draft_id: int) -> Any:
    """Autosave, "Speichern" and upload: JSON ``{xml, name?, lock_version}`` → ``{lock_version}``; 409 if stale, 422
    if the DMN is unsafe or broken (with its problems) or the name empty."""
    body = _json_body()
    xml, name = body.get("xml"), body.get("name")
    if not isinstance(xml, str) or not isinstance(name, str | None):
        abort(400)
    draft = get_engine().save_decision_draft(require_actor(), draft_id, body["lock_version"], xml=xml, name=name)
    return jsonify({"lock_version": draft.lock_version, "gespeichert": draft.updated_at.isoformat()})


@bp.post("/dmn-entwuerfe/<int:draft_id>/bereitstellen")
@login_required
def deploy_decision_draft(draft_id: int) -> Any:
    """Deploy the saved decision table draft with a comment: JSON ``{comment, lock_version}``."""
    body = _json_body()
    comment = body.get("comment")
    if not isinstance(comment, str):
        abort(400)
    result = get_engine().deploy_decision_draft(require_actor(), draft_id, body["lock_version"], comment)
    if result.created:
        processes = ", ".join(f"{p.name} (Version {p.version})" for p in result.processes)
        message = (f"{result.filename}: Version {result.version} ist jetzt live. "
                   + (f"Neue Vorgänge entscheiden danach: {processes}." if processes else
                      "Kein bereitgestellter Prozess verwendet diese Tabelle."))  # fmt: skip
        flash(message, "success")
    else:
        message = f"Der Entwurf entspricht der Version {result.version}; es wurde keine neue Version erstellt."
    return jsonify({"created": result.created, "version": result.version, "message": message,
                    "url": url_for("models.index") if result.created else None})  # fmt: skip


@bp.get("/dmn-entwuerfe/<int:draft_id>/datei")
@login_required
def download_decision_draft(draft_id: int) -> Any:
    """The decision table draft as a .dmn download."""
    draft = get_engine().decision_draft(require_actor(), draft_id)
    response = Response(draft.xml, mimetype="application/xml")
    response.headers["Content-Disposition"] = f'attachment; filename="{secure_filename(draft.filename)}"'
    return response


@bp.post("/dmn-entwuerfe/<int:draft_id>/loeschen")
@login_required
def delete_decision_draft(draft_id: int) -> Any:
    """Delete a decision table draft (form post with its lock_version)."""
    try:
        expected = int(request.form.get("lock_version", ""))
    except ValueError:
        abort(400)
    get_engine().delete_decision_draft(require_actor(), draft_id, expected)
    flash("Der Entwurf wurde gelöscht.", "info")
    return redirect(url_for("models.index"))
