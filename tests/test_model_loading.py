"""Hostile and broken model files are refused with a German error naming file, line and element.

Nothing is stored when a deploy is refused.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.api import Engine
from engine.auth import system_actor
from engine.errors import ModelError
from engine.model_lint import ModelLintError
from engine.model_loader import ModelFile
from engine.models import AuditEvent, ProcessVersion
from tests.support.engines import DATA, PROCESSES

PB = (PROCESSES / "pb_antragsannahme.bpmn").read_text(encoding="utf-8")

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D" targetNamespace="t">\n'
)


AREA = (
    '<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="egsBereich" '
    'value="allgemeine_verwaltung" /></spiffworkflow:properties></bpmn:extensionElements>'
)


def process(body: str, *, lanes: str = "", process_id: str = "p") -> str:
    opening = f'<bpmn:process id="{process_id}" isExecutable="true">{AREA}'
    return f"{HEAD}{opening}\n{lanes}{body}\n</bpmn:process>\n</bpmn:definitions>"


def deploy_text(engine: Engine, text: str | bytes, name: str = "modell.bpmn") -> None:
    content = text.encode("utf-8") if isinstance(text, str) else text
    engine.deploy_files([ModelFile(name, content)], system_actor("test"), DATA / "forms")


def nothing_stored(engine: Engine) -> bool:
    with engine.db.reading() as session:
        versions = session.scalar(sa.select(sa.func.count()).select_from(ProcessVersion))
        deploys = session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "deploy")
        )
    return versions == 0 and deploys == 0


XXE_IN_SCRIPT = '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/hostname">]>\n' + PB.split("\n", 1)[
    1
].replace("<bpmn:documentation>", "<bpmn:documentation>&e;", 1)
BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10))
    + ']>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol9;</bpmn:definitions>'
)
PARAMETER_ENTITY = (
    '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"/>'
)


@pytest.mark.parametrize(
    ("label", "content", "expected"),
    [
        ("XXE (externe Entität)", XXE_IN_SCRIPT, "DOCTYPE- und ENTITY-Deklarationen sind nicht erlaubt"),
        ("Billion Laughs", BILLION_LAUGHS, "DOCTYPE- und ENTITY-Deklarationen sind nicht erlaubt"),
        ("Parameter-Entität", PARAMETER_ENTITY, "DOCTYPE- und ENTITY-Deklarationen sind nicht erlaubt"),
        ("kein XML", "Das ist ein Brief, kein Modell.", "Kein wohlgeformtes XML"),
        ("abgeschnittenes XML", PB[: len(PB) // 2], "Kein wohlgeformtes XML"),
        ("leere Datei", "   \n", "Die Datei ist leer"),
        ("kein BPMN", '<?xml version="1.0"?><html><body>Hallo</body></html>', "Keine BPMN-2.0-Datei"),
        ("nicht UTF-8", "<?xml version='1.0'?><a>Gr\xfc\xdfe</a>".encode("latin-1"), "nicht UTF-8-kodiert"),
    ],
)
def test_unsafe_or_malformed_xml_is_refused(engine: Engine, label: str, content: str | bytes, expected: str) -> None:
    with pytest.raises(ModelError) as caught:
        deploy_text(engine, content, "feindlich.bpmn")
    assert expected in caught.value.message
    assert caught.value.message.startswith("feindlich.bpmn"), "the message names the file"
    assert nothing_stored(engine)


def test_doctype_with_external_dtd_makes_no_network_request(engine: Engine) -> None:
    requests: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            requests.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        content = (
            f'<?xml version="1.0"?>\n<!DOCTYPE d SYSTEM "http://127.0.0.1:{server.server_port}/boese.dtd">\n'
            + PB.split("\n", 1)[1]
        )
        with pytest.raises(ModelError, match="DOCTYPE"):
            deploy_text(engine, content)
    finally:
        server.shutdown()
        server.server_close()
    assert requests == []


def test_oversized_file_is_refused_before_parsing(db_url: str) -> None:
    from tests.support.engines import make_engine

    small = make_engine(db_url, max_model_bytes=10_000)
    try:
        with pytest.raises(ModelError, match="zu groß"):
            deploy_text(small, PB)
        assert nothing_stored(small)
    finally:
        small.close()


LANE = '<bpmn:laneSet id="LS"><bpmn:lane id="L" name="EGS">{refs}</bpmn:lane></bpmn:laneSet>\n'


def lanes(*ids: str) -> str:
    return LANE.format(refs="".join(f"<bpmn:flowNodeRef>{i}</bpmn:flowNodeRef>" for i in ids))


def test_dangling_reference_names_line_and_element(engine: Engine) -> None:
    text = process(
        '<bpmn:startEvent id="Anfang"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>\n'
        '<bpmn:sequenceFlow id="F1" sourceRef="Anfang" targetRef="Gibt_es_nicht" />',
        lanes=lanes("Anfang"),
    )
    with pytest.raises(ModelError) as caught:
        deploy_text(engine, text, "haengend.bpmn")
    error = caught.value
    assert error.element_id == "F1"
    assert error.line == 6
    assert "targetRef='Gibt_es_nicht' verweist auf ein Element, das es nicht gibt" in error.message
    assert "haengend.bpmn, Zeile 6, Element 'F1'" in error.message
    assert nothing_stored(engine)


def test_process_without_start_event_is_refused(engine: Engine) -> None:
    text = process('<bpmn:endEvent id="Ende" />', lanes=lanes("Ende"))
    with pytest.raises(ModelError) as caught:
        deploy_text(engine, text, "ohne_start.bpmn")
    assert "kein Startereignis" in caught.value.message
    assert caught.value.element_id == "p"
    assert nothing_stored(engine)


def test_reserved_ids_are_refused(engine: Engine) -> None:
    text = process(
        '<bpmn:startEvent id="Start"><bpmn:outgoing>F</bpmn:outgoing></bpmn:startEvent>\n'
        '<bpmn:endEvent id="E"><bpmn:incoming>F</bpmn:incoming></bpmn:endEvent>\n'
        '<bpmn:sequenceFlow id="F" sourceRef="Start" targetRef="E" />',
        lanes=lanes("Start", "E"),
    )
    with pytest.raises(ModelError, match="ist für die Engine reserviert") as caught:
        deploy_text(engine, text)
    assert (caught.value.element_id, caught.value.line) == ("Start", 5)


def test_duplicate_ids_are_refused(engine: Engine) -> None:
    text = process(
        '<bpmn:startEvent id="X"><bpmn:outgoing>F</bpmn:outgoing></bpmn:startEvent>\n'
        '<bpmn:endEvent id="X"><bpmn:incoming>F</bpmn:incoming></bpmn:endEvent>\n'
        '<bpmn:sequenceFlow id="F" sourceRef="X" targetRef="X" />'
    )
    with pytest.raises(ModelError, match="mehrfach vergeben"):
        deploy_text(engine, text)


def test_schema_violations_are_reported_with_line(engine: Engine) -> None:
    text = process('<bpmn:startEvent id="Anfang"><bpmn:unbekannt /></bpmn:startEvent>', lanes=lanes("Anfang"))
    with pytest.raises(ModelError) as caught:
        deploy_text(engine, text, "xsd.bpmn")
    assert "Ungültiges Modell" in caught.value.message
    assert caught.value.line == 5
    assert nothing_stored(engine)


def test_lint_lists_every_broken_rule(engine: Engine) -> None:
    text = process(
        '<bpmn:startEvent id="Anfang"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>\n'
        '<bpmn:userTask id="Ohne_Formular" name="A"><bpmn:incoming>F1</bpmn:incoming>'
        "<bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>\n"
        '<bpmn:exclusiveGateway id="GW"><bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing>'
        "<bpmn:outgoing>F4</bpmn:outgoing></bpmn:exclusiveGateway>\n"
        '<bpmn:scriptTask id="Import"><bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F5</bpmn:outgoing>'
        "<bpmn:script>import os</bpmn:script></bpmn:scriptTask>\n"
        '<bpmn:endEvent id="E1"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>\n'
        '<bpmn:endEvent id="E2"><bpmn:incoming>F5</bpmn:incoming></bpmn:endEvent>\n'
        '<bpmn:sequenceFlow id="F1" sourceRef="Anfang" targetRef="Ohne_Formular" />\n'
        '<bpmn:sequenceFlow id="F2" sourceRef="Ohne_Formular" targetRef="GW" />\n'
        '<bpmn:sequenceFlow id="F3" sourceRef="GW" targetRef="Import"><bpmn:conditionExpression>'
        "x == 1</bpmn:conditionExpression></bpmn:sequenceFlow>\n"
        '<bpmn:sequenceFlow id="F4" sourceRef="GW" targetRef="E1" />\n'
        '<bpmn:sequenceFlow id="F5" sourceRef="Import" targetRef="E2" />',
        lanes=lanes("Anfang", "Ohne_Formular", "GW", "Import", "E1", "E2"),
    )
    with pytest.raises(ModelLintError) as caught:
        deploy_text(engine, text, "regeln.bpmn")
    problems = {(p.element_id, p.detail) for p in caught.value.problems}
    assert (
        "Ohne_Formular",
        "Die Benutzeraufgabe hat kein Formular (Eigenschaft 'formJsonSchemaFilename').",
    ) in problems
    assert any(e == "Ohne_Formular" and "egsRole" in d for e, d in problems)
    assert any(e == "Import" and "egsRole" in d for e, d in problems)
    assert ("GW", "Das Gateway hat keinen Standardfluss (default).") in problems
    assert any(e == "Import" and "'import' ist in Skripten nicht erlaubt." in d for e, d in problems)
    assert nothing_stored(engine)


def test_missing_or_invalid_form_is_refused(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "test_eingabe.json").write_text('{"type": "object", "properties": {"a": {"type": "strang"}}}')
    files = [ModelFile("script_step.bpmn", (DATA / "script_step.bpmn").read_bytes())]
    with pytest.raises(ModelLintError) as caught:
        engine.deploy_files(files, system_actor("test"), tmp_path)
    details = [p.message for p in caught.value.problems]
    assert any(m.startswith("test_eingabe.json: Kein gültiges JSON Schema") for m in details), details
    assert any(m.startswith("test_leer.json: Das Formular existiert nicht") for m in details), details
    assert nothing_stored(engine)


def test_form_key_cannot_escape_the_forms_directory(engine: Engine) -> None:
    text = (DATA / "script_step.bpmn").read_text().replace("test_eingabe.json", "../../../etc/passwd.json")
    with pytest.raises(ModelLintError) as caught:
        deploy_text(engine, text, "pfad.bpmn")
    assert any("Ungültiger Formularname" in p.detail for p in caught.value.problems)


@pytest.fixture
def good_models() -> Iterator[list[ModelFile]]:
    yield [ModelFile.from_path(p) for p in sorted([*PROCESSES.glob("*.bpmn"), *PROCESSES.glob("*.dmn")])]


def test_real_models_deploy_cleanly(engine: Engine, good_models: list[ModelFile]) -> None:
    results = engine.deploy_files(good_models, system_actor("test"))
    assert {r.process_id for r in results} >= {"pb_antragsannahme"}
    assert all(r.created and r.version == 1 for r in results)


def test_lint_finds_unknown_names_and_bad_properties(engine: Engine) -> None:
    text = (
        (DATA / "four_eyes.bpmn")
        .read_text()
        .replace('value="Task_Anlegen"', 'value="Task_Gibt_Es_Nicht"')
        .replace(
            '<spiffworkflow:property name="egsBereich" value="allgemeine_verwaltung" />',
            '<spiffworkflow:property name="egsBereich" value="kantine" />'
            '<spiffworkflow:property name="egsSites" value="56.6,99.9" />',
        )
        .replace(  # a task may name its own area, but only one of the three
            '<spiffworkflow:property name="egsRole" value="Durchführender" />',
            '<spiffworkflow:property name="egsRole" value="Durchführender" />'
            '<spiffworkflow:property name="egsBereich" value="IFK" />',
            1,
        )
        .replace(
            '<bpmn:sequenceFlow id="F3"',
            '<bpmn:sequenceFlow id="F9" sourceRef="Task_Bewilligen" targetRef="Event_Ende">'
            "<bpmn:conditionExpression>betrag_ok and gibts_nicht &gt; konfig('x') and "
            'all(v for v in [standort])</bpmn:conditionExpression></bpmn:sequenceFlow>\n<bpmn:sequenceFlow id="F3"',
        )
    )
    with pytest.raises(ModelLintError) as caught:
        deploy_text(engine, text, "namen.bpmn")
    details = sorted(p.detail for p in caught.value.problems)
    assert any("'betrag_ok', das weder ein Formularfeld" in d for d in details), details
    assert any("'gibts_nicht', das weder ein Formularfeld" in d for d in details), details
    assert not any("'v'" in d or "'standort'" in d or "'konfig'" in d for d in details), details
    assert "egsFourEyes verweist auf 'Task_Gibt_Es_Nicht', das es in diesem Prozess nicht gibt." in details
    assert "egsSites nennt unbekannte Standorte: 99.9." in details
    assert any(d.startswith("Eigenschaft 'egsBereich' des Prozesses fehlt oder ist ungültig") for d in details), details
    assert any(d.startswith("Eigenschaft 'egsBereich' der Aufgabe ist ungültig") for d in details), details
    assert nothing_stored(engine)


def test_form_rules_must_name_data_the_case_can_have(engine: Engine, tmp_path: Path) -> None:
    form = json.loads((DATA / "forms" / "test_eingabe.json").read_text(encoding="utf-8"))
    form["x-regeln"] = [
        {"feld": "anzahl", "hoechstens": {"summe": ["anzahl_kinder", 2]}, "meldung": "Zu viele."},
        {"feld": "anzahl", "mindestens": "gestartet_am", "meldung": "Startwerte sind bekannt."},
    ]
    (tmp_path / "test_eingabe.json").write_text(json.dumps(form), encoding="utf-8")
    (tmp_path / "test_leer.json").write_bytes((DATA / "forms" / "test_leer.json").read_bytes())
    files = [ModelFile("script_step.bpmn", (DATA / "script_step.bpmn").read_bytes())]
    with pytest.raises(ModelLintError) as caught:
        engine.deploy_files(files, system_actor("test"), tmp_path)
    assert [p.detail for p in caught.value.problems] == [
        "Eine Regel (x-regeln) des Formulars 'test_eingabe.json' nennt 'anzahl_kinder', "
        "das weder ein Formularfeld, eine Skriptvariable noch ein Startwert ist."
    ]
    assert nothing_stored(engine)
