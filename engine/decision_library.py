"""The deployed decision tables (DMN) a model may call: which decisions exist, and in which file.

A business rule task names a decision (``spiffworkflow:calledDecisionId``). A deployed version keeps the DMN
files it needs among its resources; the live decision tables (``decisions``) and the DMN files of the newest
versions of all processes are the platform's library of decisions. The modeller offers those decisions, and a
draft that calls one its live version does not yet carry gets that decision's file from the library when it is
tried or deployed (``drafts.model_files``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from lxml import etree
from sqlalchemy.orm import Session

from .errors import ModelError
from .models import DecisionVersion, ProcessVersion
from .safe_xml import parse_model_xml
from .versions import newest_version_ids

_CALLED = re.compile(r"<(?:[\w.-]+:)?calledDecisionId>\s*([^<\s]+)\s*</")


@dataclass(frozen=True)
class Decision:
    """A decision of a deployed DMN file."""

    id: str
    name: str
    filename: str


def decisions_in(filename: str, text: str) -> list[Decision]:
    """The decisions of a stored DMN text (checked at its deploy; parsed by the safe loader again all the same)."""
    content = text.encode("utf-8")
    try:
        tree = parse_model_xml(content, filename, "dmn", len(content))
    except ModelError:  # a stored file the loader refuses offers nothing; a deploy that needs it reports it
        return []
    found: list[etree._Element] = tree.getroot().xpath("//*[local-name()='decision']")
    return [Decision(str(d.get("id", "")), " ".join((d.get("name") or d.get("id", "")).split()), filename)
            for d in found if d.get("id")]  # fmt: skip


def library(session: Session) -> dict[str, str]:
    """The DMN files (name → text) of the platform: the live version of every decision table deployed as such
    (``decision_version``), and any other DMN file the newest version of a process carries."""
    rows = session.scalars(
        sa.select(ProcessVersion.resources)
        .where(ProcessVersion.id.in_(newest_version_ids()))
        .order_by(ProcessVersion.id)
    ).all()
    files = {name: text for resources in rows for name, text in resources.items() if name.lower().endswith(".dmn")}
    live = sa.select(sa.func.max(DecisionVersion.id)).group_by(DecisionVersion.filename)
    files.update((name, xml) for name, xml in session.execute(sa.select(DecisionVersion.filename, DecisionVersion.xml)
                                 .where(DecisionVersion.id.in_(live))).all())  # fmt: skip
    return files


def deployed(session: Session) -> list[Decision]:
    """Every decision of the library, by name."""
    found = [d for name, text in library(session).items() for d in decisions_in(name, text)]
    return sorted({d.id: d for d in found}.values(), key=lambda d: (d.name.casefold(), d.id))


def called(xml: str) -> set[str]:
    """The decision ids a BPMN text calls."""
    return set(_CALLED.findall(xml))
