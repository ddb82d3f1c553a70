"""Shared pieces of the workbench's lists: periods in Europe/Berlin and opaque keyset cursors.

A cursor carries the sort key of the last row of a page; one this module did not encode (or of another
sort order) is refused with ``BadRequestError`` (the web answers 400), as the inbox's cursors are.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from . import clock
from .errors import BadRequestError

CURSOR_MAX_LENGTH = 300
BAD_CURSOR = "Der Verweis auf die nächste Seite ist ungültig. Bitte starten Sie die Suche neu."
MAX_ID = 2**63 - 1


def day_start(day: date) -> datetime:
    """The first instant of a Berlin calendar day, as aware UTC."""
    return datetime.combine(day, time(0), clock.BERLIN).astimezone(UTC)


def day_end(day: date) -> datetime:
    """The first instant after a Berlin calendar day (exclusive end), as aware UTC."""
    return day_start(day + timedelta(days=1))


def encode(sort: str, key: list[Any]) -> str:
    raw = json.dumps([sort, key], separators=(",", ":")).encode()
    return base64.b64encode(raw, altchars=b"-_").decode("ascii")


def decode(cursor: str, sort: str, kinds: tuple[str, ...]) -> list[Any]:
    """The key of ``cursor`` for ``sort``: one value per kind ("id": a row id, "instant": an ISO timestamp).

    :raises BadRequestError: anything this module did not encode for this sort order.
    """
    try:
        if len(cursor) > CURSOR_MAX_LENGTH:
            raise ValueError("too long")
        decoded = json.loads(base64.b64decode(cursor.encode("ascii"), altchars=b"-_", validate=True))
        if not isinstance(decoded, list) or len(decoded) != 2 or decoded[0] != sort:
            raise ValueError("not a cursor of this sort order")
        key = decoded[1]
        if not isinstance(key, list) or len(key) != len(kinds):
            raise ValueError("wrong key")
        return [_value(value, kind) for value, kind in zip(key, kinds, strict=True)]
    except (ValueError, TypeError, UnicodeError, RecursionError, OverflowError) as exc:
        raise BadRequestError(BAD_CURSOR) from exc


def _value(value: object, kind: str) -> Any:
    if kind == "id":
        if type(value) is not int or not 0 <= value <= MAX_ID:
            raise ValueError("id out of range")
        return value
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("not a timestamp")
    return clock.parse_iso(value)
