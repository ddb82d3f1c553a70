"""Service tasks: the registry of operations models may call, and the operations themselves.

A ``bpmn:serviceTask`` names an operation and its parameters (Python expressions over the case data).
Operations run in the transaction of the step that reached them, with the case and the acting user
bound by the engine; when an operation refuses (RuleViolationError, PermissionDeniedError), the step
is refused and nothing is stored. Amounts are handled as integer cents.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import clock
from .errors import PermissionDeniedError, RuleViolationError, ScriptError
from .konfiguration import Konfiguration
from .models import CashEntry, CashRegister, Grant, PaymentListEntry, User


@dataclass(frozen=True)
class ServiceContext:
    """The case and user an operation acts for."""

    session: Session
    instance_id: int | None
    business_key: str | None
    site: str
    actor: str
    konfig: Konfiguration


@dataclass(frozen=True)
class Operation:
    """A registered operation: its parameters and implementation."""

    name: str
    params: tuple[str, ...]
    function: Callable[..., dict[str, Any]]
    description: str


REGISTRY: dict[str, Operation] = {}
_context: ContextVar[ServiceContext | None] = ContextVar("egs_service_context", default=None)


def operation(name: str, *params: str) -> Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]]:
    """Register ``function(ctx, **params)`` as operation ``name``."""

    def register(function: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        REGISTRY[name] = Operation(name, params, function, (function.__doc__ or "").strip().splitlines()[0])
        return function

    return register


@contextmanager
def bound(context: ServiceContext) -> Iterator[None]:
    """Let operations called in this block act for ``context``."""
    token = _context.set(context)
    try:
        yield
    finally:
        _context.reset(token)


def call(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Run an operation for the bound case.

    :raises ScriptError: unknown operation, wrong parameters or no case bound.
    :raises RuleViolationError, PermissionDeniedError: the operation refuses.
    """
    op = REGISTRY.get(name)
    if op is None:
        raise ScriptError(f"Unbekannte Service-Operation '{name}'.")
    if set(params) != set(op.params):
        raise ScriptError(f"'{name}' erwartet die Parameter {', '.join(op.params) or '(keine)'}.")
    context = _context.get()
    if context is None:
        raise ScriptError(f"'{name}' kann nur innerhalb eines Vorgangs aufgerufen werden.")
    return op.function(context, **params)


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


def euro(cents: int) -> str:
    """German display of an amount: 1.234,56 €."""
    text = f"{cents / 100:,.2f}".replace(",", "\u202f").replace(".", ",")
    return f"{text} €"


# --- Handvorschusskasse -------------------------------------------------------------------------------------

CASH_KINDS = {"auszahlung": -1, "rueckzahlung": 1, "einzahlung": 1}


def _register(ctx: ServiceContext, *, lock: bool = True) -> CashRegister:
    query = sa.select(CashRegister).where(CashRegister.site == ctx.site)
    register = ctx.session.scalar(query.with_for_update() if lock else query)
    if register is None:
        raise RuleViolationError(
            f"Am Standort {ctx.site} ist keine Handvorschusskasse eingerichtet – "
            "zuerst Kassenverwaltung und Vertretung festlegen."
        )
    if ctx.actor not in (register.custodian, register.deputy):
        raise PermissionDeniedError(
            f"Buchen dürfen nur die Kassenverwaltung ({register.custodian}) und ihre Vertretung ({register.deputy})."
        )
    return register


def _book(ctx: ServiceContext, register: CashRegister, kind: str, amount: int, purpose: str) -> CashEntry:
    entry = CashEntry(
        site=ctx.site,
        occurred_at=clock.now(),
        kind=kind,
        amount_cents=amount,
        balance_after_cents=register.balance_cents,
        purpose=purpose[:300],
        actor=ctx.actor,
        instance_id=ctx.instance_id,
        business_key=ctx.business_key,
    )
    ctx.session.add(entry)
    ctx.session.flush()
    return entry


@operation("handvorschuss.buchen", "art", "betrag", "zweck")
def cash_booking(ctx: ServiceContext, art: str, betrag: Any, zweck: str) -> dict[str, Any]:
    """Book a payout, repayment or top-up in the site's petty-cash book (never below 0, never above the cap)."""
    if art not in CASH_KINDS:
        raise RuleViolationError(f"Unbekannte Buchungsart '{art}' (erlaubt: {', '.join(CASH_KINDS)}).")
    amount = to_cents(betrag)
    register = _register(ctx)
    new_balance = register.balance_cents + CASH_KINDS[art] * amount
    if new_balance < 0:
        raise RuleViolationError(
            f"Auszahlung von {euro(amount)} übersteigt den Kassenbestand von {euro(register.balance_cents)}."
        )
    cap = to_cents(ctx.konfig.get("handvorschuss.obergrenze")[ctx.site], "Obergrenze")
    if new_balance > cap:
        raise RuleViolationError(
            f"Der Kassenbestand von {euro(new_balance)} läge über der Obergrenze von {euro(cap)} des Standorts."
        )
    register.balance_cents = new_balance
    register.updated_at = clock.now()
    entry = _book(ctx, register, art, amount, str(zweck or ""))
    return {"saldo": new_balance / 100, "buchung": entry.id}


@operation("handvorschuss.verantwortliche_setzen", "verwalter", "vertretung")
def cash_custodians(ctx: ServiceContext, verwalter: str, vertretung: str) -> dict[str, Any]:
    """Set custodian and deputy of the site's petty cash (two different EGS members of the site)."""
    if not verwalter or verwalter == vertretung:
        raise RuleViolationError("Kassenverwaltung und Vertretung müssen zwei verschiedene Personen sein.")
    for username in (verwalter, vertretung):
        member = ctx.session.scalar(
            sa.select(User.id)
            .join(Grant, Grant.user_id == User.id)
            .where(User.username == username, User.active, Grant.group_code == "EGS", Grant.site.in_((ctx.site, "*")))
        )
        if member is None:
            raise RuleViolationError(f"'{username}' gehört nicht zum EGS des Standorts {ctx.site}.")
    register = ctx.session.scalar(sa.select(CashRegister).where(CashRegister.site == ctx.site).with_for_update())
    if register is None:
        register = CashRegister(site=ctx.site, balance_cents=0, updated_at=clock.now())
        ctx.session.add(register)
    register.custodian, register.deputy, register.updated_at = verwalter, vertretung, clock.now()
    ctx.session.flush()
    return {"verwalter": verwalter, "vertretung": vertretung}


@operation("handvorschuss.tagesabschluss")
def cash_daily_close(ctx: ServiceContext) -> dict[str, Any]:
    """Close the day: count today's bookings and record the balance."""
    register = _register(ctx)
    today = clock.today_berlin()
    start = clock.parse_iso(today.isoformat() + "T00:00:00")
    bookings = ctx.session.scalar(
        sa.select(sa.func.count())
        .select_from(CashEntry)
        .where(CashEntry.site == ctx.site, CashEntry.occurred_at >= start, CashEntry.kind.in_(tuple(CASH_KINDS)))
    )
    _book(ctx, register, "abschluss", 0, f"Tagesabschluss {today.strftime('%d.%m.%Y')}")
    return {"datum": today.isoformat(), "saldo": register.balance_cents / 100, "buchungen": int(bookings or 0)}


# --- Sammellisten (IFK support) -------------------------------------------------------------------------------

MEASURE_TYPES = ("EGZ", "EQ", "16e")


@operation("sammelliste.eintragen", "massnahmeart", "empfaenger", "betrag", "zahlmonat")
def payment_list_entry(
    ctx: ServiceContext, massnahmeart: str, empfaenger: str, betrag: Any, zahlmonat: str
) -> dict[str, Any]:
    """Put an approved payment on the monthly Sammelliste of its measure type."""
    if massnahmeart not in MEASURE_TYPES:
        raise RuleViolationError(f"Unbekannte Maßnahmeart '{massnahmeart}' (erlaubt: {', '.join(MEASURE_TYPES)}).")
    if not isinstance(zahlmonat, str) or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", zahlmonat):
        raise RuleViolationError(f"Zahlmonat '{zahlmonat}' hat nicht die Form JJJJ-MM.")
    if not str(empfaenger or "").strip():
        raise RuleViolationError("Der Zahlungsempfänger fehlt.")
    entry = PaymentListEntry(
        site=ctx.site,
        measure_type=massnahmeart,
        pay_month=zahlmonat,
        recipient=str(empfaenger).strip()[:200],
        amount_cents=to_cents(betrag),
        instance_id=ctx.instance_id,
        business_key=ctx.business_key,
        approved_by=ctx.actor,
        created_at=clock.now(),
    )
    ctx.session.add(entry)
    ctx.session.flush()
    return {"eintrag": entry.id}
