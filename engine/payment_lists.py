"""Sammellisten (IFK support, § 4.4 of the concept): approved payments of a measure type per month and site.

The service-task operation ``sammelliste.eintragen`` puts an approved payment on its list; ``payment_list``
reads a list back (for the printable page and the export).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import clock, permissions
from .auth import Actor
from .errors import FormValidationError, PermissionDeniedError, RuleViolationError
from .models import PaymentListEntry
from .money import to_cents
from .service_tasks import ServiceContext, operation
from .vocabulary import MEASURE_TYPES, SITES, is_month


@operation("sammelliste.eintragen", "massnahmeart", "empfaenger", "betrag", "zahlmonat")
def payment_list_entry(
    ctx: ServiceContext, massnahmeart: str, empfaenger: str, betrag: Any, zahlmonat: str
) -> dict[str, Any]:
    """Put an approved payment on the monthly Sammelliste of its measure type."""
    if massnahmeart not in MEASURE_TYPES:
        raise RuleViolationError(f"Unbekannte Maßnahmeart '{massnahmeart}' (erlaubt: {', '.join(MEASURE_TYPES)}).")
    if not is_month(zahlmonat):
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


@dataclass(frozen=True)
class PaymentLine:
    """One payment on a Sammelliste; a cancelled one stays on the list, marked, and out of the sum."""

    business_key: str | None
    recipient: str
    amount_cents: int
    approved_by: str
    entry_id: int = 0
    cancel_reason: str | None = None
    cancel_requested_by: str | None = None
    cancelled_by: str | None = None
    cancelled_at: datetime | None = None

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def cancel_pending(self) -> bool:
        """Cancellation asked for, not yet confirmed by a second person (the payment still counts)."""
        return self.cancel_requested_by is not None and not self.cancelled


@dataclass(frozen=True)
class PaymentList:
    """The Sammelliste of one measure type, month and site."""

    site: str
    measure_type: str
    month: str
    lines: list[PaymentLine]

    @property
    def title(self) -> str:
        return MEASURE_TYPES.get(self.measure_type, self.measure_type)

    @property
    def total_cents(self) -> int:
        """The sum to pay: cancelled payments left out."""
        return sum(line.amount_cents for line in self.lines if not line.cancelled)

    @property
    def payable_count(self) -> int:
        return sum(1 for line in self.lines if not line.cancelled)


def payment_list(session: Session, site: str, measure_type: str, month: str) -> PaymentList:
    """Collect the approved payments of a measure type for one pay month at one site."""
    rows = session.scalars(
        sa.select(PaymentListEntry)
        .where(
            PaymentListEntry.site == site,
            PaymentListEntry.measure_type == measure_type,
            PaymentListEntry.pay_month == month,
        )
        .order_by(PaymentListEntry.recipient, PaymentListEntry.id)
    )
    lines = [
        PaymentLine(
            r.business_key, r.recipient, r.amount_cents, r.approved_by,
            r.id, r.cancel_reason, r.cancel_requested_by, r.cancelled_by, r.cancelled_at,
        )
        for r in rows
    ]  # fmt: skip
    return PaymentList(site, measure_type, month, lines)


def check_selection(site: str, measure_type: str, month: str) -> None:
    """:raises FormValidationError: unknown measure type or site, or a month not written JJJJ-MM."""
    errors: dict[str, list[str]] = {}
    if measure_type not in MEASURE_TYPES:
        errors["massnahmeart"] = [f"Bitte eine Maßnahmeart wählen: {', '.join(MEASURE_TYPES)}."]
    if site not in SITES:
        errors["standort"] = ["Unbekannter Standort."]
    if not is_month(month):
        errors["monat"] = ["Bitte den Monat als JJJJ-MM angeben."]
    if errors:
        raise FormValidationError(errors)


def read(session: Session, actor: Actor, site: str, measure_type: str, month: str) -> PaymentList:
    """The Sammelliste of a measure type, month and site, for someone who may read it.

    :raises FormValidationError: :raises PermissionDeniedError:
    """
    check_selection(site, measure_type, month)
    if not permissions.may_read_payment_list(actor, site):
        raise PermissionDeniedError(f"Die Sammellisten des Standorts {site} sind für Sie nicht freigegeben.")
    return payment_list(session, site, measure_type, month)
