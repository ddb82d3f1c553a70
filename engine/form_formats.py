"""The formats our forms know (German numbers and ids, dates) and reading dates as clerks type them.

``FORMAT_CHECKER`` checks the JSON Schema ``format`` keywords: ``date``, ``date-time`` (with an offset),
``iban``, ``steuer-id``, ``rvnr`` (Rentenversicherungsnummer) and ``plz``. ``parse_date_input`` and
``parse_date_time_input`` read TT.MM.JJJJ [HH:MM] in Europe/Berlin; ``date_input_problem`` says in German why
a typed date could not be read (a day that does not exist, such as 31.02.2025, is not a format error).
"""

from __future__ import annotations

import re
from datetime import date, datetime

from jsonschema import FormatChecker

from .clock import BERLIN

FORMAT_CHECKER = FormatChecker()


def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    date.fromisoformat(value)
    return True


def _is_iban(value: object) -> bool:
    if not isinstance(value, str):
        return True
    iban = value.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", iban):
        return False
    digits = "".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])
    return int(digits) % 97 == 1


def _is_steuer_id(value: object) -> bool:
    """German tax id: 11 digits, first not 0, ISO 7064 MOD 11,10 check digit."""
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"[1-9]\d{10}", value):
        return False
    product = 10
    for digit in value[:10]:
        total = (int(digit) + product) % 10 or 10
        product = (total * 2) % 11
    check = (11 - product) % 10
    return check == int(value[10])


def _is_rvnr(value: object) -> bool:
    """Rentenversicherungsnummer: area, birth date, initial letter, serial, check digit (weights 2121…)."""
    if not isinstance(value, str):
        return True
    number = value.replace(" ", "").upper()
    if not re.fullmatch(r"\d{8}[A-Z]\d{3}", number):
        return False
    digits = number[:8] + f"{ord(number[8]) - 64:02d}" + number[9:11]
    weights = (2, 1, 2, 5, 7, 1, 2, 1, 2, 1, 2, 1)
    total = sum(sum(divmod(int(d) * w, 10)) for d, w in zip(digits, weights, strict=True))
    return total % 10 == int(number[11])


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _is_plz(value: object) -> bool:
    return not isinstance(value, str) or bool(re.fullmatch(r"\d{5}", value))


FORMAT_CHECKER.checks("date", raises=ValueError)(_is_date)
FORMAT_CHECKER.checks("iban")(_is_iban)
FORMAT_CHECKER.checks("steuer-id")(_is_steuer_id)
FORMAT_CHECKER.checks("plz")(_is_plz)
FORMAT_CHECKER.checks("rvnr")(_is_rvnr)
FORMAT_CHECKER.checks("date-time")(_is_date_time)


_GERMAN_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


def parse_date_time_input(text: str) -> str | None:
    """Read TT.MM.JJJJ HH:MM (Europe/Berlin) or an ISO timestamp; return ISO with offset, or None."""
    match = re.fullmatch(r"(\d{1,2}\.\d{1,2}\.\d{4})[ ,]+(\d{1,2}):(\d{2})", text.strip())
    try:
        if match:
            day = parse_date_input(match.group(1))
            if day is None:
                return None
            local = datetime.fromisoformat(day).replace(hour=int(match.group(2)), minute=int(match.group(3)))
            return local.replace(tzinfo=BERLIN).isoformat()
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=BERLIN)).isoformat()


def nonexistent_day(text: str) -> bool:
    """Whether ``text`` is written like a date (TT.MM.JJJJ or JJJJ-MM-TT) but names a day that does not exist."""
    text = text.strip()
    match = _GERMAN_DATE.fullmatch(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
    elif iso := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text):
        year, month, day = (int(g) for g in iso.groups())
    else:
        return False
    try:
        date(year, month, day)
    except ValueError:
        return True
    return False


def date_input_problem(text: str, with_time: bool = False) -> str:
    """The German message for a date (``with_time``: date and time) that could not be read."""
    day = text.strip().split(" ")[0].split(",")[0]
    if nonexistent_day(day):
        return f"Den {day} gibt es nicht – bitte ein gültiges Datum eingeben."
    if with_time:
        return "Bitte Datum und Uhrzeit im Format TT.MM.JJJJ HH:MM eingeben."
    return "Bitte ein Datum im Format TT.MM.JJJJ eingeben."


def parse_date_input(text: str) -> str | None:
    """Read a date typed as TT.MM.JJJJ (or ISO JJJJ-MM-TT) and return it as ISO, or None if invalid."""
    match = _GERMAN_DATE.fullmatch(text.strip())
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day).isoformat()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        return None
    return None
