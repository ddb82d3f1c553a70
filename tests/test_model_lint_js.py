"""The modeller's live lint (frontend/bpmnlint-plugin-egs, .bpmnlintrc) run as the CI does: every shipped model
passes, broken ones fail with the German messages the server lint gives, and the plugin's copy of the engine's
names is current."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from engine import lint_vocabulary
from engine.model_lint import lint_process
from engine.model_loader import ModelFile, ProcessModel, load_processes

ROOT = Path(__file__).resolve().parents[1]
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js fehlt (die CI hat es: make setup)")


def run_lint(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NODE or "node", "frontend/lint-models.mjs", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip


def test_every_shipped_model_passes_the_lint_of_the_modeller() -> None:
    result = subprocess.run(["npm", "run", "--silent", "lint:models"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    shipped = len(list((ROOT / "processes").glob("*.bpmn")))
    assert f"{shipped} Modelle geprüft: 0 Fehler" in result.stdout


def broken_model() -> str:
    text = (ROOT / "processes" / "pb_antragsannahme.bpmn").read_text(encoding="utf-8")
    replacements = [
        # no role on a task
        ('<spiffworkflow:property name="formJsonSchemaFilename" value="pb_anmeldung.json" />'
         '<spiffworkflow:property name="egsRole" value="Durchführender" />',
         '<spiffworkflow:property name="formJsonSchemaFilename" value="pb_anmeldung.json" />'),
        # a form that does not exist, and one that is invalid (see the forms folder below)
        ('value="pb_papierakte.json"', 'value="gibt_es_nicht.json"'),
        ('value="pb_eakte.json"', 'value="kaputt.json"'),
        # an unknown group as lane
        ('<bpmn:lane id="Lane_TL" name="TL">', '<bpmn:lane id="Lane_TL" name="Teamleitung">'),
        # an exclusive gateway without default flow
        (' default="Flow_Akte_Papier"', ""),
        # a script reading a name nothing sets
        ('vorname = besuch.get("vorname")', 'vorname = besucher.get("vorname")'),
        # an area that is not one of the three of the VZÄ plan
        ('name="egsBereich" value="neuantragsbearbeitung"', 'name="egsBereich" value="kantine"'),
        # a reserved id
        ('id="Event_Start"', 'id="Start"'), ('>Event_Start<', '>Start<'), ('"Event_Start"', '"Start"'),
    ]  # fmt: skip
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return text


def test_broken_model_fails_with_german_messages(tmp_path: Path) -> None:
    (tmp_path / "modelle").mkdir()
    (tmp_path / "modelle" / "pb_antragsannahme.bpmn").write_text(broken_model(), encoding="utf-8")
    for table in (ROOT / "processes").glob("*.dmn"):
        shutil.copy(table, tmp_path / "modelle")
    forms = tmp_path / "formulare"
    shutil.copytree(ROOT / "forms", forms)
    (forms / "kaputt.json").write_text(json.dumps({"type": "array"}), encoding="utf-8")
    result = run_lint(str(tmp_path / "modelle"), str(forms))
    assert result.returncode == 1
    out = result.stdout
    expected = [
        ("Task_Anmeldung", "Die EGS-Rolle fehlt oder ist ungültig (Eigenschaft 'egsRole')"),
        ("Task_Papierakte", "Das Formular 'gibt_es_nicht.json' fehlt."),
        ("Task_EAkte", "Das Formular 'kaputt.json' ist ungültig."),
        ("Gateway_Akte", "Das Gateway hat keinen Standardfluss (default)."),
        ("Task_Besuch_Uebernehmen", "Das Skript verwendet 'besucher'"),
        ("Start", "Die ID 'Start' ist für die Engine reserviert"),
        ("pb_antragsannahme", "Eigenschaft 'egsBereich' des Prozesses fehlt oder ist ungültig"),
    ]
    for element_id, message in expected:
        assert any(line.strip().startswith(element_id + " ") and message in line for line in out.splitlines()), (
            element_id, out)  # fmt: skip
    assert "Lane 'Teamleitung' ist keine bekannte Gruppe" in out
    assert "1 Modelle geprüft: " in out


def test_server_lint_finds_the_same_elements(tmp_path: Path) -> None:
    """The mirrored rules flag the same elements as engine/model_lint.py (the reserved id aside: the server
    refuses that file before its lint runs)."""
    text = broken_model().replace('id="Start"', 'id="Event_Start"').replace(">Start<", ">Event_Start<")
    text = text.replace('"Start"', '"Event_Start"')
    (tmp_path / "pb_antragsannahme.bpmn").write_text(text, encoding="utf-8")
    for table in (ROOT / "processes").glob("*.dmn"):  # their outputs are names the scripts may read
        shutil.copy(table, tmp_path)
    forms_dir = ROOT / "forms"
    forms = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in forms_dir.glob("*.json")}
    files = [ModelFile("pb_antragsannahme.bpmn", text.encode())]
    files += [ModelFile.from_path(path) for path in sorted((ROOT / "processes").glob("*.dmn"))]
    server: set[str] = set()

    def check(models: dict[str, ProcessModel]) -> None:  # runs before SpiffWorkflow (which refuses the gateway)
        server.update(problem.element_id for problem in lint_process(models["pb_antragsannahme"], forms))
        raise StopIteration

    with pytest.raises(StopIteration):
        load_processes(files, 5_000_000, check, validate=False)
    result = run_lint(str(tmp_path), str(forms_dir))
    mirrored = [line for line in result.stdout.splitlines() if "  Fehler  " in line and "(egs/de-" not in line]
    browser = {line.split()[0] for line in mirrored}
    assert server  # the rules work on both sides …
    assert browser == server  # … on the same elements


def test_plugin_vocabulary_is_current() -> None:
    copy = (ROOT / "frontend" / "bpmnlint-plugin-egs" / "vocabulary.json").read_text(encoding="utf-8")
    assert copy == lint_vocabulary.as_json(), (
        "python -m engine.lint_vocabulary > frontend/bpmnlint-plugin-egs/vocabulary.json"
    )
