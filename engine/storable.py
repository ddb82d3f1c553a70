"""What model code may leave in a case's data: values the case state can store, within a size budget.

Scripts can build anything Python can (iterators, sets, complex numbers, a list that contains itself, a
list of 30 000 references to one 100 kB string). Such a value would break or bloat the save of the case
long after the script ran; it is refused right where it is made, with the variable's name.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from .errors import ScriptError

MAX_DATA_BYTES = 2_000_000  # the data one script may leave behind, counted as stored
MAX_DEPTH = 50
MAX_INT_BITS = 4_000  # ~1 200 decimal digits; JSON cannot hold more than 4 300 digits anyway

_SCALARS = (str, bool, int, float, datetime, date, timedelta, UUID)

# German names of the types people are most likely to produce by accident.
_TYPE_NAMES = {
    "set": "eine Menge (set) – bitte list(...) verwenden",
    "frozenset": "eine Menge (frozenset) – bitte list(...) verwenden",
    "range": "ein range-Objekt – bitte list(...) verwenden",
    "list_reverseiterator": "ein Iterator (reversed) – bitte list(...) verwenden",
    "map": "ein Iterator (map) – bitte list(...) verwenden",
    "filter": "ein Iterator (filter) – bitte list(...) verwenden",
    "zip": "ein Iterator (zip) – bitte list(...) verwenden",
    "enumerate": "ein Iterator (enumerate) – bitte list(...) verwenden",
    "generator": "ein Generator – bitte list(...) verwenden",
    "bytes": "Bytes",
    "complex": "eine komplexe Zahl",
    "Decimal": "eine Dezimalzahl (Decimal) – bitte float oder Cent als int verwenden",
}


class _Budget:
    def __init__(self, limit: int) -> None:
        self.left = limit

    def spend(self, amount: int, name: str) -> None:
        self.left -= amount
        if self.left < 0:
            raise ScriptError(
                f"Der Wert von „{name}“ ist zu groß zum Speichern (mehr als {MAX_DATA_BYTES // 1_000_000} MB)."
            )


def check_storable(data: Mapping[str, Any], names: set[str] | None = None, limit: int = MAX_DATA_BYTES) -> None:
    """Check the variables ``names`` (default: all) of ``data``.

    :raises ScriptError: naming the first variable that cannot be stored, or that is too large.
    """
    budget = _Budget(limit)
    for name in sorted(data if names is None else names & set(data)):
        _check(data[name], name, budget, set(), 0)


def _check(value: Any, name: str, budget: _Budget, path: set[int], depth: int) -> None:
    if value is None or isinstance(value, _SCALARS):
        _check_scalar(value, name, budget)
        return
    if depth >= MAX_DEPTH:
        raise ScriptError(f"Der Wert von „{name}“ ist zu tief verschachtelt (mehr als {MAX_DEPTH} Ebenen).")
    if id(value) in path:
        raise ScriptError(f"Der Wert von „{name}“ enthält sich selbst und kann nicht gespeichert werden.")
    if isinstance(value, list | tuple):
        items: Any = value
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise ScriptError(f"„{name}“: Schlüssel eines Dictionaries müssen Texte sein, nicht {_describe(key)}.")
            budget.spend(len(key) + 4, name)
        items = value.values()
    else:
        raise ScriptError(f"„{name}“ kann nicht gespeichert werden: es ist {_describe(value)}.")
    budget.spend(2 + len(value), name)
    path.add(id(value))
    for item in items:
        _check(item, name, budget, path, depth + 1)
    path.discard(id(value))


def _check_scalar(value: Any, name: str, budget: _Budget) -> None:
    if isinstance(value, str):
        budget.spend(len(value) + 2, name)
    elif isinstance(value, bool) or value is None:
        budget.spend(5, name)
    elif isinstance(value, int):
        if value.bit_length() > MAX_INT_BITS:
            raise ScriptError(f"Die Zahl in „{name}“ ist zu groß zum Speichern.")
        budget.spend(value.bit_length() // 3 + 1, name)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ScriptError(f"„{name}“ ist keine endliche Zahl ({value}) und kann nicht gespeichert werden.")
        budget.spend(24, name)
    else:
        budget.spend(48, name)


def _describe(value: Any) -> str:
    kind = type(value).__name__
    return _TYPE_NAMES.get(kind, f"ein Wert vom Typ {kind}")
