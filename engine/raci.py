"""The RACI-style matrix of the deployed models: which unit performs each step and what part EGS plays."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from .versions import SpecCache, newest_versions
from .vocabulary import WORK_AREAS

HEADER = ("Prozess", "Version", "Schritt", "Art", "Durchführende Einheit", "Rolle des EGS", "Aufgabenbereich (§ 6)")
KIND = {
    "userTask": "Benutzeraufgabe",
    "manualTask": "manuelle Aufgabe",
    "scriptTask": "automatisch",
    "serviceTask": "automatisch",
    "businessRuleTask": "Entscheidungstabelle",
    "sendTask": "Nachricht",
    "receiveTask": "Nachricht",
    "callActivity": "Teilprozess",
    "subProcess": "Teilprozess",
    "task": "Aufgabe",
}


@dataclass(frozen=True)
class RaciRow:
    """One step of one process."""

    process: str
    version: int
    step: str
    kind: str
    unit: str
    egs_role: str
    area: str = "–"  # the step's area of the VZÄ plan (model property egsBereich of the process or the task)

    def cells(self) -> tuple[str, ...]:
        return (self.process, str(self.version), self.step, self.kind, self.unit, self.egs_role, self.area)


def raci_rows(session: Session, specs: SpecCache) -> list[RaciRow]:
    """Rows for the newest version of every deployed process, in model order per process, each with the title
    of its area of the VZÄ plan as the model names it."""
    rows: list[RaciRow] = []
    for version in newest_versions(session, specs):
        tasks = sorted(version.model.tasks.values(), key=lambda t: (t.filename, t.line or 0))
        for task in tasks:
            rows.append(
                RaciRow(
                    version.name,
                    version.version,
                    task.name,
                    KIND.get(task.tag, task.tag),
                    task.lane or "–",
                    task.egs_role or "–",
                    WORK_AREAS.get(version.model.area_of(task.bpmn_id) or "", "–"),
                )
            )
    return sorted(rows, key=lambda r: r.process)


def as_table(rows: list[RaciRow]) -> str:
    """The matrix as an aligned text table."""
    table = [HEADER, *(row.cells() for row in rows)]
    widths = [max(len(r[i]) for r in table) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip() for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
