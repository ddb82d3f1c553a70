"""Form editor of a draft: read a task form (the draft's own copy, else the form file), check a changed one with
the rules of every form (``forms.check_schema``) and give its fields for a preview, store it in the draft.

A changed form lives in ``ModelDraft.forms`` and replaces the form file of the same name only in the version the
draft is deployed as; versions keep the forms they were deployed with, so running cases keep their old form.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from . import drafts
from .auth import Actor
from .deployments import SAFE_FORM_KEY
from .drafts import Draft
from .errors import ModelError, NotFoundError
from .forms import FieldSpec, check_schema, form_fields, load_form


def _checked_name(name: str) -> str:
    if not SAFE_FORM_KEY.fullmatch(name):
        raise NotFoundError("Unbekanntes Formular.")
    return name


def read(session: Session, actor: Actor, draft_id: int, name: str, forms_dir: Path, max_bytes: int) -> dict[str, Any]:
    """The form ``name`` as the draft would deploy it. :raises NotFoundError: :raises ModelError: broken file."""
    draft = drafts.get(session, actor, draft_id)
    if _checked_name(name) in draft.forms:
        return dict(draft.forms[name])
    if not (forms_dir / name).is_file():
        raise NotFoundError(f"Das Formular {name} gibt es nicht.")
    return load_form(forms_dir / name, max_bytes)


def preview(actor: Actor, schema: Any) -> list[FieldSpec]:
    """The fields of ``schema`` after the checks every form passes. :raises ModelError: with the German reason."""
    drafts.require_modeller(actor)
    check_schema(schema, "Vorschau")
    return form_fields(schema)


def store(
    session: Session, actor: Actor, draft_id: int, expected: int, name: str, schema: Any, *, max_model_bytes: int,
    max_form_bytes: int,
) -> Draft:  # fmt: skip
    """Put the changed form ``name`` into the draft (audited as a save). :raises ConflictError: :raises ModelError:"""
    draft = drafts.get(session, actor, draft_id)
    if not isinstance(schema, dict):
        raise ModelError("Das Formular muss ein JSON-Objekt sein.", filename=name)
    forms = {**draft.forms, _checked_name(name): schema}
    return drafts.save(session, actor, draft_id, expected, forms=forms, max_model_bytes=max_model_bytes,
                       max_form_bytes=max_form_bytes)  # fmt: skip
