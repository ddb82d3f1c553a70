"""Named exports: one registry for the command line (``egs export NAME``) and the web (``/export/NAME``).

An export takes text parameters, checks them and the reader's permission, and produces a file. Running an
export through ``run`` records it in the audit trail with its parameters and its number of rows. CSV files
are written for German spreadsheet programs: ``;`` as separator, UTF-8 with a byte-order mark, and no cell
that a spreadsheet would evaluate as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from . import audit, payment_lists, raci
from .audit import Action
from .auth import Actor
from .errors import FormValidationError, NotFoundError
from .konfiguration import Konfiguration
from .money import cents_text
from .versions import SpecCache

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XES_MEDIA_TYPE = "application/xml; charset=utf-8"


@dataclass(frozen=True)
class ExportFile:
    """What an export produced: a file name, its media type, its text and how many data rows it holds.

    A large export (``audit_exports``) has no text but a ``stream``: given a read session, it yields the file
    piece by piece (``Engine.export_chunks`` runs it after the export was recorded)."""

    filename: str
    media_type: str
    content: str
    rows: int
    stream: Callable[[Session], Iterator[str]] | None = None


@dataclass(frozen=True)
class ExportRequest:
    """Who asks for an export, with what, inside which transaction."""

    session: Session
    specs: SpecCache
    actor: Actor
    parameters: Mapping[str, str]
    konfig: Konfiguration | None = None  # the business configuration, for exports that compute with it
    purpose: Mapping[str, str] | None = None  # the auditor's purpose of the sitting (``audit_purpose``), if stated


@dataclass(frozen=True)
class Export:
    """A registered export: its name, German title, parameters (name → German description) and builder."""

    name: str
    title: str
    parameters: Mapping[str, str]
    build: Callable[[ExportRequest], ExportFile]


REGISTRY: dict[str, Export] = {}


def export(name: str, title: str, **parameters: str) -> Callable[[Callable[[ExportRequest], ExportFile]], Export]:
    """Register the decorated builder as export ``name``."""

    def register(build: Callable[[ExportRequest], ExportFile]) -> Export:
        REGISTRY[name] = Export(name, title, parameters, build)
        return REGISTRY[name]

    return register


def run(request: ExportRequest, name: str) -> ExportFile:
    """Build export ``name`` and record it in the audit trail (within the request's transaction).

    :raises NotFoundError: unknown export. :raises FormValidationError: unknown or invalid parameters.
    :raises PermissionDeniedError: the actor may not read what it holds.
    """
    found = REGISTRY.get(name)
    if found is None:
        raise NotFoundError(f"Den Export „{name}“ gibt es nicht (vorhanden: {', '.join(sorted(REGISTRY))}).")
    unknown = sorted(set(request.parameters) - set(found.parameters))
    if unknown:
        raise FormValidationError({key: ["Unbekannter Parameter für diesen Export."] for key in unknown})
    result = found.build(request)
    record(request, name, result.rows, "xes" if result.media_type == XES_MEDIA_TYPE else "csv")
    return result


def record(request: ExportRequest, name: str, rows: int, output: str) -> None:
    """Audit that ``request.actor`` retrieved export ``name`` (as a file or a page)."""
    audit.record(
        request.session,
        Action.EXPORT,
        request.actor.username,
        details={"export": name, "parameters": dict(request.parameters), "rows": rows, "format": output,
                 **(request.purpose or {})},
    )  # fmt: skip


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: str) -> str:
    """A cell a spreadsheet program shows as text: one that would start a formula gets a leading apostrophe
    (names and task titles come from people and models; "=HYPERLINK(…)" must not run when the file opens)."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def csv_text(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """CSV for German spreadsheet programs: semicolons, a BOM so that umlauts survive, one line per row, no
    cell that a spreadsheet would run as a formula."""
    return "".join(csv_lines(header, rows))


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]], per_chunk: int = 500) -> Iterator[str]:
    """``csv_text`` piece by piece (``per_chunk`` rows at a time): the one writer of every CSV of the platform."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow([spreadsheet_safe(str(cell)) for cell in header])
    for number, row in enumerate(rows, 1):
        writer.writerow([spreadsheet_safe(str(cell)) for cell in row])
        if number % per_chunk == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


@export(
    "sammelliste",
    "Sammelliste (Zahlungen einer Maßnahmeart je Monat und Standort)",
    standort="Standort, z. B. 56.4",
    art="Maßnahmeart: EGZ, EQ oder 16e",
    monat="Zahlmonat als JJJJ-MM",
)
def payment_list_csv(request: ExportRequest) -> ExportFile:
    result = _payment_list(request)
    header = ("Standort", "Maßnahmeart", "Zahlmonat", "Vorgang", "Zahlungsempfänger", "Betrag (EUR)",
              "bewilligt von", "Storno")  # fmt: skip
    rows = [
        (result.site, result.measure_type, result.month, line.business_key or "", line.recipient,
         cents_text(line.amount_cents), line.approved_by, cancellation_text(line))
        for line in result.lines
    ]  # fmt: skip
    left_out = "ohne stornierte Zahlungen" if result.payable_count < len(result.lines) else ""
    rows.append(("", "", "", "", "Summe", cents_text(result.total_cents), "", left_out))
    filename = f"sammelliste_{result.measure_type}_{result.month}_{result.site}.csv"
    return ExportFile(filename, CSV_MEDIA_TYPE, csv_text(header, rows), len(result.lines))


def cancellation_text(line: payment_lists.PaymentLine) -> str:
    """The Storno column: a cancelled payment (out of the sum) or a cancellation still to be confirmed."""
    if line.cancelled:
        people = f"beantragt von {line.cancel_requested_by}, bestätigt von {line.cancelled_by}"
        return f"storniert: {line.cancel_reason} ({people})"
    if line.cancel_pending:
        return f"Stornierung beantragt von {line.cancel_requested_by}, noch nicht bestätigt ({line.cancel_reason})"
    return ""


def payment_list_page(request: ExportRequest) -> payment_lists.PaymentList:
    """A Sammelliste for its printable page: read like the CSV export, and audited the same way."""
    result = _payment_list(request)
    record(request, "sammelliste", len(result.lines), "html")
    return result


def _payment_list(request: ExportRequest) -> payment_lists.PaymentList:
    params = request.parameters
    return payment_lists.read(
        request.session, request.actor, params.get("standort", ""), params.get("art", ""), params.get("monat", "")
    )


@export("raci", "RACI-Matrix der bereitgestellten Prozesse (Schritt, Einheit, Rolle des EGS)")
def raci_csv(request: ExportRequest) -> ExportFile:
    rows = raci.raci_rows(request.session, request.specs)
    return ExportFile("raci-matrix.csv", CSV_MEDIA_TYPE, csv_text(raci.HEADER, [r.cells() for r in rows]), len(rows))
