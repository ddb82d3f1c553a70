"""Cancelling a Sammelliste entry (§ 4.4 of the concept: paying people correctly).

A wrong payment is taken off its list in two steps, like it was put there (four-eyes rule): one person of
the site's EGS asks with a reason, a second one confirms – or anyone of them discards the request. The entry
stays on the list, marked as cancelled and left out of the sum; every step is audited in the case's history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from . import audit, clock, permissions
from .audit import Action
from .auth import Actor
from .errors import FormValidationError, NotFoundError, PermissionDeniedError, RuleViolationError
from .models import PaymentListEntry

REASON_MAX = 500


class CancelStep(StrEnum):
    """The steps of a cancellation (the last part of its web address)."""

    REQUEST = "beantragen"
    CONFIRM = "bestaetigen"
    DISCARD = "verwerfen"


@dataclass(frozen=True)
class ListSelection:
    """The Sammelliste an entry is on (to show it again after a step)."""

    site: str
    measure_type: str
    month: str


def _entry(session: Session, actor: Actor, entry_id: int) -> PaymentListEntry:
    """The entry, locked for the step. :raises NotFoundError: :raises PermissionDeniedError:"""
    entry = session.get(PaymentListEntry, entry_id, with_for_update=True)
    if entry is None or not permissions.may_read_payment_list(actor, entry.site):
        raise NotFoundError("Diese Zahlung gibt es auf keiner Ihrer Sammellisten.")
    if not permissions.may_cancel_payment(actor, entry.site):
        raise PermissionDeniedError(f"Zahlungen der Sammellisten des Standorts {entry.site} stornieren Sie nicht.")
    if entry.cancelled_at is not None:
        raise RuleViolationError("Diese Zahlung ist bereits storniert.")
    return entry


def _record(session: Session, action: Action, actor: Actor, entry: PaymentListEntry, reason: str | None) -> None:
    details: dict[str, Any] = {
        "eintrag": entry.id,
        "sammelliste": f"{entry.measure_type} {entry.pay_month} {entry.site}",
        "betrag_cent": entry.amount_cents,
        "grund": reason,
    }
    audit.record(session, action, actor.username, instance_id=entry.instance_id, details=details)


def request(session: Session, actor: Actor, entry_id: int, reason: str) -> ListSelection:
    """Ask for the cancellation of an entry, with a reason.

    :raises FormValidationError: no reason or a too long one. :raises RuleViolationError: already cancelled or
        asked for. :raises NotFoundError: :raises PermissionDeniedError:
    """
    entry = _entry(session, actor, entry_id)
    if entry.cancel_requested_by is not None:
        raise RuleViolationError(f"Die Stornierung ist bereits beantragt (von {entry.cancel_requested_by}).")
    reason = " ".join(reason.split())
    if not reason:
        raise FormValidationError({"grund": ["Bitte den Grund der Stornierung angeben."]})
    if len(reason) > REASON_MAX:
        raise FormValidationError({"grund": [f"Der Grund darf höchstens {REASON_MAX} Zeichen lang sein."]})
    entry.cancel_reason, entry.cancel_requested_by, entry.cancel_requested_at = reason, actor.username, clock.now()
    _record(session, Action.PAYMENT_CANCEL_REQUESTED, actor, entry, reason)
    return ListSelection(entry.site, entry.measure_type, entry.pay_month)


def _requested(session: Session, actor: Actor, entry_id: int) -> PaymentListEntry:
    entry = _entry(session, actor, entry_id)
    if entry.cancel_requested_by is None:
        raise RuleViolationError("Für diese Zahlung ist keine Stornierung beantragt.")
    return entry


def confirm(session: Session, actor: Actor, entry_id: int, _reason: str = "") -> ListSelection:
    """Confirm a requested cancellation: a second person (four-eyes rule).

    :raises PermissionDeniedError: the actor asked for it. :raises RuleViolationError: nothing asked for.
    """
    entry = _requested(session, actor, entry_id)
    if not permissions.four_eyes_allows(actor, [entry.cancel_requested_by or ""]):
        raise PermissionDeniedError(
            "Vier-Augen-Prinzip: Wer die Stornierung beantragt hat, darf sie nicht selbst bestätigen."
        )
    entry.cancelled_by, entry.cancelled_at = actor.username, clock.now()
    _record(session, Action.PAYMENT_CANCELLED, actor, entry, entry.cancel_reason)
    return ListSelection(entry.site, entry.measure_type, entry.pay_month)


def discard(session: Session, actor: Actor, entry_id: int, _reason: str = "") -> ListSelection:
    """Discard a requested cancellation (the payment stays on the list). :raises RuleViolationError:"""
    entry = _requested(session, actor, entry_id)
    _record(session, Action.PAYMENT_CANCEL_DISCARDED, actor, entry, entry.cancel_reason)
    entry.cancel_reason = entry.cancel_requested_by = entry.cancel_requested_at = None
    return ListSelection(entry.site, entry.measure_type, entry.pay_month)


STEPS: dict[CancelStep, Callable[[Session, Actor, int, str], ListSelection]] = {
    CancelStep.REQUEST: request,
    CancelStep.CONFIRM: confirm,
    CancelStep.DISCARD: discard,
}
