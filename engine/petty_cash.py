"""The petty-cash book of each site (Handvorschusskasse, § 4.2 of the concept): service-task operations.

The book never goes below zero or above the site's cap (``handvorschuss.obergrenze``); only the custodian and
the deputy may book; the daily close records the balance.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from . import clock, permissions
from .errors import PermissionDeniedError, RuleViolationError
from .models import CashEntry, CashRegister, Grant, User
from .money import euro, to_cents
from .service_tasks import ServiceContext, operation

CASH_KINDS = {"auszahlung": -1, "rueckzahlung": 1, "einzahlung": 1}


def _register(ctx: ServiceContext, *, lock: bool = True) -> CashRegister:
    query = sa.select(CashRegister).where(CashRegister.site == ctx.site)
    register = ctx.session.scalar(query.with_for_update() if lock else query)
    if register is None:
        raise RuleViolationError(
            f"Am Standort {ctx.site} ist keine Handvorschusskasse eingerichtet – "
            "zuerst Kassenverwaltung und Vertretung festlegen."
        )
    if not permissions.may_book_petty_cash(ctx.actor, register.custodian, register.deputy):
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
            .where(User.username == username, User.active, permissions.holders_of("EGS", ctx.site))
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
