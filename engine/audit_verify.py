"""Verify the audit trail: every chain re-computed with the key, the case heads, and the published anchors.

A finding names the chain and the first event that does not fit. What is found:
- an event whose content was changed, or which was re-computed without the key (``Inhalt …``);
- a gap: an event's predecessor is missing or was changed (deleted or reordered events);
- a cut-off tail: the case row's head (``audit_head``) or a published anchor (``audit_anchors``) names an event
  that is no longer there, or no longer has that hash;
- details removed without a deletion record of retention in the same chain.
Unkeyed events (SHA-256 only) are accepted only before the epoch marker (``audit.begin_key_epoch``).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .audit import GENESIS, Action, key_of, keyed_digest, keys_of, legacy_digest, redacted
from .audit_keys import key_id
from .clock import BERLIN
from .models import AuditEvent, ProcessInstance

CHANGED = "Inhalt wurde verändert oder ohne den Schlüssel neu berechnet"
GAP = "Vorgänger fehlt oder wurde verändert (Ereignis davor gelöscht oder verändert)"
HEAD = "Letztes Ereignis des Vorgangs fehlt (der Vorgang nennt ein anderes Ende der Kette)"
NO_RECORD = "Inhalt entfernt, aber kein Löschprotokoll in der Kette"
NOT_ANCHORED_CHAIN = "verankerung"  # the finding that anchoring did not run


RETIRED_GRACE = timedelta(days=1)  # how long processes not yet restarted may sign with the replaced key


def retired_key(kid: str, at: datetime) -> str:
    return (f"mit Schlüssel {kid} signiert, der am {at.astimezone(BERLIN):%d.%m.%Y %H:%M} abgelöst wurde"
            " (Fälschung mit einem alten Schlüssel?)")  # fmt: skip


def missing_key(kid: str) -> str:
    return (f"Schlüssel {kid} fehlt in der Schlüsseldatei (EGS_AUDIT_KEY_FILE): die Ereignisse, die er signiert hat,"
            " lassen sich nicht prüfen – den alten Schlüssel wieder eintragen")  # fmt: skip


GUARDS = {
    "postgresql": ("audit_event_no_change", "audit_event_no_truncate"),
    "sqlite": ("audit_event_no_update", "audit_event_no_delete"),
}


@dataclass(frozen=True)
class ChainProblem:
    """One finding: the chain, the first event that does not fit (0: none left) and what is wrong."""

    chain: str
    event_id: int
    problem: str


@dataclass(frozen=True)
class Anchored:
    """A chain head published outside the database: the last event then, its hash, and when."""

    event_id: int
    hash: str
    at: str  # TT.MM.JJJJ HH:MM, for the finding


@dataclass(frozen=True)
class Scope:
    """What to verify: everything (no fields), one case, or the cases of one site (their chains only)."""

    instance_id: int | None = None
    site: str | None = None

    @property
    def everything(self) -> bool:
        return self.instance_id is None and self.site is None


@dataclass(frozen=True)
class AnchorDue:
    """Events older than ``interval`` before ``now`` must be in an anchor: else anchoring did not run, and a tail
    cut off behind the last anchor (or with no anchor at all) would go unnoticed."""

    interval: timedelta
    now: datetime


def verify(
    session: Session,
    scope: Scope | None = None,
    anchors: Mapping[str, Anchored] | None = None,
    due: AnchorDue | None = None,
) -> list[ChainProblem]:
    """Recompute the chains in ``scope`` and compare them with the case heads and ``anchors``; with ``due``, every
    event older than its interval must be covered by an anchor of its chain."""
    scope = scope or Scope()
    anchored = anchors or {}
    unanchored: dict[str, int] = {}  # chain → its first event that is old enough and in no anchor
    keys = keys_of(session)
    original = _original_key_id(session)
    retired = _retired_keys(session)
    epoch = session.scalar(sa.select(sa.func.min(AuditEvent.id)).where(AuditEvent.action == Action.AUDIT_KEY_EPOCH))
    problems: list[ChainProblem] = []
    last: dict[str, tuple[int, str]] = {}
    first_redacted: dict[str, int] = {}
    deletion_records: set[str] = set()
    query = sa.select(AuditEvent).order_by(AuditEvent.id)
    if scope.instance_id is not None:
        query = query.where(AuditEvent.chain == f"case:{scope.instance_id}")
    elif scope.site is not None:
        cases = sa.select(ProcessInstance.id).where(ProcessInstance.site == scope.site)
        query = query.where(AuditEvent.instance_id.in_(cases), AuditEvent.chain.startswith("case:"))
    found: set[str] = set()
    for event in session.scalars(query.execution_options(yield_per=1000)):
        chain = event.chain
        expected_prev = last.get(chain, (0, GENESIS))[1]
        if event.prev_hash != expected_prev:
            _once(problems, found, chain, event.id, GAP)
        kid = event.key_id or original
        key = keys.get(kid)
        if key is None:
            _once(problems, found, f"schluessel:{kid}", event.id, missing_key(kid))
        elif not hmac.compare_digest(keyed_digest(event, key), event.hash):
            unkeyed_ok = epoch is not None and event.id < epoch and legacy_digest(event) == event.hash
            if not unkeyed_ok and not (epoch is not None and event.id < epoch and redacted(event.details)):
                _once(problems, found, chain, event.id, CHANGED)
        elif (at := retired.get(kid)) is not None and event.occurred_at > at + RETIRED_GRACE:
            _once(problems, found, chain, event.id, retired_key(kid, at))
        if due is not None and chain not in unanchored and event.occurred_at < due.now - due.interval:
            head = anchored.get(chain)
            if head is None or event.id > head.event_id:
                unanchored[chain] = event.id
        if redacted(event.details):
            first_redacted.setdefault(chain, event.id)
        if event.action == Action.RETENTION_DELETED:
            deletion_records.add(chain)
        last[chain] = (event.id, event.hash)
    for chain, event_id in first_redacted.items():
        if chain not in deletion_records:
            _once(problems, found, chain, event_id, NO_RECORD)
    problems.extend(_guard_problems(session))
    problems.extend(_head_problems(session, scope, last, found))
    problems.extend(_anchor_problems(session, scope, last, anchored))
    if due is not None and unanchored:
        problems.append(_not_anchored(unanchored, due, bool(anchored)))
    return sorted(problems, key=lambda p: (p.event_id == 0, p.event_id, p.chain))


def _not_anchored(unanchored: Mapping[str, int], due: AnchorDue, any_anchor: bool) -> ChainProblem:
    """One finding for every chain with old events outside the anchors, named at the oldest such event."""
    first = min(unanchored.values())
    minutes = int(due.interval.total_seconds() // 60)
    what = "Es gibt noch keinen Anker" if not any_anchor else "Der letzte Anker ist zu alt"
    return ChainProblem(
        NOT_ANCHORED_CHAIN,
        first,
        f"{what}: {len(unanchored)} Kette(n) haben Ereignisse, die älter als {minutes} Minuten und in keinem Anker"
        f" sind (erstes: Ereignis {first}). Ein abgeschnittenes Ende fiele so nicht auf – 'egs audit anchor'"
        " ausführen und prüfen, ob der Timer-Worker läuft.",
    )


def _retired_keys(session: Session) -> dict[str, datetime]:
    """Key id → when a rotation replaced it: events it signs later than ``RETIRED_GRACE`` after that are forged
    (a leaked old key must not keep signing)."""
    rows = session.execute(
        sa.select(AuditEvent.occurred_at, AuditEvent.details).where(AuditEvent.action == Action.AUDIT_KEY_ROTATED)
        .order_by(AuditEvent.id)
    ).all()  # fmt: skip
    retired: dict[str, datetime] = {}
    for at, details in rows:
        retired.setdefault(str(details.get("alter_schluessel")), at)
    return retired


def _original_key_id(session: Session) -> str:
    """The key that signed the events without a key id: the old key of the first rotation, or (no rotation
    recorded, e.g. a key appended to the file by hand) the first key of the key file."""
    first = session.scalar(
        sa.select(AuditEvent.details).where(AuditEvent.action == Action.AUDIT_KEY_ROTATED).order_by(AuditEvent.id)
        .limit(1)
    )  # fmt: skip
    if first and first.get("alter_schluessel"):
        return str(first["alter_schluessel"])
    return next(iter(keys_of(session)), key_id(key_of(session)))


def _once(problems: list[ChainProblem], found: set[str], chain: str, event_id: int, problem: str) -> None:
    """Report each chain's first broken event (and each kind of finding once per chain)."""
    if f"{chain}|{problem}" in found:
        return
    found.add(f"{chain}|{problem}")
    problems.append(ChainProblem(chain, event_id, problem))


def _guard_problems(session: Session) -> list[ChainProblem]:
    """The triggers that refuse changes must be there and switched on (a disabled one is a finding of its own)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        rows = session.execute(
            sa.text("SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'audit_event'::regclass")
        ).all()
        enabled = {str(row[0]) for row in rows if row[1] != "D"}
    else:
        enabled = set(session.scalars(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
    return [
        ChainProblem("schutz", 0, f"Schutz-Trigger {name} fehlt oder ist abgeschaltet")
        for name in GUARDS.get(dialect, ())
        if name not in enabled
    ]


def _head_problems(
    session: Session, scope: Scope, last: Mapping[str, tuple[int, str]], found: set[str]
) -> list[ChainProblem]:
    """Each case row keeps the hash of its chain's last event: a deleted tail leaves it pointing nowhere."""
    query = sa.select(ProcessInstance.id, ProcessInstance.audit_head).where(ProcessInstance.audit_head.is_not(None))
    if scope.instance_id is not None:
        query = query.where(ProcessInstance.id == scope.instance_id)
    elif scope.site is not None:
        query = query.where(ProcessInstance.site == scope.site)
    problems = []
    for instance_id, head in session.execute(query):
        chain = f"case:{instance_id}"
        event_id, last_hash = last.get(chain, (0, GENESIS))
        if head != last_hash:
            problems.append(ChainProblem(chain, event_id, HEAD))
    return problems


def _anchor_problems(
    session: Session, scope: Scope, last: Mapping[str, tuple[int, str]], anchors: Mapping[str, Anchored]
) -> list[ChainProblem]:
    """Every anchored head must still be in its chain with the same hash."""
    site_cases: set[int] = set()
    if scope.site is not None:
        site_cases = set(session.scalars(sa.select(ProcessInstance.id).where(ProcessInstance.site == scope.site)))
    wanted = {chain: anchored for chain, anchored in anchors.items() if _in_scope(scope, site_cases, chain)}
    if not wanted:
        return []
    rows = session.execute(
        sa.select(AuditEvent.id, AuditEvent.hash).where(AuditEvent.id.in_([a.event_id for a in wanted.values()]))
    ).all()
    present = {int(row[0]): str(row[1]) for row in rows}
    problems = []
    for chain, anchored in sorted(wanted.items(), key=lambda item: item[1].event_id):
        if present.get(anchored.event_id) == anchored.hash:
            continue
        tail = last.get(chain, (0, GENESIS))[0]
        problems.append(
            ChainProblem(
                chain,
                anchored.event_id,
                f"Ereignis {anchored.event_id} fehlt oder wurde verändert – verankert am {anchored.at}"
                f" (letztes vorhandenes Ereignis der Kette: {tail or 'keins'})",
            )
        )
    return problems


def _in_scope(scope: Scope, site_cases: set[int], chain: str) -> bool:
    if scope.everything:
        return True
    if not chain.startswith("case:"):
        return False
    instance_id = int(chain.split(":", 1)[1])
    if scope.instance_id is not None:
        return instance_id == scope.instance_id
    return instance_id in site_cases
