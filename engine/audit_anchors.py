"""Anchors: the heads of the audit chains, published outside the database (``EGS_AUDIT_ANCHOR_DIR``).

``write_anchor`` adds one file ``anker-<UTC time>.json`` (created exclusively, then read-only) with the head of
every chain that grew since the previous anchor (the first anchor: every chain), sealed with an HMAC of the
audit key, and appends a printable block to the day's ``pruefprotokoll-JJJJ-MM-TT.txt``. Nothing is ever
rewritten; keep the directory on append-only storage (``chattr +a``, WORM share, or print the protocol).
``load_anchors`` merges every anchor into the newest head per chain for ``audit_verify``; an anchor whose seal
does not match is itself a finding.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .audit_keys import key_id
from .audit_verify import Anchored, ChainProblem
from .clock import BERLIN
from .models import AuditEvent

PREFIX = "anker-"
STAMP = "%Y%m%dT%H%M%S%fZ"


@dataclass(frozen=True)
class AnchorWritten:
    """What ``write_anchor`` published: the file, up to which event and how many chain heads."""

    path: Path
    up_to: int
    chains: int
    protocol: Path


def _seal(key: bytes, body: dict[str, Any]) -> str:
    return hmac.new(key, json.dumps(body, sort_keys=True, separators=(",", ":")).encode(), hashlib.sha256).hexdigest()


def _anchor_files(directory: Path) -> list[Path]:
    return sorted(directory.glob(f"{PREFIX}*.json")) if directory.is_dir() else []


def _previous_up_to(directory: Path) -> int:
    files = _anchor_files(directory)
    if not files:
        return 0
    return int(json.loads(files[-1].read_text(encoding="utf-8"))["bis_ereignis"])


def write_anchor(session: Session, directory: Path, key: bytes, now: datetime) -> AnchorWritten:
    """Publish the heads of the chains that grew since the previous anchor (see module doc)."""
    directory.mkdir(parents=True, exist_ok=True)
    after = _previous_up_to(directory)
    newest = sa.select(AuditEvent.chain, sa.func.max(AuditEvent.id).label("last")).where(AuditEvent.id > after)
    newest_sq = newest.group_by(AuditEvent.chain).subquery()
    rows = session.execute(
        sa.select(AuditEvent.chain, AuditEvent.id, AuditEvent.hash).join(newest_sq, AuditEvent.id == newest_sq.c.last)
    ).all()
    up_to = max([after, *(row.id for row in rows)])
    body = {
        "version": 1,
        "erstellt": now.isoformat(),
        "bis_ereignis": up_to,
        "schluessel": key_id(key),
        "ketten": {row.chain: {"ereignis": row.id, "hash": row.hash} for row in sorted(rows, key=lambda r: r.id)},
    }
    text = json.dumps({**body, "siegel": _seal(key, body)}, sort_keys=True, indent=1, ensure_ascii=False)
    path = directory / f"{PREFIX}{now.astimezone(BERLIN).replace(tzinfo=None).strftime(STAMP)}.json"
    with path.open("x", encoding="utf-8") as handle:  # never overwrite an anchor
        handle.write(text)
    path.chmod(0o444)
    protocol = _append_protocol(directory, path, body, hashlib.sha256(text.encode()).hexdigest(), now)
    return AnchorWritten(path, up_to, len(rows), protocol)


def _append_protocol(directory: Path, anchor: Path, body: dict[str, Any], checksum: str, now: datetime) -> Path:
    """Append a printable block to the day's Prüfprotokoll (opened for appending only)."""
    local = now.astimezone(BERLIN)
    path = directory / f"pruefprotokoll-{local:%Y-%m-%d}.txt"
    lines = []
    if not path.exists():
        lines += [f"Prüfprotokoll Audit-Trail vom {local:%d.%m.%Y}", "=" * 44, ""]
    chains: dict[str, dict[str, Any]] = body["ketten"]
    global_head = chains.get("global")
    lines += [
        f"Anker {local:%H:%M:%S} Uhr – Datei {anchor.name}",
        f"  bis Ereignis {body['bis_ereignis']}, {len(chains)} Kette(n) fortgeschrieben,"
        f" Schlüssel {body['schluessel']}",
        f"  Prüfsumme der Ankerdatei (SHA-256): {checksum}",
    ]
    if global_head:
        lines.append(f"  globale Kette: Ereignis {global_head['ereignis']} {global_head['hash']}")
    lines += [f"  {chain}: Ereignis {head['ereignis']} {head['hash']}" for chain, head in chains.items()
              if chain != "global"]  # fmt: skip
    lines.append("")
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def load_anchors(directory: Path, keys: Mapping[str, bytes]) -> tuple[dict[str, Anchored], list[ChainProblem]]:
    """The newest anchored head per chain, and findings about the anchors themselves (broken seal, or sealed
    with a key that is not among ``keys``, by id)."""
    heads: dict[str, Anchored] = {}
    problems: list[ChainProblem] = []
    for path in _anchor_files(directory):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            seal = data.pop("siegel")
        except (ValueError, KeyError):
            problems.append(ChainProblem(f"anker:{path.name}", 0, "Ankerdatei ist unlesbar"))
            continue
        key = keys.get(str(data.get("schluessel")))
        if key is None:
            missing = (
                f"Ankerdatei ist mit Schlüssel {data.get('schluessel')} gesiegelt, der in der Schlüsseldatei fehlt"
            )
            problems.append(ChainProblem(f"anker:{path.name}", 0, missing))
            continue
        if not hmac.compare_digest(_seal(key, data), str(seal)):
            problems.append(ChainProblem(f"anker:{path.name}", 0, "Ankerdatei wurde verändert (Siegel passt nicht)"))
            continue
        at = datetime.fromisoformat(data["erstellt"]).astimezone(BERLIN).strftime("%d.%m.%Y %H:%M")
        for chain, head in data["ketten"].items():
            heads[chain] = Anchored(int(head["ereignis"]), str(head["hash"]), at)
    return heads, problems


@dataclass(frozen=True)
class LatestAnchor:
    """The newest anchor file as the page *Prüfung* names it (its seal is checked by the verification)."""

    name: str
    written: datetime
    up_to: int


def latest(directory: Path) -> LatestAnchor | None:
    """The newest anchor in ``directory``, None if there is none (or it cannot be read: verification says why)."""
    files = _anchor_files(directory)
    if not files:
        return None
    try:
        data = json.loads(files[-1].read_text(encoding="utf-8"))
        return LatestAnchor(files[-1].name, datetime.fromisoformat(data["erstellt"]), int(data["bis_ereignis"]))
    except (OSError, ValueError, KeyError):
        return None


def anchor_due(directory: Path, interval: timedelta, now: datetime) -> bool:
    """True if no anchor was written within ``interval`` before ``now``."""
    files = _anchor_files(directory)
    if not files:
        return True
    written = datetime.fromtimestamp(files[-1].stat().st_mtime, tz=now.tzinfo)
    return now - written >= interval
