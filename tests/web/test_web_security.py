"""Web security findings of issue 10 that a test client can check: crafted paging cursors, what the case page
gives away of the model, HSTS in production, and no personal data in the app's own logs. (The real servers'
headers and access logs: tests/test_serving.py; sessions: test_sessions.py; the throttle: test_auth.py and
tests/test_login_throttle.py.)"""

from __future__ import annotations

import base64
import html as html_lib
import json
import logging
import random
import re
import string
from pathlib import Path

import pytest
from lxml import etree

from engine.api import Engine
from engine.case_path import diagram_xml
from engine.inbox import BAD_CURSOR
from engine.logs import NoPersonalData, scrub, without_query_values
from engine.safe_xml import NS
from tests.support import pb
from tests.support.engines import PROCESSES, make_engine
from tests.support.web import login
from webapp import create_app

# --- item 4: a crafted paging cursor is refused with 400, never a 500 ----------------------------------------


def _cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


CREATED = "2025-03-04T08:15:00+00:00"
HUGE = 10**30
CRAFTED = [
    "kaputt",
    "",  # empty is "no cursor": the first page
    "=",
    "ä",
    "\x00",
    "a" * 5000,
    base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    _cursor({"0": 1}),
    _cursor(["faellig", {"0": None, "1": CREATED, "2": 1}]),  # KeyError in the old decoder
    _cursor(["faellig", [None, CREATED, HUGE]]),  # OverflowError (SQLite) in the old decoder
    _cursor(["faellig", [None, CREATED, -1]]),
    _cursor(["faellig", [None, CREATED, 1.5]]),
    _cursor(["faellig", [None, CREATED, True]]),
    _cursor(["faellig", [None, CREATED, "1"]]),
    _cursor(["faellig", [None, "0001-01-01T00:00:00+14:00", 1]]),  # OverflowError converting to UTC
    _cursor(["faellig", [None, "9999-12-31T23:59:59-14:00", 1]]),
    _cursor(["faellig", ["nicht-iso", CREATED, 1]]),
    _cursor(["faellig", [[], CREATED, 1]]),
    _cursor(["faellig", [None, CREATED]]),
    _cursor(["faellig", [None, CREATED, 1, 2]]),
    _cursor(["prioritaet", [HUGE, CREATED, 1]]),
    _cursor(["erstellt", [CREATED, 2**63]]),
    _cursor(["faellig"]),
    _cursor("faellig"),
    _cursor(None),
    base64.urlsafe_b64encode(b"[" * 250 + b"]" * 250).decode(),  # deep nesting
    "[" * 300,
]


def _random_cursors(count: int) -> list[str]:
    rng = random.Random(10)  # fixed: a failure can be repeated
    alphabet = string.ascii_letters + string.digits + "-_=+/%äß\x7f"
    values: list[object] = [None, True, -1, 0, HUGE, -HUGE, 1e308, "x", CREATED, [], {}, [CREATED], "2025-13-45"]
    result = []
    for _ in range(count):
        if rng.random() < 0.4:
            result.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 80))))
        else:
            key = [rng.choice(values) for _ in range(rng.randint(0, 4))]
            result.append(_cursor([rng.choice(["faellig", "prioritaet", "erstellt", 7, None]), key]))
    return result


def test_crafted_paging_cursors_get_400_with_a_german_message(client_for, deployed: Engine) -> None:
    egs = deployed.actor("egs")
    for number in range(3):
        deployed.start_case(egs, pb.PROCESS, business_key=f"07402//00980{number}")
    client = client_for("egs")
    other_order = _cursor(["prioritaet", [1, CREATED, 1]])
    assert client.get("/", query_string={"nach": other_order, "sortierung": "prioritaet"}).status_code == 200
    assert client.get("/", query_string={"nach": other_order, "sortierung": "faellig"}).status_code == 400
    for cursor in CRAFTED:
        for sort in ("faellig", "prioritaet", "erstellt"):
            response = client.get("/", query_string={"nach": cursor, "sortierung": sort})
            expected = 200 if cursor == "" else 400
            assert response.status_code == expected, (cursor, sort, response.status_code)
            if expected == 400:
                assert BAD_CURSOR in response.get_data(as_text=True)
    for cursor in _random_cursors(200):  # now and then one is well-formed by chance: 200 is fine, 500 never
        for sort in ("faellig", "prioritaet", "erstellt"):
            response = client.get("/", query_string={"nach": cursor, "sortierung": sort})
            assert response.status_code in (200, 400), (cursor, sort, response.status_code)
            assert response.status_code == 200 or BAD_CURSOR in response.get_data(as_text=True)
    refused = client.get("/", query_string={"nach": CRAFTED[9]}, headers={"Accept": "application/json"})
    assert refused.status_code == 400 and refused.json == {"status": 400, "error": "Ungültige Anfrage",
                                                           "message": BAD_CURSOR}  # fmt: skip


@pytest.mark.parametrize("sort", ["faellig", "prioritaet", "erstellt"])
def test_the_cursors_the_inbox_hands_out_still_work(client_for, deployed: Engine, sort: str) -> None:
    egs = deployed.actor("egs")
    for number in range(3):
        deployed.start_case(egs, pb.PROCESS, business_key=f"07402//00990{number}")
    from engine.inbox import InboxQuery

    first = deployed.inbox_page(egs, InboxQuery(sort=sort, limit=1))  # type: ignore[arg-type]
    assert first.next_cursor
    response = client_for("egs").get("/", query_string={"nach": first.next_cursor, "sortierung": sort})
    assert response.status_code == 200


# --- item 5: the case page sends only what the diagram draws ---------------------------------------------------


def _texts(path: Path, xpath: str) -> list[str]:
    root = etree.parse(str(path)).getroot()
    namespaces = {**NS, "dmn": etree.QName(root).namespace or ""}
    texts = {" ".join("".join(node.itertext()).split()) for node in root.xpath(xpath, namespaces=namespaces)}
    return sorted(text for text in texts if len(text) >= 12)


def _values(path: Path, xpath: str) -> list[str]:
    root = etree.parse(str(path)).getroot()
    return sorted({value for value in root.xpath(xpath, namespaces=NS) if len(value) >= 12})


MODEL = PROCESSES / "pb_antragsannahme.bpmn"
SECRETS = {
    "script": _texts(MODEL, "//bpmn:script"),
    "documentation": _texts(MODEL, "//bpmn:documentation"),
    "condition": _texts(MODEL, "//bpmn:conditionExpression"),
    "instructions": _texts(MODEL, "//spiffworkflow:instructionsForEndUser"),
    "timer": _texts(MODEL, "//bpmn:timeDuration | //bpmn:timeDate | //bpmn:timeCycle"),
    "form property": _values(MODEL, "//spiffworkflow:property[@name='formJsonSchemaFilename']/@value"),
    "DMN": _texts(PROCESSES / "umstellung_neuanlage.dmn", "//dmn:inputEntry/dmn:text | //dmn:outputEntry/dmn:text"),
}


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_the_model_has_what_must_not_leak() -> None:
    """The check below would prove nothing if the model had no scripts, documentation and the like."""
    assert all(SECRETS[kind] for kind in ("script", "documentation", "condition", "instructions", "form property"))


def test_scripts_and_documentation_never_reach_the_case_page(client_for, deployed: Engine) -> None:
    egs = deployed.actor("egs")
    case = deployed.start_case(egs, pb.PROCESS)
    pb.walk_to_documents_requested(deployed, egs, case.instance_id, frist_tage=14)

    page = client_for("egs").get(f"/vorgaenge/{case.instance_id}").get_data(as_text=True)

    data = re.search(r'<script type="application/json" id="diagramm-daten">(.*?)</script>', page, re.S)
    assert data, "the case page embeds the diagram"
    xml = json.loads(data.group(1))["xml"]
    readable = _flat(html_lib.unescape(page)) + _flat(xml)
    # Timer expressions name case variables ("frist_ablauf"), which the page shows with the case's data.
    leaked = {kind: [t[:60] for t in texts if _flat(t) in (_flat(xml) if kind == "timer" else readable)]
              for kind, texts in SECRETS.items()}  # fmt: skip
    assert not any(leaked.values()), leaked
    assert "spiffworkflow" not in xml and "extensionElements" not in xml and "documentation" not in xml


def test_the_diagram_keeps_shapes_labels_lanes_and_layout() -> None:
    original = MODEL.read_text(encoding="utf-8")
    stripped = etree.fromstring(diagram_xml(original).encode())
    source = etree.fromstring(original.encode())

    def ids(root: etree._Element, xpath: str) -> list[str]:
        return sorted(root.xpath(xpath, namespaces=NS))

    kept = ("//bpmndi:BPMNShape/@bpmnElement", "//bpmndi:BPMNEdge/@bpmnElement", "//bpmn:lane/@name",
            "//bpmn:sequenceFlow/@id", "//bpmn:flowNodeRef/text()", "//@x", "//@y", "//@width",
            "//@height")  # fmt: skip
    for xpath in kept:
        assert ids(stripped, xpath) == ids(source, xpath), xpath
    drawn = ids(source, "//bpmndi:BPMNShape/@bpmnElement | //bpmndi:BPMNEdge/@bpmnElement")

    def labels(root: etree._Element) -> dict[str, str | None]:
        return {element_id: root.xpath("//*[@id=$id]", id=element_id)[0].get("name") for element_id in drawn}

    assert labels(stripped) == labels(source)
    # Markers stay: conditional flows, timers and messages keep their (empty) definitions.
    for xpath in ("//bpmn:conditionExpression", "//bpmn:timerEventDefinition", "//bpmn:messageEventDefinition"):
        assert len(stripped.xpath(xpath, namespaces=NS)) == len(source.xpath(xpath, namespaces=NS)), xpath
    assert not stripped.xpath("//bpmn:conditionExpression/text()", namespaces=NS)


# --- item 6 (app part): HSTS in production -------------------------------------------------------------------


def test_hsts_is_sent_in_production_only(deployed: Engine) -> None:
    assert (
        "Strict-Transport-Security"
        not in create_app({"TESTING": True}, engine=deployed).test_client().get("/anmelden").headers
    )
    production = make_engine(deployed.settings.database_url, env="production")
    try:
        client = create_app({"TESTING": True}, engine=production).test_client()
        for path in ("/anmelden", "/healthz", "/gibt-es-nicht"):
            assert client.get(path).headers["Strict-Transport-Security"] == "max-age=31536000", path
    finally:
        production.close()


# --- item 3 (app part): the app's own log lines carry no personal data ------------------------------------------


def test_request_targets_in_log_lines_lose_their_query_values() -> None:
    assert without_query_values("/?suche=Probstfeld&tab=gruppe") == "/?suche=…&tab=…"
    assert without_query_values("/export/sammelliste?standort=56.4&Jana%20Probstfeld") == (
        "/export/sammelliste?standort=…&…"
    )
    assert without_query_values("/vorgaenge/12") == "/vorgaenge/12"
    line = '10.0.0.1 - - [x] "GET /?suche=Hagedorn HTTP/1.1" 200 -'
    assert scrub(line) == '10.0.0.1 - - [x] "GET /?suche=… HTTP/1.1" 200 -'
    record = logging.LogRecord("werkzeug", logging.INFO, "", 0, '"%s" %s', ("GET /?suche=Hagedorn HTTP/1.1", 200), None)
    assert NoPersonalData().filter(record) and "Hagedorn" not in record.getMessage()


def test_the_apps_own_logs_carry_no_names_search_terms_or_user_names(
    client_for, make_user, deployed: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    make_user("hagedorn_k", ("EGS", "56.4"))
    make_user("lsb_wendehals", ("LSB", "56.6"))
    egs = deployed.actor("egs")
    case = deployed.start_case(egs, pb.PROCESS, business_key="07402//0099999")
    pb.walk_to_documents_requested(deployed, egs, case.instance_id, frist_tage=14)
    caplog.set_level(logging.DEBUG)

    clerk = client_for("hagedorn_k", "pw")
    clerk.get("/", query_string={"suche": "Probstfeld"})
    clerk.get("/", query_string={"nach": "kaputt"})  # 400
    clerk.get(f"/vorgaenge/{case.instance_id}")
    client_for("lsb_wendehals", "pw").get(f"/vorgaenge/{case.instance_id}")  # 403, audited and logged
    stranger = clerk.application.test_client()
    login(stranger, "hagedorn_k", "falsch")
    for _ in range(6):
        login(stranger, "hagedorn_k", "falsch-Probstfeld")  # ends refused by the throttle, which logs

    text = caplog.text
    assert "refused" in text, "the refusals were logged – without who"
    for personal in ("Probstfeld", "Jana", "hagedorn", "wendehals", "07402//0099999"):
        assert personal not in text, personal


def test_configure_logging_puts_the_filter_on_every_handler() -> None:
    from engine.logs import configure_logging

    root = logging.getLogger()
    handler = logging.StreamHandler()
    root.addHandler(handler)
    try:
        configure_logging("INFO")
        assert any(isinstance(f, NoPersonalData) for f in handler.filters)
    finally:
        root.removeHandler(handler)
