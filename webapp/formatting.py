"""Jinja filters that show dates, case values and audit actions the way German clerks read them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask

from engine import audit
from engine.auth import Actor
from engine.clock import BERLIN
from engine.forms import FieldSpec
from engine.money import euro
from engine.vocabulary import CASE_STATUSES, GROUP_NAMES, PRIORITIES, site_label

EMPTY = "–"

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.astimezone(BERLIN).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def datum(value: Any) -> str:
    """Show a date (or ISO date string) as TT.MM.JJJJ; other text is returned unchanged."""
    if value is None or value == "":
        return ""
    parsed = _as_date(value)
    return parsed.strftime("%d.%m.%Y") if parsed else str(value)


def datumzeit(value: Any) -> str:
    """Show an instant as TT.MM.JJJJ HH:MM in Europe/Berlin (naive values are taken as UTC)."""
    if value is None or value == "":
        return ""
    instant = value
    if isinstance(value, str):
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(instant, datetime):
        return datum(value)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(BERLIN).strftime("%d.%m.%Y %H:%M")


def due_day(value: datetime) -> date:
    """The day a due instant means in Europe/Berlin: due at midnight means by the end of the day before
    (a deadline "bis 15.12." is stored as 16.12. 00:00)."""
    local = value.astimezone(BERLIN)
    return local.date() - timedelta(days=1) if (local.hour, local.minute) == (0, 0) else local.date()


def faellig(value: datetime | None) -> str:
    """A due instant as people say it: "bis 15.12.2026" for the end of a day (16.12. 00:00 or 15.12. 23:59),
    "bis 15.12.2026, 14:30 Uhr" for another time of day; "" for none."""
    if value is None:
        return ""
    local = value.astimezone(BERLIN)
    if (local.hour, local.minute) in ((0, 0), (23, 59)):
        return f"bis {due_day(value).strftime('%d.%m.%Y')}"
    return f"bis {local.strftime('%d.%m.%Y, %H:%M')} Uhr"


def faellig_tag(value: datetime | None) -> str:
    """The day of ``faellig`` as TT.MM.JJJJ (the value of a due-date input)."""
    return due_day(value).strftime("%d.%m.%Y") if value is not None else ""


def _number(value: float) -> str:
    text = f"{value:,.2f}" if value != int(value) else f"{int(value):,}"
    return text.replace(",", "\u202f").replace(".", ",")  # German: decimal comma, thin-space groups


def wert(value: Any, spec: FieldSpec | None = None) -> str:
    """Show a stored case value: enum labels, Ja/Nein, TT.MM.JJJJ, comma-joined lists."""
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, bool):
        return "Ja" if value else "Nein"
    if isinstance(value, list | tuple):
        return ", ".join(wert(item, spec) for item in value)
    if spec is not None and spec.options:
        labels = dict(spec.options)
        if str(value) in labels:
            return labels[str(value)]
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, date | datetime):
        return datum(value)
    if isinstance(value, str):
        is_date_field = spec is None or spec.schema.get("format") == "date"
        if is_date_field and _ISO_DATE.fullmatch(value):
            return datum(value)
        if spec is not None and spec.schema.get("format") == "date-time":
            return datumzeit(value)
        return value
    return str(value)


def aktion(action: str) -> str:
    """German name of an audit action (declared with the action in ``engine.audit``)."""
    return audit.label(action)


def status_text(status: str) -> str:
    """German name of a case status."""
    return CASE_STATUSES.get(status, status)


def berechtigungen(actor: Actor) -> str:
    """Show an actor's grants in words, e.g. 'Eingangsservice, Fachdienst 56.4; Prüfung/Datenschutz, alle Standorte'."""
    grants: Iterable[tuple[str, str]] = sorted(actor.grants)
    return "; ".join(f"{GROUP_NAMES.get(group, group)}, {site_label(site)}" for group, site in grants)


def standort(site: str) -> str:
    """A site as people name it ('Fachdienst 56.4')."""
    return site_label(site)


def prioritaet(value: int) -> str:
    """A task priority in words."""
    return PRIORITIES.get(value, str(value))


def dezimal(value: Any) -> str:
    """A decimal number with a German decimal comma (0.45 → 0,45)."""
    return str(value).replace(".", ",")


def dauer(value: Any) -> str:
    """A duration (``timedelta`` or seconds) in German: "–" (nothing measured), "45 Sek.", "12 Min.",
    "3 Std. 5 Min.", "2 Tage 4 Std."."""
    if value is None:
        return "–"
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    whole = int(round(seconds))
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} Tag{'e' if days != 1 else ''} {hours} Std."
    if hours:
        return f"{hours} Std. {minutes} Min."
    return f"{minutes} Min." if minutes else f"{secs} Sek."


def init_app(app: Flask) -> None:
    """Register the filters."""
    app.add_template_filter(datum)
    app.add_template_filter(datumzeit)
    app.add_template_filter(faellig)
    app.add_template_filter(faellig_tag)
    app.add_template_filter(wert)
    app.add_template_filter(aktion)
    app.add_template_filter(status_text, "status")
    app.add_template_filter(berechtigungen)
    app.add_template_filter(standort)
    app.add_template_filter(euro)
    app.add_template_filter(dezimal)
    app.add_template_filter(prioritaet)
    app.add_template_filter(dauer)
    app.jinja_env.globals["priorities"] = PRIORITIES
