"""Key rotation of the audit chains: new events are signed with the new key, old ones verify with theirs, a
forgery after the rotation is found, and a lost old key is a finding that names it (issue 12)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine import audit_keys, audit_verify, clock
from engine.api import Engine
from engine.auth import system_actor
from engine.config import load_settings
from engine.errors import ConfigurationError, PermissionDeniedError
from engine.models import AuditEvent
from tests.support import pb
from tests.support.cases import CaseDriver
from tests.support.engines import make_engine
from tests.support.tampering import bypassing_guards, case_events, rehash_chain_from
from tests.test_cli import run

SYSTEM = system_actor("test")
FIRST = "egs-test-audit-key"  # the key the deployed template was written with


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "audit_key"
    path.write_text(FIRST + "\n", encoding="utf-8")  # one bare key: the format before rotation
    return path


@pytest.fixture
def keyed(deployed: Engine, db_url: str, key_file: Path) -> Iterator[Engine]:
    """An engine on the deployed database that reads its keys from ``key_file`` (anchors as ``deployed``'s)."""
    engine = make_engine(db_url, audit_key="", audit_key_file=key_file,
                         audit_anchor_dir=deployed.settings.audit_anchor_dir)  # fmt: skip
    yield engine
    engine.close()


def restarted(engine: Engine, db_url: str) -> Engine:
    """The same configuration read again, as a web or worker process does when it is restarted."""
    return make_engine(db_url, audit_key="", audit_key_file=engine.settings.audit_key_file,
                       audit_anchor_dir=engine.settings.audit_anchor_dir)  # fmt: skip


def findings(engine: Engine) -> list[tuple[str, int, str]]:
    return [(p.chain, p.event_id, p.problem) for p in engine.verify_audit(SYSTEM)]


def test_after_rotation_new_events_use_the_new_key_and_everything_verifies(keyed: Engine, db_url: str) -> None:
    case = CaseDriver(keyed, pb.PROCESS)
    case.complete(pb.ANMELDEN, pb.anmeldung())
    keyed.anchor_audit(SYSTEM)  # sealed with the first key
    old, new = keyed.rotate_audit_key(SYSTEM)
    assert old == audit_keys.key_id(FIRST.encode()) and new != old
    lines = [line for line in keyed.settings.audit_key_file.read_text().splitlines() if not line.startswith("#")]
    assert [line.split()[0] for line in lines] == [old, new] and lines[0].split()[1] == FIRST
    assert oct(keyed.settings.audit_key_file.stat().st_mode & 0o777) == "0o600"

    case.complete(pb.ANNEHMEN, pb.ANTRAGSANNAHME)
    keyed.anchor_audit(SYSTEM)  # sealed with the new key
    events = case_events(keyed, case.instance_id)
    rotation = [e for e in events if e.key_id == new]
    assert rotation and all(e.key_id == old for e in events[: events.index(rotation[0])])
    assert findings(keyed) == []
    second = restarted(keyed, db_url)
    try:
        CaseDriver.existing(second, case.instance_id).complete(pb.BG_ERFASSEN, pb.BEDARFSGEMEINSCHAFT)
        assert findings(second) == [], "a restarted process signs with the new key and checks with both"
    finally:
        second.close()
    with keyed.db.reading() as session:
        record = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "audit_key_rotated")).one()
    assert record.key_id == new and record.details == {"alter_schluessel": old, "neuer_schluessel": new}


def test_events_written_before_key_ids_verify_with_the_first_key(keyed: Engine) -> None:
    case = CaseDriver(keyed, pb.PROCESS)
    case.complete(pb.ANMELDEN, pb.anmeldung())
    with bypassing_guards(keyed) as session:  # as the rows look after the upgrade: no key id
        session.execute(sa.update(AuditEvent).values(key_id=None))
    assert findings(keyed) == []
    keyed.rotate_audit_key(SYSTEM)
    case.complete(pb.ANNEHMEN, pb.ANTRAGSANNAHME)
    assert findings(keyed) == [], "without an id: the old key of the first rotation"


def test_a_key_appended_by_hand_keeps_events_without_an_id_verifiable(keyed: Engine, db_url: str) -> None:
    case = CaseDriver(keyed, pb.PROCESS)
    with bypassing_guards(keyed) as session:
        session.execute(sa.update(AuditEvent).values(key_id=None))
    path = keyed.settings.audit_key_file
    path.write_text(path.read_text() + "von-hand-angehaengt\n")  # a bare key line, no rotation recorded
    second = restarted(keyed, db_url)
    try:
        CaseDriver.existing(second, case.instance_id).complete(pb.ANMELDEN, pb.anmeldung())
        assert case_events(second, case.instance_id)[-1].key_id == audit_keys.key_id(b"von-hand-angehaengt")
        assert findings(second) == [], "without an id: the first key of the file"
    finally:
        second.close()


def test_a_forgery_after_rotation_is_found(keyed: Engine) -> None:
    case = CaseDriver(keyed, pb.PROCESS)
    keyed.rotate_audit_key(SYSTEM)
    case.complete(pb.ANMELDEN, pb.anmeldung())
    complete = [e for e in case_events(keyed, case.instance_id) if e.action == "complete"][0]
    with bypassing_guards(keyed) as session:
        session.execute(sa.update(AuditEvent).where(AuditEvent.id == complete.id).values(actor="mallory"))
        rehash_chain_from(session, f"case:{case.instance_id}", complete.id)
    assert (f"case:{case.instance_id}", complete.id, audit_verify.CHANGED) in findings(keyed)

    start = case_events(keyed, case.instance_id)[0]
    with bypassing_guards(keyed) as session:  # only the label of the key changed: the other key does not fit
        session.execute(sa.update(AuditEvent).where(AuditEvent.id == start.id).values(key_id=complete.key_id))
    assert (f"case:{case.instance_id}", start.id, audit_verify.CHANGED) in findings(keyed)


def test_the_replaced_key_signs_only_until_every_process_is_restarted(keyed: Engine, deployed: Engine) -> None:
    case = CaseDriver(keyed, pb.PROCESS)
    old, _ = keyed.rotate_audit_key(SYSTEM)
    not_restarted = CaseDriver.existing(deployed, case.instance_id)  # still signs with the first key
    not_restarted.complete(pb.ANMELDEN, pb.anmeldung())
    assert case_events(keyed, case.instance_id)[-1].key_id == old
    assert findings(keyed) == [], "the old key a little after the rotation: a process not yet restarted"
    with clock.frozen(clock.now() + audit_verify.RETIRED_GRACE + timedelta(minutes=1)):
        not_restarted.complete(pb.ANNEHMEN, pb.ANTRAGSANNAHME)
        late = case_events(keyed, case.instance_id)[-1]
        found = findings(keyed)
    assert late.key_id == old
    assert any(chain == f"case:{case.instance_id}" and event_id == late.id and f"Schlüssel {old}" in text
               and "abgelöst" in text for chain, event_id, text in found), found  # fmt: skip


def test_a_missing_old_key_is_reported_by_its_id(keyed: Engine, db_url: str) -> None:
    case = CaseDriver(keyed, pb.PROCESS)
    keyed.anchor_audit(SYSTEM)
    old, new = keyed.rotate_audit_key(SYSTEM)
    case.complete(pb.ANMELDEN, pb.anmeldung())
    path = keyed.settings.audit_key_file
    path.write_text("\n".join(line for line in path.read_text().splitlines() if not line.startswith(old)) + "\n")
    lost = restarted(keyed, db_url)
    try:
        found = findings(lost)
        first_event = case_events(lost, case.instance_id)[0]
        with lost.db.reading() as session:
            oldest = session.scalar(sa.select(sa.func.min(AuditEvent.id)))
        assert (f"schluessel:{old}", oldest, audit_verify.missing_key(old)) in found
        assert any(chain.startswith("anker:") and f"Schlüssel {old}" in text for chain, _, text in found), found
        assert not any(event_id == first_event.id and text == audit_verify.CHANGED for _, event_id, text in found)
        anchors = str(lost.settings.audit_anchor_dir)
        result = run(db_url, "verify-audit", env={"EGS_AUDIT_KEY_FILE": str(path), "EGS_AUDIT_ANCHOR_DIR": anchors})
        assert result.exit_code == 1 and f"Schlüssel {old} fehlt" in result.output
        assert "Traceback" not in result.output
    finally:
        lost.close()


def test_rotate_key_on_the_command_line(deployed: Engine, db_url: str, key_file: Path) -> None:
    result = run(db_url, "audit", "rotate-key", env={"EGS_AUDIT_KEY_FILE": str(key_file)})
    assert result.exit_code == 0, result.output
    ring = audit_keys.parse(key_file.read_text())
    assert (
        ring[0] == FIRST
        and len(ring) == 2
        and f"Neuer Schlüssel {audit_keys.key_id(ring[1].encode())}" in result.output
    )
    anchors = str(deployed.settings.audit_anchor_dir)
    verified = run(db_url, "verify-audit", env={"EGS_AUDIT_KEY_FILE": str(key_file), "EGS_AUDIT_ANCHOR_DIR": anchors})
    assert verified.exit_code == 0, verified.output


def test_rotation_needs_the_key_file_and_the_system(deployed: Engine, db_url: str, tmp_path: Path) -> None:
    refused = run(db_url, "audit", "rotate-key", env={"EGS_AUDIT_KEY": "aus-der-umgebung",
                                                      "EGS_AUDIT_KEY_FILE": str(tmp_path / "fehlt")})  # fmt: skip
    assert refused.exit_code == 2 and "Fehler: Schlüsseldatei" in refused.output and "Traceback" not in refused.output
    with pytest.raises(PermissionDeniedError):
        deployed.rotate_audit_key(deployed.actor("audit"))


def test_a_key_file_line_whose_id_does_not_fit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit_key"
    path.write_text(audit_keys.text_of(["erster", "zweiter"]).replace("zweiter", "zweiteR"), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="Zeile 4"):
        load_settings({"env": "test", "audit_key_file": path})
    path.write_text(audit_keys.text_of(["erster", "zweiter"]), encoding="utf-8")
    settings = load_settings({"env": "test", "audit_key_file": path})
    assert settings.audit_keys == ("erster", "zweiter") and settings.audit_key == "zweiter"


def test_the_guard_keeps_the_key_id_even_with_a_removal_record(keyed: Engine) -> None:
    case = CaseDriver(keyed, pb.PROCESS)
    start = case_events(keyed, case.instance_id)[0]
    removal = {"details": {"entfernt": "jetzt", "sha256": "0" * 64}}
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with keyed.db.transaction() as session:
            session.execute(sa.update(AuditEvent).where(AuditEvent.id == start.id).values(key_id="x", **removal))
