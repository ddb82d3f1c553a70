"""Finding a case by its number or the applicant's name, for everyone who may open cases.

A hit is a case the searcher may open (``permissions.may_view_case``: an SGB II lead finds no FB 50 case). A
name matches only where the searcher sees it in full (``permissions.sees_case_name``); elsewhere the list
shows initials and the name is not searched, so a search cannot confirm a name the searcher may not read.
Opening a hit is the case page, audited as every case view; the search itself records nothing (its terms
may be names).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, load_only

from . import case_text, permissions
from .auth import Actor
from .inbox import mask_name
from .models import ProcessInstance
from .versions import SpecCache
from .vocabulary import ALL_SITES, SITES

MIN_TERM = case_text.MIN_TERM
MAX_TERM = case_text.MAX_TERM
MAX_HITS = 50
SCANNED = 500  # candidate rows read before the permission filter
# the columns a hit needs (not the wide state)
LISTED = (ProcessInstance.id, ProcessInstance.version_id, ProcessInstance.business_key, ProcessInstance.site,
          ProcessInstance.status, ProcessInstance.applicant_name, ProcessInstance.search_name,
          ProcessInstance.updated_at)  # fmt: skip


@dataclass(frozen=True)
class CaseHit:
    """One case found, as the searcher may see it."""

    instance_id: int
    business_key: str | None
    process_name: str
    site: str
    status: str
    applicant_name: str | None
    masked: bool
    updated_at: datetime


def normalised(term: str | None) -> str:
    """The search term as typed, tidied: trimmed, single spaces, at most ``MAX_TERM`` characters."""
    return " ".join((term or "").split())[:MAX_TERM]


def search_cases(session: Session, specs: SpecCache, actor: Actor, term: str | None) -> list[CaseHit]:
    """Cases the actor may open whose number (or, where the actor sees it, applicant name) contains ``term``;
    newest change first. Terms shorter than ``MIN_TERM`` find nothing. The name is matched as the auditor's
    search matches it (``case_text``: "Müller" finds "Mueller"), through the same indexes."""
    name, key = case_text.term(term), case_text.key_term(term)
    sites = _sites(actor)
    if not (name or key) or not sites:
        return []
    dialect = session.get_bind().dialect.name
    candidates = session.scalars(
        sa.select(ProcessInstance)
        .options(load_only(*LISTED))
        .where(
            case_text.unindexed(ProcessInstance.site, dialect).in_(sites),
            case_text.name_or_key_contains(name, key, dialect),
        )
        .order_by(ProcessInstance.updated_at.desc(), ProcessInstance.id.desc())
        .limit(SCANNED)
    )
    hits: list[CaseHit] = []
    for row in candidates:
        hit = _hit(session, specs, actor, row)
        if hit is None:
            continue
        by_key = bool(key) and key in (row.business_key or "").lower()
        by_name = bool(name) and not hit.masked and name in (row.search_name or "")
        if not (by_key or by_name):
            continue
        hits.append(hit)
        if len(hits) >= MAX_HITS:
            break
    return hits


def cases_with_key(session: Session, specs: SpecCache, actor: Actor, business_key: str) -> list[CaseHit]:
    """The cases with exactly this business key (Geschäftszeichen) that the actor may open, newest first:
    before a second case with the same key is started, the person starting it sees the first."""
    rows = session.scalars(
        sa.select(ProcessInstance)
        .options(load_only(*LISTED))
        .where(ProcessInstance.business_key == business_key)
        .order_by(ProcessInstance.id.desc())
        .limit(SCANNED)
    )
    return [hit for row in rows if (hit := _hit(session, specs, actor, row)) is not None][:MAX_HITS]


def _hit(session: Session, specs: SpecCache, actor: Actor, row: ProcessInstance) -> CaseHit | None:
    """The case as the actor may see it in a list, or None if they may not open it."""
    version = specs.get(session, row.version_id)
    if not permissions.may_view_case(actor, version.lanes, row.site):
        return None
    sees_name = permissions.sees_case_name(actor, version.lanes, row.site)
    shown = row.applicant_name if sees_name else mask_name(row.applicant_name)
    masked = not sees_name and bool(row.applicant_name)
    return CaseHit(row.id, row.business_key, version.name, row.site, row.status, shown, masked, row.updated_at)


def _sites(actor: Actor) -> list[str]:
    """The sites where the actor holds any grant (every site for a grant at all of them)."""
    held = {site for _, site in actor.grants}
    return list(SITES) if ALL_SITES in held else [site for site in SITES if site in held]
