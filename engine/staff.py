"""Staff and absences per site (§ 6/§ 7): entered by the site's leads (TL, FDL) or read from CSV; audited.

An absence is a date range with a kind only (Urlaub, Krankheit, Fortbildung, sonstige): no reasons, no
health details (data minimisation).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import audit, clock, permissions
from .audit import Action
from .auth import Actor
from .errors import NotFoundError, PermissionDeniedError, RuleViolationError
from .staff_models import Absence, StaffMember
from .vocabulary import SITES

FUNCTIONS = {
    "EGS": "Eingangsservice",
    "LSB": "Leistungssachbearbeitung",
    "IFK": "Integrationsfachkraft",
    "TL": "Teamleitung",
    "FDL": "Fachdienstleitung",
}
ABSENCE_KINDS = {"urlaub": "Urlaub", "krankheit": "Krankheit", "fortbildung": "Fortbildung", "sonstige": "sonstige"}
MAX_WEEKLY_HOURS = Decimal(48)
MAX_IMPORT_ROWS = 2000


@dataclass(frozen=True)
class AbsenceRow:
    id: int
    first_day: date
    last_day: date
    kind: str

    @property
    def kind_label(self) -> str:
        return ABSENCE_KINDS.get(self.kind, self.kind)


@dataclass(frozen=True)
class StaffRow:
    id: int
    site: str
    name: str
    function: str
    weekly_hours: Decimal
    start_date: date
    end_date: date | None
    username: str | None
    absences: tuple[AbsenceRow, ...]

    def employed_on(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)

    def absent_on(self, day: date) -> AbsenceRow | None:
        return next((a for a in self.absences if a.first_day <= day <= a.last_day), None)


@dataclass(frozen=True)
class StaffInput:
    """One person as entered in the form or read from a CSV row."""

    name: str
    function: str
    weekly_hours: Decimal
    start_date: date
    end_date: date | None = None
    username: str | None = None


def _require_site(actor: Actor, site: str) -> None:
    if site not in SITES:
        raise NotFoundError(f"Unbekannter Standort: {site}")
    if not permissions.may_manage_staff(actor, site):
        raise PermissionDeniedError("Personal und Abwesenheiten pflegt die Leitung des Standorts (TL, FDL).")


def _check(person: StaffInput) -> None:
    if not person.name.strip() or len(person.name) > 200:
        raise RuleViolationError("Bitte einen Namen (höchstens 200 Zeichen) angeben.")
    if person.function not in FUNCTIONS:
        raise RuleViolationError(f"Unbekannte Funktion '{person.function}' (erlaubt: {', '.join(FUNCTIONS)}).")
    if not person.weekly_hours.is_finite() or not Decimal(0) < person.weekly_hours <= MAX_WEEKLY_HOURS:
        raise RuleViolationError(f"Wochenstunden müssen über 0 und höchstens {MAX_WEEKLY_HOURS} sein.")
    if person.end_date is not None and person.end_date < person.start_date:
        raise RuleViolationError("Das Ende der Beschäftigung liegt vor ihrem Beginn.")


def add_staff(session: Session, actor: Actor, site: str, person: StaffInput) -> int:
    """Add a person to the site's staff; audited (name, function, hours, term).

    :raises PermissionDeniedError: not a lead of the site. :raises RuleViolationError: invalid values.
    """
    _require_site(actor, site)
    _check(person)
    row = StaffMember(
        site=site, name=person.name.strip(), function=person.function, weekly_hours=person.weekly_hours,
        start_date=person.start_date, end_date=person.end_date, username=person.username or None,
        created_at=clock.now(),
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(session, Action.STAFF_SAVED, actor.username, details={
        "standort": site, "beschaeftigte_id": row.id, "funktion": row.function,
        "wochenstunden": str(row.weekly_hours), "beginn": row.start_date, "ende": row.end_date})  # fmt: skip
    return row.id


def _staff(session: Session, actor: Actor, staff_id: int) -> StaffMember:
    row = session.get(StaffMember, staff_id)
    if row is None:
        raise NotFoundError("Diese Person gibt es im Personalbestand nicht.")
    _require_site(actor, row.site)
    return row


def add_absence(session: Session, actor: Actor, staff_id: int, first_day: date, last_day: date, kind: str) -> int:
    """Record an absence (date range and kind only); audited.

    :raises RuleViolationError: unknown kind, range reversed or longer than a year.
    """
    person = _staff(session, actor, staff_id)
    if kind not in ABSENCE_KINDS:
        raise RuleViolationError(f"Unbekannte Art der Abwesenheit (erlaubt: {', '.join(ABSENCE_KINDS.values())}).")
    if last_day < first_day:
        raise RuleViolationError("Das Ende der Abwesenheit liegt vor ihrem Beginn.")
    if (last_day - first_day).days > 366:
        raise RuleViolationError("Eine Abwesenheit darf höchstens ein Jahr umfassen.")
    row = Absence(staff_id=person.id, first_day=first_day, last_day=last_day, kind=kind,
                  created_by=actor.username, created_at=clock.now())  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(session, Action.ABSENCE_SAVED, actor.username, details={
        "standort": person.site, "beschaeftigte_id": person.id, "von": first_day, "bis": last_day,
        "art": kind})  # fmt: skip
    return row.id


def delete_absence(session: Session, actor: Actor, absence_id: int) -> None:
    """Delete an absence entered by mistake; audited."""
    row = session.get(Absence, absence_id)
    if row is None:
        raise NotFoundError("Diese Abwesenheit gibt es nicht (mehr).")
    person = _staff(session, actor, row.staff_id)
    audit.record(session, Action.ABSENCE_DELETED, actor.username, details={
        "standort": person.site, "beschaeftigte_id": person.id, "von": row.first_day, "bis": row.last_day,
        "art": row.kind})  # fmt: skip
    session.delete(row)


def roster(session: Session, site: str) -> list[StaffRow]:
    """Everybody of a site with their absences, by function and name (no permission check: callers check)."""
    people = session.scalars(
        sa.select(StaffMember).where(StaffMember.site == site).order_by(StaffMember.function, StaffMember.name)
    ).all()
    absences: dict[int, list[AbsenceRow]] = {}
    if people:
        rows = session.scalars(
            sa.select(Absence).where(Absence.staff_id.in_([p.id for p in people])).order_by(Absence.first_day)
        )
        for a in rows:
            absences.setdefault(a.staff_id, []).append(AbsenceRow(a.id, a.first_day, a.last_day, a.kind))
    return [
        StaffRow(
            p.id,
            p.site,
            p.name,
            p.function,
            Decimal(p.weekly_hours),
            p.start_date,
            p.end_date,
            p.username,
            tuple(absences.get(p.id, ())),
        )  # fmt: skip
        for p in people
    ]


# --- CSV ------------------------------------------------------------------------------------------------------


def parse_day(text: str) -> date:
    """A date as TT.MM.JJJJ (as people write it) or JJJJ-MM-TT. :raises RuleViolationError: neither."""
    text = text.strip()
    try:
        if "." in text:
            day, month, year = text.split(".")
            return date(int(year), int(month), int(day))
        return date.fromisoformat(text)
    except ValueError:
        raise RuleViolationError(f"'{text[:20]}' ist kein Datum (TT.MM.JJJJ).") from None


def _hours(text: str) -> Decimal:
    try:
        return Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise RuleViolationError(f"'{text[:20]}' ist keine Stundenzahl.") from None


STAFF_COLUMNS = ("name", "funktion", "wochenstunden", "beginn")
ABSENCE_COLUMNS = ("name", "von", "bis", "art")


def import_csv(session: Session, actor: Actor, site: str, text: str) -> tuple[int, int]:
    """Read staff (columns name, funktion, wochenstunden, beginn[, ende, benutzer]) or absences (name, von,
    bis, art) of a site from CSV (';' or ','); all rows or none. Returns (people added, absences added).

    :raises RuleViolationError: with the line number of the first bad row; nothing is stored then.
    """
    _require_site(actor, site)
    first_line = text.splitlines()[0] if text.strip() else ""
    reader = csv.DictReader(io.StringIO(text), delimiter=";" if first_line.count(";") >= first_line.count(",") else ",")
    header = [h.strip().lower() for h in reader.fieldnames or ()]
    reader.fieldnames = header
    people = absences = 0
    if set(STAFF_COLUMNS) <= set(header):
        kind = "staff"
    elif set(ABSENCE_COLUMNS) <= set(header):
        kind = "absence"
    else:
        raise RuleViolationError(
            "Unbekannte Spalten. Personal: name;funktion;wochenstunden;beginn[;ende;benutzer] – "
            "Abwesenheiten: name;von;bis;art."
        )
    by_name = {p.name: p.id for p in roster(session, site)}
    for line, row in enumerate(reader, start=2):
        if line > MAX_IMPORT_ROWS + 1:
            raise RuleViolationError(f"Höchstens {MAX_IMPORT_ROWS} Zeilen je Datei.")
        try:
            values = {k: (v or "").strip() for k, v in row.items() if k}
            if kind == "staff":
                person = StaffInput(
                    values["name"], values["funktion"].upper(), _hours(values["wochenstunden"]),
                    parse_day(values["beginn"]), parse_day(values["ende"]) if values.get("ende") else None,
                    values.get("benutzer") or None,
                )  # fmt: skip
                by_name[person.name] = add_staff(session, actor, site, person)
                people += 1
            else:
                if values["name"] not in by_name:
                    raise RuleViolationError(f"'{values['name'][:60]}' gehört nicht zum Personal des Standorts.")
                add_absence(session, actor, by_name[values["name"]], parse_day(values["von"]),
                            parse_day(values["bis"]), values["art"].lower())  # fmt: skip
                absences += 1
        except RuleViolationError as exc:
            raise RuleViolationError(f"Zeile {line}: {exc.message}") from None
    audit.record(session, Action.STAFF_IMPORTED, actor.username,
                 details={"standort": site, "personen": people, "abwesenheiten": absences})  # fmt: skip
    return people, absences
