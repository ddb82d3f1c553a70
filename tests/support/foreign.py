"""Models from other tools (tests/data/foreign, written for these tests) and hostile files for the upload on
"Modelle"."""

from __future__ import annotations

from pathlib import Path

from engine.api import Engine
from engine.model_analysis import Analysis, analyse
from tests.support.engines import FORMS, PROCESSES

FOREIGN = Path(__file__).resolve().parents[1] / "foreign_models"  # not in tests/data: tests deploy that
CAMUNDA = FOREIGN / "camunda7_urlaubsantrag.bpmn"
SIGNAVIO = FOREIGN / "signavio_reisekosten.bpmn"
COLLABORATION = FOREIGN / "kollaboration_bestellung.bpmn"
DIAGRAM_ONLY = FOREIGN / "nur_diagramm.bpmn"
MAX_MODEL_BYTES = 5_242_880

BPMN_HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'


def billion_laughs() -> bytes:
    entities = "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10)
    )
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n' + entities + "]>\n"
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol9;</bpmn:definitions>'
    ).encode()


def deeply_nested(depth: int = 5000) -> bytes:
    return BPMN_HEAD + b"<bpmn:documentation>" * depth + b"</bpmn:documentation>" * depth + b"</bpmn:definitions>"


# label → (content, part of the German message)
HOSTILE: dict[str, tuple[bytes, str]] = {
    "Billion Laughs": (billion_laughs(), "DOCTYPE- und ENTITY-Deklarationen sind nicht erlaubt"),
    "externe Entität": (
        b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
        b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&e;</bpmn:definitions>',
        "DOCTYPE- und ENTITY-Deklarationen sind nicht erlaubt",
    ),
    "10 MB": (BPMN_HEAD + b"<!--" + b"x" * 10_000_000 + b"--></bpmn:definitions>", "Die Datei ist zu groß"),
    "tief verschachtelt": (deeply_nested(), "Die Datei ist zu tief verschachtelt"),
    "Binärdaten": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "nicht UTF-8-kodiert"),
    "falscher Namensraum": (
        b'<?xml version="1.0"?><definitions xmlns="http://www.omg.org/spec/BPMN/2.0/beta"><process id="p"/>'
        b"</definitions>",
        "steht im Namensraum 'http://www.omg.org/spec/BPMN/2.0/beta'",
    ),
    "DMN statt BPMN": ((PROCESSES / "umstellung_akte.dmn").read_bytes(), "DMN-Entscheidungstabelle, keine BPMN-Datei"),
    "leer": (b"", "Die Datei ist leer"),
    "nur Leerraum": (b" \n\t ", "Die Datei ist leer"),
    "abgeschnitten": (CAMUNDA.read_bytes()[:1500], "Kein wohlgeformtes XML"),
    "HTML": (b"<!doctype html><html><body>Hallo</body></html>", "Kein wohlgeformtes XML"),
}


def analysed(content: bytes, filename: str = "upload.bpmn") -> Analysis:
    """The analysis with the platform's forms and the default size limit."""
    return analyse(content, filename, FORMS, max_model_bytes=MAX_MODEL_BYTES, max_form_bytes=262_144)


def messages(analysis: Analysis) -> dict[str, list[str]]:
    """Each finding's text with the ids of the elements it names."""
    return {finding.message: [element.id for element in finding.elements] for finding in analysis.findings}


def live_text(engine: Engine, process_id: str) -> str:
    """The main BPMN file of the live version of ``process_id``."""
    with engine.db.reading() as session:
        live = engine.specs.latest(session, process_id)
    return live.resources[live.model.filename]


def path_text(path: Path) -> bytes:
    return path.read_bytes()
