"""Amounts as integer cents: read from model data (positive, at most two decimals), shown the German way."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import RuleViolationError


def to_cents(value: Any, what: str = "Betrag") -> int:
    """A positive amount with at most two decimals, as cents.

    :raises RuleViolationError:
    """
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise RuleViolationError(f"{what} ist keine Zahl: {value!r}") from exc
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise RuleViolationError(f"{what} muss größer als 0 sein und darf höchstens zwei Nachkommastellen haben.")
    return int(amount * 100)


def cents_text(cents: int) -> str:
    """An amount as a spreadsheet reads it in German: 1234,56 (no grouping, no currency sign)."""
    return f"{cents / 100:.2f}".replace(".", ",")


def euro(cents: int) -> str:
    """German display of an amount: 1.234,56 €."""
    text = f"{cents / 100:,.2f}".replace(",", "\u202f").replace(".", ",")
    return f"{text} €"
