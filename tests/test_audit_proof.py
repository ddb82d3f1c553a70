"""Proof that nothing was removed: a keyed chain, the case heads, anchors outside the database and guards.

Each attack of issue 12 is carried out with database rights that bypass the triggers, and verification must
name the first event that does not fit: an edit, a deletion in the middle, a cut-off tail of a case, the
newest global events deleted, a forged row with its chain re-hashed, a disabled trigger.
"""

from __future__ import annotations

import json
import stat
from datetime import timedelta

import pytest
import sqlalchemy as sa

from engine import audit, audit_verify, clock
from engine.api import Engine
from engine.audit_verify import Scope
from engine.auth import system_actor
from engine.errors import PermissionDeniedError
from engine.models import AuditEvent, ProcessInstance
from tests.support import pb
from tests.support.engines import ANCHOR_MINUTES
from tests.support.tampering import bypassing_guards, case_events, global_events, rehash_chain_from
from tests.test_cli import run

SYSTEM = system_actor("test")


def walked_case(engine: Engine) -> int:
    egs = engine.actor("egs")
    case = engine.start_case(egs, pb.PROCESS)
    pb.step(engine, egs, case.instance_id, "Besucher anmelden und Anliegen erfassen", pb.anmeldung())
    engine.case_view(egs, case.instance_id)
    return case.instance_id


def findings(engine: Engine, scope: Scope | None = None) -> list[tuple[str, int, str]]:
    return [(p.chain, p.event_id, p.problem) for p in engine.verify_audit(SYSTEM, scope)]


def test_a_clean_trail_verifies_with_the_key(deployed: Engine) -> None:
    instance_id = walked_case(deployed)
    assert findings(deployed) == []
    assert findings(deployed, Scope(instance_id=instance_id)) == []
    assert findings(deployed, Scope(site="56.4")) == []
    event = case_events(deployed, instance_id)[0]
    assert event.hash == audit.keyed_digest(event, b"egs-test-audit-key")
    assert event.hash != audit.legacy_digest(event), "the chain is keyed, not a plain SHA-256"


def test_an_edited_event_is_named(deployed: Engine) -> None:
    instance_id = walked_case(deployed)
    start, complete, _viewed = case_events(deployed, instance_id)
    with bypassing_guards(deployed) as session:
        session.execute(
            sa.update(AuditEvent).where(AuditEvent.id == complete.id).values(details={"data": {"nachname": "X"}})
        )
    assert findings(deployed) == [(f"case:{instance_id}", complete.id, audit_verify.CHANGED)]
    assert findings(deployed, Scope(instance_id=instance_id)) == [
        (f"case:{instance_id}", complete.id, audit_verify.CHANGED)
    ]


def test_a_deletion_in_the_middle_is_named(deployed: Engine) -> None:
    instance_id = walked_case(deployed)
    _start, complete, viewed = case_events(deployed, instance_id)
    with bypassing_guards(deployed) as session:
        session.execute(sa.delete(AuditEvent).where(AuditEvent.id == complete.id))
    assert findings(deployed) == [(f"case:{instance_id}", viewed.id, audit_verify.GAP)]


def test_a_deleted_last_event_of_a_case_is_named(deployed: Engine) -> None:
    """The case row keeps the head of its chain: cutting the tail leaves it pointing nowhere."""
    instance_id = walked_case(deployed)
    _start, complete, viewed = case_events(deployed, instance_id)
    with bypassing_guards(deployed) as session:
        session.execute(sa.delete(AuditEvent).where(AuditEvent.id == viewed.id))
    assert findings(deployed) == [(f"case:{instance_id}", complete.id, audit_verify.HEAD)]


def test_a_cut_tail_with_the_head_rewritten_is_found_by_the_anchor(deployed: Engine) -> None:
    """Whoever also sets the case row's head back is caught by the anchor published before."""
    instance_id = walked_case(deployed)
    _start, complete, viewed = case_events(deployed, instance_id)
    deployed.anchor_audit(SYSTEM)
    with bypassing_guards(deployed) as session:
        session.execute(sa.delete(AuditEvent).where(AuditEvent.id == viewed.id))
        session.execute(
            sa.update(ProcessInstance).where(ProcessInstance.id == instance_id).values(audit_head=complete.hash)
        )
    [(chain, event_id, problem)] = findings(deployed)
    assert (chain, event_id) == (f"case:{instance_id}", viewed.id)
    assert problem.startswith(f"Ereignis {viewed.id} fehlt oder wurde verändert – verankert am ")
    assert problem.endswith(f"(letztes vorhandenes Ereignis der Kette: {complete.id})")


def test_the_newest_global_events_deleted_are_found_by_the_anchor(deployed: Engine) -> None:
    walked_case(deployed)
    deployed.export(deployed.actor("egs"), "raci", {})
    deployed.anchor_audit(SYSTEM)  # the anchor event itself is the newest global event now
    newest = global_events(deployed)[-3:]
    anchored_head = newest[-2]  # anchor_audit records its event after writing the anchor
    with bypassing_guards(deployed) as session:
        session.execute(sa.delete(AuditEvent).where(AuditEvent.id.in_([e.id for e in newest])))
    found = findings(deployed)
    assert [(chain, event_id) for chain, event_id, _ in found] == [("global", anchored_head.id)]
    assert "verankert am" in found[0][2]


def test_a_forged_row_with_the_chain_rehashed_is_named(deployed: Engine) -> None:
    """Without the key a forger can only guess: re-hashing the whole rest of the chain does not verify."""
    instance_id = walked_case(deployed)
    start, _complete, _viewed = case_events(deployed, instance_id)
    with bypassing_guards(deployed) as session:
        session.execute(sa.update(AuditEvent).where(AuditEvent.id == start.id).values(actor="mallory"))
        rehash_chain_from(session, f"case:{instance_id}", start.id)
    assert findings(deployed) == [(f"case:{instance_id}", start.id, audit_verify.CHANGED)]


def test_a_chain_rehashed_unkeyed_is_named_unless_it_predates_the_key(deployed: Engine) -> None:
    """Events written before the chain was keyed verify only before the epoch marker ``init-db`` writes."""
    instance_id = walked_case(deployed)
    start = case_events(deployed, instance_id)[0]
    with bypassing_guards(deployed) as session:  # as if written by the former, unkeyed version
        for chain in session.scalars(sa.select(AuditEvent.chain).distinct()).all():
            first = session.scalar(sa.select(sa.func.min(AuditEvent.id)).where(AuditEvent.chain == chain))
            rehash_chain_from(session, chain, first, digest="legacy")
    assert (f"case:{instance_id}", start.id, audit_verify.CHANGED) in findings(deployed)
    with deployed.db.transaction() as session:
        assert audit.begin_key_epoch(session)
        assert not audit.begin_key_epoch(session), "one marker is enough"
    assert findings(deployed) == []
    newer_id = walked_case(deployed)  # new events are keyed after the marker
    later = case_events(deployed, newer_id)[-1]
    assert later.hash == audit.keyed_digest(later, b"egs-test-audit-key")
    with bypassing_guards(deployed) as session:  # a forger re-hashing after the marker is caught
        rehash_chain_from(session, f"case:{newer_id}", later.id, digest="legacy")
    assert findings(deployed) == [(f"case:{newer_id}", later.id, audit_verify.CHANGED)]


def test_a_disabled_trigger_is_named(deployed: Engine) -> None:
    walked_case(deployed)
    with deployed.db.transaction() as session:
        postgres = session.get_bind().dialect.name == "postgresql"
        if postgres:
            session.execute(sa.text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change"))
            name = "audit_event_no_change"
        else:
            session.execute(sa.text("DROP TRIGGER audit_event_no_delete"))
            name = "audit_event_no_delete"
    try:
        assert findings(deployed) == [("schutz", 0, f"Schutz-Trigger {name} fehlt oder ist abgeschaltet")]
    finally:
        if postgres:  # the worker's schema outlives the test (its rows are reset, not its DDL)
            with deployed.db.transaction() as session:
                session.execute(sa.text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_change"))


def test_anchors_are_files_outside_the_database_with_a_daily_protocol(deployed: Engine) -> None:
    instance_id = walked_case(deployed)
    first = deployed.anchor_audit(SYSTEM)
    directory = deployed.settings.audit_anchor_dir
    assert first.path.parent == directory and not first.path.stat().st_mode & stat.S_IWUSR, "read-only"
    body = json.loads(first.path.read_text(encoding="utf-8"))
    last = case_events(deployed, instance_id)[-1]
    assert body["ketten"][f"case:{instance_id}"] == {"ereignis": last.id, "hash": last.hash}
    second = deployed.anchor_audit(SYSTEM)  # only what grew since: the global chain (the first anchor's event)
    assert list(json.loads(second.path.read_text(encoding="utf-8"))["ketten"]) == ["global"]
    protocol = first.protocol.read_text(encoding="utf-8")
    assert protocol.startswith("Prüfprotokoll Audit-Trail vom ") and protocol.count("Anker ") == 2
    assert f"case:{instance_id}: Ereignis {last.id} {last.hash}" in protocol
    assert findings(deployed) == []


def test_a_changed_anchor_file_is_a_finding(deployed: Engine) -> None:
    walked_case(deployed)
    written = deployed.anchor_audit(SYSTEM)
    written.path.chmod(0o644)
    body = json.loads(written.path.read_text(encoding="utf-8"))
    body["bis_ereignis"] = 1
    written.path.write_text(json.dumps(body), encoding="utf-8")
    assert findings(deployed) == [(f"anker:{written.path.name}", 0, "Ankerdatei wurde verändert (Siegel passt nicht)")]


def test_the_worker_anchors_on_its_schedule(deployed: Engine) -> None:
    walked_case(deployed)
    deployed.housekeeping()
    deployed.housekeeping()  # within the interval: no second anchor
    files = sorted(deployed.settings.audit_anchor_dir.glob("anker-*.json"))
    assert len(files) == 1


def test_anchoring_and_verifying_are_for_audit_only(deployed: Engine) -> None:
    with pytest.raises(PermissionDeniedError):
        deployed.anchor_audit(deployed.actor("egs"))
    with pytest.raises(PermissionDeniedError):
        deployed.verify_audit(deployed.actor("tl"), Scope(site="56.4"))
    assert deployed.verify_audit(deployed.actor("audit"), Scope(site="56.4")) == []


def test_a_trail_never_anchored_is_a_finding_once_its_events_are_due(deployed: Engine, db_url: str) -> None:
    walked_case(deployed)
    assert findings(deployed) == [], "younger than the anchor interval: not yet due"
    with deployed.db.reading() as session:
        oldest = session.scalar(sa.select(sa.func.min(AuditEvent.id)))
    later = clock.now() + timedelta(minutes=ANCHOR_MINUTES + 1)
    with clock.frozen(later):
        found = findings(deployed)
        site = findings(deployed, Scope(site="56.4"))
        result = run(db_url, "verify-audit", env={"EGS_AUDIT_ANCHOR_DIR": str(deployed.settings.audit_anchor_dir)})
    assert [(chain, event_id) for chain, event_id, _ in found] == [(audit_verify.NOT_ANCHORED_CHAIN, oldest)]
    assert found[0][2].startswith("Es gibt noch keinen Anker") and "egs audit anchor" in found[0][2]
    assert [chain for chain, _, _ in site] == [audit_verify.NOT_ANCHORED_CHAIN], "the site's case chains too"
    assert result.exit_code == 1 and "Kette verankerung" in result.output and "keinen Anker" in result.output


def test_anchoring_that_stopped_is_a_finding_and_a_fresh_anchor_clears_it(deployed: Engine) -> None:
    walked_case(deployed)
    deployed.anchor_audit(SYSTEM)
    anchored_at = global_events(deployed)[-1]  # the anchor's own event: in the next anchor only
    assert findings(deployed) == []
    with clock.frozen(clock.now() + timedelta(minutes=ANCHOR_MINUTES + 1)):
        stale = findings(deployed)
        assert [(chain, event_id) for chain, event_id, _ in stale] == [
            (audit_verify.NOT_ANCHORED_CHAIN, anchored_at.id)
        ]
        assert stale[0][2].startswith("Der letzte Anker ist zu alt")
        deployed.anchor_audit(SYSTEM)
        assert findings(deployed) == []


def test_a_fresh_install_without_events_needs_no_anchor(engine: Engine) -> None:
    with engine.db.reading() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0
    with clock.frozen(clock.now() + timedelta(days=30)):
        assert engine.verify_audit(SYSTEM) == []


def test_production_needs_an_audit_key_outside_the_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from engine.config import load_settings
    from engine.errors import ConfigurationError

    base = {"env": "production", "secret_key": "s" * 32, "audit_key_file": tmp_path / "fehlt"}
    with pytest.raises(ConfigurationError, match="EGS_AUDIT_KEY"):
        load_settings(base)
    (tmp_path / "schluessel").write_text("geheim\n", encoding="utf-8")
    assert load_settings({**base, "audit_key_file": tmp_path / "schluessel"}).audit_key == "geheim"
    assert load_settings({**base, "audit_key": "direkt"}).audit_key == "direkt"
