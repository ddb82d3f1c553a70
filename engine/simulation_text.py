"""The simulation's comparison as plain text, for ``egs simulate``."""

from __future__ import annotations

from .simulation_report import SimulationReport


def _number(value: float | None, places: int = 1) -> str:
    return "–" if value is None else f"{value:.{places}f}".replace(".", ",")


def simulation_text(report: SimulationReport) -> str:
    """A German table of both scenarios and the answer to "wie viele VZÄ brauchen wir"."""
    first, last = report.days[0].strftime("%d.%m.%Y"), report.days[-1].strftime("%d.%m.%Y")
    rows = [
        ("VZÄ anwesend (Mittel je Tag)", [_number(s.vzae, 2) for s in report.scenarios]),
        ("Fälle", [_number(s.cases, 0) for s in report.scenarios]),
        ("EGS-Aufgaben", [_number(s.tasks, 0) for s in report.scenarios]),
        ("Rückstand am Ende", [_number(s.backlog[-1], 0) for s in report.scenarios]),
        ("Wartezeit Erstkontakt, Mittel (AT)", [_number(s.wait_mean_days, 2) for s in report.scenarios]),
        ("Wartezeit Erstkontakt, 90 % (AT)", [_number(s.wait_p90_days, 2) for s in report.scenarios]),
        (
            "Verspätete EGS-Aufgaben",
            [f"{_number(s.overdue, 0)} ({_number(s.overdue_share * 100)} %)" for s in report.scenarios],
        ),  # fmt: skip
        ("Auslastung", [f"{_number(s.utilisation * 100, 0)} %" for s in report.scenarios]),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"Standort {report.site}, {first} bis {last} (20 Arbeitstage)", _staff_line(report), ""]
    lines.append(" " * width + "".join(f" | {s.title:>30}" for s in report.scenarios))
    lines.extend(f"{label:<{width}}" + "".join(f" | {value:>30}" for value in values) for label, values in rows)
    lines.append("")
    if report.vzae_needed is not None:
        lines.append(f"Benötigte VZÄ im EGS, um die Frist zu halten: {_number(report.vzae_needed)}")
    elif report.timed_out:
        lines.append(
            "Die Rechenzeit reichte nicht, um die benötigten VZÄ zu finden (weniger Läufe oder später erneut)."
        )
    else:
        lines.append(f"Auch mit {_number(report.search_limit)} VZÄ wird die Frist nicht gehalten.")
    if report.capped or report.timed_out:
        lines.append("Hinweis: begrenzt (Fallzahl oder Rechenzeit); die Zahlen sind unvollständig.")
    lines.append(f"Rechenzeit: {report.elapsed_ms} ms")
    return "\n".join(lines)


def _staff_line(report: SimulationReport) -> str:
    staff = report.staff
    if report.staff_source == "bestand" and staff is not None:
        people = sum(1 for p in staff.people if p.function == "EGS")
        return (f"Personal aus dem Personalbestand: {people} EGS-Beschäftigte, {_number(staff.on_books, 2)} VZÄ, "
                f"{_number(staff.absence_vzae_days, 1)} VZÄ-Tage abwesend; {staff.mode_label}")  # fmt: skip
    return "Personal wie eingegeben (VZÄ und Abwesenheitstage)"
