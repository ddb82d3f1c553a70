"""Safe parsing of model files before SpiffWorkflow sees them.

Every BPMN/DMN file is parsed here with entity resolution, DTD loading and network access off and a
size limit. Any DOCTYPE is refused outright: with entities off, lxml would silently truncate text at
an entity reference instead of failing, which is worse than an error.
"""

from __future__ import annotations

from typing import Literal

from lxml import etree

from .errors import ModelError

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "bpmndi": BPMNDI_NS, "spiffworkflow": SPIFF_NS}  # prefixes for XPath
DMN_NAMESPACES = frozenset(
    {
        "http://www.omg.org/spec/DMN/20100524/MODEL/",
        "https://www.omg.org/spec/DMN/20191111/MODEL/",
        "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
        "http://www.omg.org/spec/DMN/20180521/MODEL/",
        "https://www.omg.org/spec/DMN/20180521/MODEL/",
    }
)

Kind = Literal["bpmn", "dmn"]


def _parser() -> etree.XMLParser:
    # A new parser per call: lxml parsers are not thread-safe to share.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
    )


def parse_model_xml(content: bytes, filename: str, kind: Kind, max_bytes: int) -> etree._ElementTree:
    """Parse one model file safely and check that it is the expected kind of document.

    :raises ModelError: (German message, file, line) for oversized, empty, non-UTF-8, non-XML, truncated
        or non-BPMN/DMN content and for any DOCTYPE or entity declaration.
    """
    if len(content) > max_bytes:
        raise ModelError(
            f"Die Datei ist zu groß ({_megabytes(len(content))} MB, erlaubt sind {_megabytes(max_bytes)} MB).",
            filename=filename,
        )
    if not content.strip():
        raise ModelError("Die Datei ist leer.", filename=filename)
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelError("Die Datei ist nicht UTF-8-kodiert.", filename=filename) from exc
    if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
        doctype_line = content[: content.find(b"<!")].count(b"\n") + 1
        raise ModelError("DOCTYPE- und ENTITY-Deklarationen sind nicht erlaubt.", filename=filename, line=doctype_line)
    try:
        tree = etree.ElementTree(etree.fromstring(content, _parser()))
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if isinstance(exc.lineno, int) and exc.lineno > 0 else None
        if "Excessive depth" in str(exc.msg):
            raise ModelError("Die Datei ist zu tief verschachtelt (mehr als 256 Ebenen).", filename=filename,
                             line=line) from exc  # fmt: skip
        raise ModelError(f"Kein wohlgeformtes XML ({exc.msg}).", filename=filename, line=line) from exc
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise ModelError("DOCTYPE- und ENTITY-Deklarationen sind nicht erlaubt.", filename=filename, line=1)
    root = tree.getroot()
    qname = etree.QName(root)
    if kind == "bpmn" and "/spec/DMN/" in (qname.namespace or ""):
        raise ModelError(
            "Das ist eine DMN-Entscheidungstabelle, keine BPMN-Datei (bitte als .dmn-Datei verwenden).",
            filename=filename,
            line=root.sourceline,
        )
    if kind == "bpmn" and qname.localname == "definitions" and qname.namespace != BPMN_NS:
        raise ModelError(
            f"Keine BPMN-2.0-Datei: <definitions> steht im Namensraum '{(qname.namespace or '(keiner)')[:100]}' "
            f"statt '{BPMN_NS}'.",
            filename=filename,
            line=root.sourceline,
        )
    if kind == "bpmn" and (qname.namespace != BPMN_NS or qname.localname != "definitions"):
        raise ModelError(
            f"Keine BPMN-2.0-Datei: Wurzelelement ist <{qname.localname}> statt <bpmn:definitions>.",
            filename=filename,
            line=root.sourceline,
        )
    if kind == "dmn" and (qname.namespace not in DMN_NAMESPACES or qname.localname != "definitions"):
        raise ModelError(
            f"Keine DMN-Datei: Wurzelelement ist <{qname.localname}> statt <dmn:definitions>.",
            filename=filename,
            line=root.sourceline,
        )
    return tree


def _megabytes(size: int) -> str:
    return f"{size / 1_048_576:.1f}".replace(".", ",")


def line_of(tree: etree._ElementTree, element_id: str) -> int | None:
    """Return the source line of the element with ``element_id``, if present."""
    if not element_id:
        return None
    found = tree.getroot().xpath("//*[@id=$id]", id=element_id)
    return found[0].sourceline if found else None
