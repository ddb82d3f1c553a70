"""Purpose first: why an auditor reads personal data, stated once per sitting (§ 67 ff. SGB X, Art. 5 DSGVO).

The purpose and a reference (Aktenzeichen, Ticket, Anfrage vom …) live on the server-side session
(``user_session``), so they end with it; every access in that sitting is recorded with them
(``engine.workbench``). Stating or changing the purpose is itself recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import audit
from .audit import Action
from .auth import Actor
from .errors import FormValidationError, PurposeRequiredError
from .models import UserSession
from .sessions import token_hash

PURPOSES = {
    "pruefung": "Prüfung (Innenrevision)",
    "auskunft": "Auskunftsersuchen nach Art. 15 DSGVO",
    "vorfall": "Datenschutzvorfall",
    "beschwerde": "Beschwerde",
    "aufsicht": "Anfrage der Aufsichtsbehörde",
    "rechtsstreit": "Rechtsstreit / gerichtliche Anforderung",
}
REFERENCE_MIN, REFERENCE_MAX = 3, 200
MISSING = "Bitte geben Sie zuerst den Zweck der Einsicht an (§ 67 ff. SGB X)."


@dataclass(frozen=True)
class Purpose:
    """The purpose of a sitting: its code, German label and the auditor's reference."""

    code: str
    reference: str
    stated_at: datetime

    @property
    def label(self) -> str:
        return PURPOSES.get(self.code, self.code)

    def details(self) -> dict[str, str]:
        """What every access of the sitting records."""
        return {"zweck": self.code, "zweck_text": self.label, "aktenzeichen": self.reference}


def checked(code: str, reference: str) -> tuple[str, str]:
    """The purpose code and reference, trimmed. :raises FormValidationError: unknown purpose, bad reference."""
    errors: dict[str, list[str]] = {}
    reference = " ".join(reference.split())
    if code not in PURPOSES:
        errors["zweck"] = ["Bitte einen Zweck aus der Liste wählen."]
    if len(reference) < REFERENCE_MIN:
        errors["aktenzeichen"] = [
            f"Bitte ein Aktenzeichen oder einen Bezug angeben (mindestens {REFERENCE_MIN} Zeichen)."
        ]
    elif len(reference) > REFERENCE_MAX:
        errors["aktenzeichen"] = [f"Höchstens {REFERENCE_MAX} Zeichen."]
    elif any(not ch.isprintable() for ch in reference):
        errors["aktenzeichen"] = ["Bitte nur druckbare Zeichen verwenden."]
    if errors:
        raise FormValidationError(errors)
    return code, reference


def state(session: Session, actor: Actor, token: str, code: str, reference: str, now: datetime) -> Purpose:
    """Record the purpose on the live session of ``token`` (and in the trail). :raises FormValidationError:"""
    code, reference = checked(code, reference)
    updated = session.execute(
        sa.update(UserSession)
        .where(UserSession.token_hash == token_hash(token), UserSession.ended_at.is_(None))
        .values(purpose=code, purpose_reference=reference, purpose_at=now)
    )
    if not getattr(updated, "rowcount", 0):
        raise PurposeRequiredError(MISSING)
    purpose = Purpose(code, reference, now)
    audit.record(session, Action.AUDIT_PURPOSE, actor.username, details=purpose.details())
    return purpose


def current(session: Session, token: str | None) -> Purpose | None:
    """The purpose stated in the live session of ``token``, if any."""
    if not token:
        return None
    row = session.execute(
        sa.select(UserSession.purpose, UserSession.purpose_reference, UserSession.purpose_at).where(
            UserSession.token_hash == token_hash(token), UserSession.ended_at.is_(None)
        )
    ).first()
    if row is None or not row[0] or row[2] is None:
        return None
    return Purpose(row[0], row[1] or "", row[2])


def required(session: Session, token: str | None) -> Purpose:
    """The sitting's purpose. :raises PurposeRequiredError: none stated yet."""
    purpose = current(session, token)
    if purpose is None:
        raise PurposeRequiredError(MISSING)
    return purpose
