"""The names the browser/CLI lint (frontend/bpmnlint-plugin-egs) needs from the engine, as JSON: groups, EGS
roles, work areas (key → title; the modeller's area entry reads them too), reserved ids and the names every
script may use (among them the start values and functions the modeller's panel names in its hints). The plugin
ships a copy (``vocabulary.json``);
``python -m engine.lint_vocabulary > frontend/bpmnlint-plugin-egs/vocabulary.json`` regenerates it and
tests/test_model_lint_js.py fails when the copy is stale."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .decision_library import Decision
from .errors import ModelError
from .forms import check_schema
from .model_lint import INITIAL_DATA
from .model_structure import RESERVED_IDS
from .scripting import HELPERS, SAFE_BUILTINS
from .service_tasks import registry
from .vocabulary import EGS_ROLES, GROUP_NAMES, SITES, WORK_AREAS, WORK_GROUPS, site_label


def vocabulary() -> dict[str, Any]:
    return {
        "groups": list(WORK_GROUPS),
        "roles": list(EGS_ROLES),
        "areas": dict(WORK_AREAS),
        "reservedIds": sorted(RESERVED_IDS),
        "scriptNames": sorted(set(SAFE_BUILTINS) | set(HELPERS) | {"konfig"} | set(INITIAL_DATA)),
        "startValues": sorted(INITIAL_DATA),
        "functions": sorted(set(HELPERS) | {"konfig"}),
    }


def form_info(schema: Any, name: str) -> dict[str, Any]:
    """What the lint needs of a form file: is it valid (``forms.check_schema``), which fields it has."""
    try:
        check_schema(schema, name)
    except ModelError:
        return {"valid": False, "fields": []}
    return {"valid": True, "fields": sorted(schema["properties"])}


def read_forms(forms_dir: Path) -> dict[str, Any]:
    """Every form file of ``forms_dir`` by name; None for one that is not JSON (the lint calls it invalid)."""
    forms: dict[str, Any] = {}
    for path in sorted(forms_dir.glob("*.json")):
        try:
            forms[path.name] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            forms[path.name] = None
    return forms


_OUTPUT = re.compile(r"<(?:\w+:)?output\b[^>]*\bname=\"([^\"]+)\"")


def lint_context(forms: Mapping[str, Any], resources: Mapping[str, str]) -> dict[str, Any]:
    """The context of the browser lint for a draft: its forms (file name → schema) and the names the decision
    tables among ``resources`` (file name → text) write."""
    outputs = {m.group(1) for name, text in resources.items() if name.endswith(".dmn") for m in _OUTPUT.finditer(text)}
    return {"forms": {name: form_info(schema, name) for name, schema in sorted(forms.items())},
            "extraNames": sorted(outputs)}  # fmt: skip


def panel_choices(decisions: list[Decision]) -> dict[str, Any]:
    """The choices of the modeller's EGS panel (frontend/modeller-egs-*.js): sites and start groups of a
    process, the registered service operations with their parameters, and the deployed decisions."""
    return {
        "sites": [{"value": site, "label": site_label(site)} for site in SITES],
        "groups": [{"value": group, "label": f"{group} – {GROUP_NAMES[group]}"} for group in WORK_GROUPS],
        "operations": [{"name": name, "params": list(op.params)} for name, op in sorted(registry().items())],
        "decisions": [{"id": d.id, "name": d.name, "file": d.filename} for d in decisions],
    }  # fmt: skip


def as_json() -> str:
    return json.dumps(vocabulary(), ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":
    print(as_json(), end="")
