"""The audit function's exports of a filtered set of cases: ``audit-csv`` and ``audit-xes`` (issue 12).

Both stream the event log of ``case_log`` (one case after another, read in batches): XES as in IEEE Std
1849-2016 with the concept, time, lifecycle and org extensions (trace = case, event = a lifecycle transition
of a task with its BPMN id; resource = login, group = lane), CSV for German spreadsheet programs through
``exports.csv_lines``. Neither holds names of people or applicants, nor any form value (fields marked
``x-sichtbarFuer`` included). The export is recorded with its filter and the number of cases before it
streams.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from datetime import datetime
from xml.sax.saxutils import quoteattr

from sqlalchemy.orm import Session

from . import case_log
from .clock import BERLIN
from .exports import CSV_MEDIA_TYPE, XES_MEDIA_TYPE, ExportFile, ExportRequest, csv_lines, export

CSV_HEADER = ("Vorgang", "Prozess", "Version", "Standort", "Status", "Schritt-ID (BPMN)", "Schritt", "Übergang",
              "Zeitpunkt", "Benutzer", "Gruppe")  # fmt: skip
TRANSITIONS = {"schedule": "bereit", "assign": "übernommen", "reassign": "neu zugewiesen", "complete": "erledigt"}
EXTENSIONS = (
    ("Concept", "concept", "http://www.xes-standard.org/concept.xesext"),
    ("Time", "time", "http://www.xes-standard.org/time.xesext"),
    ("Lifecycle", "lifecycle", "http://www.xes-standard.org/lifecycle.xesext"),
    ("Organizational", "org", "http://www.xes-standard.org/org.xesext"),
)
# Characters XML 1.0 does not allow (a model's task name should never hold them; a log must stay readable).
NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@export("audit-csv", "Ereignisprotokoll der gefilterten Vorgänge als CSV (Revision)", **case_log.FILTERS)
def audit_csv(request: ExportRequest) -> ExportFile:
    chosen, cases = _chosen(request)

    def stream(session: Session) -> Iterator[str]:
        return csv_lines(CSV_HEADER, _csv_rows(case_log.traces(session, request.specs, chosen)))

    return ExportFile("ereignisprotokoll.csv", CSV_MEDIA_TYPE, "", cases, stream)


@export("audit-xes", "Ereignisprotokoll der gefilterten Vorgänge als XES (IEEE 1849-2016, Revision)",
        **case_log.FILTERS)  # fmt: skip
def audit_xes(request: ExportRequest) -> ExportFile:
    chosen, cases = _chosen(request)

    def stream(session: Session) -> Iterator[str]:
        return xes_chunks(case_log.traces(session, request.specs, chosen))

    return ExportFile("ereignisprotokoll.xes", XES_MEDIA_TYPE, "", cases, stream)


def _chosen(request: ExportRequest) -> tuple[case_log.CaseFilter, int]:
    chosen = case_log.case_filter(request.actor, request.parameters)
    return chosen, case_log.count(request.session, chosen)


def _csv_rows(traces: Iterator[case_log.Trace]) -> Iterator[tuple[object, ...]]:
    for trace in traces:
        for event in trace.events:
            yield (trace.business_key, trace.process_id, trace.version, trace.site, trace.status, event.element_id,
                   event.name, TRANSITIONS.get(event.transition, event.transition), german_time(event.at),
                   event.resource or "", event.group)  # fmt: skip


def german_time(at: datetime) -> str:
    """TT.MM.JJJJ HH:MM:SS in Europe/Berlin, as German spreadsheet programs read a date and time."""
    return at.astimezone(BERLIN).strftime("%d.%m.%Y %H:%M:%S")


def xes_chunks(traces: Iterator[case_log.Trace]) -> Iterator[str]:
    """The XES document, one chunk for the head and one per case."""
    head = ['<?xml version="1.0" encoding="UTF-8"?>\n',
            '<log xes.version="1849.2016">\n']  # fmt: skip
    head += [f"  <extension name={_q(n)} prefix={_q(p)} uri={_q(u)}/>\n" for n, p, u in EXTENSIONS]
    head.append('  <global scope="trace">\n    <string key="concept:name" value="?"/>\n  </global>\n')
    head.append('  <global scope="event">\n    <string key="concept:name" value="?"/>\n'
                '    <string key="lifecycle:transition" value="complete"/>\n'
                '    <date key="time:timestamp" value="1970-01-01T00:00:00.000+00:00"/>\n  </global>\n')  # fmt: skip
    head.append('  <classifier name="Aktivität" keys="concept:name lifecycle:transition"/>\n')
    head.append('  <string key="concept:name" value="EGS-Ereignisprotokoll"/>\n')
    head.append('  <string key="lifecycle:model" value="standard"/>\n')
    yield "".join(head)
    for trace in traces:
        yield _trace(trace)
    yield "</log>\n"


def _trace(trace: case_log.Trace) -> str:
    parts = [
        "  <trace>\n",
        _string("concept:name", trace.business_key, 4),
        _string("prozess", trace.process_id, 4),
        f'    <int key="version" value="{trace.version}"/>\n',
        _string("standort", trace.site, 4),
        _string("status", trace.status, 4),
        f'    <date key="begonnen" value="{xes_time(trace.started_at)}"/>\n',
    ]
    for event in trace.events:
        parts.append("    <event>\n")
        parts.append(_string("concept:name", event.name, 6))
        parts.append(_string("bpmn_id", event.element_id, 6))
        parts.append(_string("lifecycle:transition", event.transition, 6))
        parts.append(f'      <date key="time:timestamp" value="{xes_time(event.at)}"/>\n')
        if event.resource:
            parts.append(_string("org:resource", event.resource, 6))
        if event.group:
            parts.append(_string("org:group", event.group, 6))
        parts.append("    </event>\n")
    parts.append("  </trace>\n")
    return "".join(parts)


def xes_time(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds")


def _string(key: str, value: str, indent: int) -> str:
    return f"{' ' * indent}<string key={_q(key)} value={_q(value)}/>\n"


@functools.lru_cache(maxsize=4096)  # names, ids, groups and transitions repeat in every trace
def _q(value: str) -> str:
    return quoteattr(NOT_XML.sub("\ufffd", value), {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})
